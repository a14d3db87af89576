"""The standing of each address a tenant mails (the ``MailRecipient`` table): known to bounce,
or complained. SES events set it (:func:`mark`); every sender consults it before mailing
(:func:`blocked_reason`), so an address that bounced is not mailed again until fixed."""
from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.models.base import tenant_key
from chalicelib.models.mail import MailRecipient

UNDELIVERABLE, COMPLAINED = "undeliverable", "complained"


def standing_of(tenant_id: str, address: str) -> MailRecipient | None:
    """What the mail system learned of ``address`` (``None``: nothing bad so far)."""
    try:
        return MailRecipient.get(tenant_key(tenant_id, address.lower()))
    except DoesNotExist:
        return None


def blocked_reason(tenant_id: str, address: str, essential: bool) -> str | None:
    """Why ``address`` must not be mailed now, or ``None``: a known bounce blocks every mail, a
    complaint every mail that is not essential."""
    standing = standing_of(tenant_id, address)
    if standing is None:
        return None
    if standing.undeliverable:
        return "address known to bounce; fix it on the contact and resend"
    if standing.complained and not essential:
        return "recipient complained; only essential mail goes to this address"
    return None


def mark(tenant_id: str, address: str, flag: str, *, event: str, at: datetime) -> None:
    """Note that ``address`` is ``undeliverable`` or ``complained`` (idempotent), with the event
    that said so. SNS delivers events out of order: the last event shown is the newest by
    event time, so an older one arriving late adds its flag and nothing else."""
    attribute = MailRecipient.undeliverable if flag == UNDELIVERABLE else MailRecipient.complained
    standing = MailRecipient(recipient_key=tenant_key(tenant_id, address.lower()))
    facts = [attribute.set(True), MailRecipient.tenant_id.set(tenant_id), MailRecipient.address.set(address.lower())]
    try:
        standing.update(actions=[*facts, MailRecipient.last_event.set(event), MailRecipient.last_event_at.set(at)],
                        condition=MailRecipient.last_event_at.does_not_exist() | (MailRecipient.last_event_at <= at))
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        standing.update(actions=facts)  # a newer event is already shown
