"""Mail transports: SES v2 in AWS, SMTP for development and self-hosting. One recipient per call.

Both take an :class:`OutgoingMail` (already rendered, already checked) and return the
provider's message id, or raise :class:`MailRefused` (this mail will never go: bad address,
rejected content, suppressed account) or :class:`MailDeferred` (try again later: throttling,
network). They know nothing of tenants beyond the tags they carry.

SES builds the MIME message itself from the Simple content (it adds ``Date`` and
``Message-ID``); SMTP gets a message built here with the same headers: ``Date``,
``Message-ID``, RFC 2047-encoded ``Subject`` and ``From`` display name, a text part and an
HTML alternative. No open or click tracking anywhere: reads are counted by our own pages.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

from chalicelib.adapters import clock
from chalicelib.config import settings

if TYPE_CHECKING:
    from email.message import EmailMessage

_TAG_VALUE = re.compile(r"[^A-Za-z0-9_-]")


class MailRefused(Exception):
    """The provider will never deliver this mail as it is."""


class MailDeferred(Exception):
    """The provider could not take the mail now; sending again later may work."""


@dataclass(frozen=True)
class OutgoingMail:
    sender_name: str
    sender_address: str
    recipient: str
    subject: str
    text: str
    html: str
    tags: dict[str, str] = field(default_factory=dict)
    reply_to: str | None = None

    @property
    def from_header(self) -> str:
        """``"Théâtre des Célestins" <billetterie@...>`` with the name RFC 2047-encoded when needed."""
        from email.utils import formataddr

        return formataddr((self.sender_name, self.sender_address), charset="utf-8")


def tag_value(value: str) -> str:
    """SES tag values allow only ``[A-Za-z0-9_-]`` (256 chars max)."""
    return _TAG_VALUE.sub("_", value)[:256]


class MailTransport(Protocol):
    def send(self, mail: OutgoingMail) -> str: ...


class SesTransport:
    """SES v2 ``SendEmail`` with Simple content, the stage's configuration set and tags."""

    def __init__(self, client, configuration_set: str | None) -> None:
        self._client = client
        self._configuration_set = configuration_set

    def request(self, mail: OutgoingMail) -> dict:
        charset = "UTF-8"
        request = {
            "FromEmailAddress": mail.from_header,
            "Destination": {"ToAddresses": [mail.recipient]},
            "Content": {"Simple": {
                "Subject": {"Data": mail.subject, "Charset": charset},
                "Body": {"Text": {"Data": mail.text, "Charset": charset},
                         "Html": {"Data": mail.html, "Charset": charset}},
            }},
            "EmailTags": [{"Name": tag_value(name), "Value": tag_value(value)} for name, value in mail.tags.items()],
        }
        if mail.reply_to:
            request["ReplyToAddresses"] = [mail.reply_to]
        if self._configuration_set:
            request["ConfigurationSetName"] = self._configuration_set
        return request

    def send(self, mail: OutgoingMail) -> str:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self._client.send_email(**self.request(mail))["MessageId"]
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in {"TooManyRequestsException", "LimitExceededException", "Throttling",
                        "InternalFailure", "ServiceUnavailable"}:
                raise MailDeferred(code) from error
            raise MailRefused(f"{code}: {error.response.get('Error', {}).get('Message', '')}") from error
        except BotoCoreError as error:
            raise MailDeferred(str(error)) from error


def mime_message(mail: OutgoingMail) -> "EmailMessage":
    """The MIME message SMTP sends: text part, HTML alternative, complete headers."""
    from email.headerregistry import Address
    from email.message import EmailMessage
    from email.utils import format_datetime, make_msgid

    message = EmailMessage()
    message["From"] = mail.from_header
    message["To"] = mail.recipient
    message["Subject"] = mail.subject
    message["Date"] = format_datetime(clock.now())
    message["Message-ID"] = make_msgid(domain=Address(addr_spec=mail.sender_address).domain)
    if mail.reply_to:
        message["Reply-To"] = mail.reply_to
    for name, value in mail.tags.items():
        message[f"X-Ticketing-{tag_value(name).title()}"] = tag_value(value)
    message.set_content(mail.text, charset="utf-8")
    message.add_alternative(mail.html, subtype="html", charset="utf-8")
    return message


class SmtpTransport:
    """Plain SMTP (development inbox, or a self-hosted relay); the Message-ID is the provider id."""

    def __init__(self, host: str, port: int, timeout: float = 10) -> None:
        self._host, self._port, self._timeout = host, port, timeout

    def send(self, mail: OutgoingMail) -> str:
        import smtplib

        message = mime_message(mail)
        try:
            with smtplib.SMTP(self._host, self._port, timeout=self._timeout) as smtp:
                smtp.send_message(message)
        except smtplib.SMTPRecipientsRefused as error:
            raise MailRefused(str(error)) from error
        except (smtplib.SMTPException, OSError) as error:
            raise MailDeferred(str(error)) from error
        return message["Message-ID"].strip("<>")


def configured_transport() -> MailTransport:
    if settings.mail_transport == "smtp":
        return SmtpTransport(settings.smtp_host, settings.smtp_port)
    from chalicelib.adapters.aws import client

    return SesTransport(client("sesv2"), settings.ses_configuration_set)
