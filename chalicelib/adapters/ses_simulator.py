"""Local stand-in for SES event publishing, so the whole mail loop runs with ``make dev``.

In AWS, SES publishes Send, Delivery, Bounce, Complaint... events for each mail to the
configuration set's SNS topic. Locally the mail goes to the SMTP inbox, and this module
publishes what SES would have, to the local SNS topic, in SES's documented shapes:
every mail gets Send then Delivery, except mails to the SES mailbox simulator, which
behave as in SES: ``bounce@`` a permanent bounce, ``complaint@`` a delivery then a
complaint, ``suppressionlist@`` a bounce for an address on the suppression list,
``ooto@`` a delivery (the auto-reply is not simulated).

Only used when ``LOCAL_MAIL_EVENTS`` is on (the dev stage); never in AWS.
"""
from __future__ import annotations

import json
from datetime import timedelta

from chalicelib.adapters import clock
from chalicelib.adapters.mail import OutgoingMail
from chalicelib.config import settings

SIMULATOR_DOMAIN = "simulator.amazonses.com"


def _mail_object(mail: OutgoingMail, message_id: str, sent_at: str) -> dict:
    return {
        "timestamp": sent_at, "source": mail.sender_address, "sendingAccountId": "000000000000",
        "messageId": message_id, "destination": [mail.recipient], "headersTruncated": False,
        "commonHeaders": {"from": [mail.from_header], "to": [mail.recipient], "subject": mail.subject},
        "tags": {"ses:configuration-set": [settings.ses_configuration_set or "local"],
                 **{name: [value] for name, value in mail.tags.items()}},
    }


def _stamp(offset_seconds: float) -> str:
    return (clock.now() + timedelta(seconds=offset_seconds)).isoformat().replace("+00:00", "Z")


def events_for(mail: OutgoingMail, message_id: str) -> list[dict]:
    """The SES events SES would publish for ``mail``, in order."""
    local, _, domain = mail.recipient.partition("@")
    base = _mail_object(mail, message_id, _stamp(0))
    events = [{"eventType": "Send", "mail": base, "send": {}}]
    delivery = {"eventType": "Delivery", "mail": base, "delivery": {
        "timestamp": _stamp(1), "processingTimeMillis": 900, "recipients": [mail.recipient],
        "smtpResponse": "250 2.6.0 Message received", "reportingMTA": "a8-local.smtp-out.amazonses.com"}}
    if domain != SIMULATOR_DOMAIN or local in ("success", "ooto"):
        return events + [delivery]
    if local in ("bounce", "suppressionlist"):
        subtype = "General" if local == "bounce" else "OnAccountSuppressionList"
        return events + [{"eventType": "Bounce", "mail": base, "bounce": {
            "bounceType": "Permanent", "bounceSubType": subtype, "timestamp": _stamp(1),
            "feedbackId": f"{message_id}-bounce", "reportingMTA": "dns; local",
            "bouncedRecipients": [{"emailAddress": mail.recipient, "action": "failed", "status": "5.1.1",
                                   "diagnosticCode": "smtp; 550 5.1.1 user unknown"}]}}]
    if local == "complaint":
        return events + [delivery, {"eventType": "Complaint", "mail": base, "complaint": {
            "complainedRecipients": [{"emailAddress": mail.recipient}], "timestamp": _stamp(2),
            "feedbackId": f"{message_id}-complaint", "complaintFeedbackType": "abuse",
            "userAgent": "local simulator", "arrivalDate": _stamp(2)}}]
    return events + [delivery]


def publish_events(mail: OutgoingMail, message_id: str) -> None:
    """Publish ``mail``'s events to the local mail-events topic."""
    from chalicelib.adapters.aws import client

    sns = client("sns")
    topic_arn = sns.create_topic(Name=settings.mail_events_topic)["TopicArn"]  # idempotent
    for event in events_for(mail, message_id):
        sns.publish(TopicArn=topic_arn, Message=json.dumps(event))
