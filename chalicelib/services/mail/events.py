"""SES delivery events, as SNS brings them: the mail's status, and the address's standing.

Each SNS record is applied at most once (its SNS ``MessageId`` is remembered on the
notification), in any order (statuses only move forward). A permanent bounce marks the
address undeliverable, a complaint marks it complained: on the tenant's
:mod:`~chalicelib.services.mail.recipients` standing, which senders consult, and on the
contact, where staff see it.

Malformed or foreign messages are logged and acknowledged: raising would only make SNS
deliver them again. Storage errors do raise, so the event is delivered again; so does an event
about a mail not recorded yet, when it is fresh (the record follows the provider's answer by a
few milliseconds; an event can overtake it). Events the Lambda still fails on after its retries
land in the mail-events failure queue.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta

from chalicelib.adapters import clock, ids
from chalicelib.models.base import TENANT_ID_PATTERN
from chalicelib.models.mail import Notification
from chalicelib.observability import logger
from chalicelib.services.mail import notifications, recipients
from chalicelib.services.mail.status import DeliveryFact, UnreadableEvent, read_ses_event

RECORD_GRACE = timedelta(minutes=10)


class MailNotRecordedYet(Exception):
    """An event about a mail not written yet (it overtook the record): to be delivered again."""


def apply_sns_record(sns_message_id: str, message: str, received_at: datetime | None = None) -> str:
    """Apply one SES event; returns ``applied``, ``duplicate``, ``unknown-mail`` or ``unreadable``."""
    received_at = received_at or clock.now()
    try:
        fact = read_ses_event(json.loads(message), received_at)
    except (ValueError, TypeError, UnreadableEvent) as error:
        logger.warning("unreadable mail event", extra={"sns_message_id": sns_message_id, "reason": str(error)})
        return "unreadable"
    if not TENANT_ID_PATTERN.match(fact.tenant_id) or not ids.is_id(fact.notification_id):
        logger.warning("mail event with foreign tags", extra={"sns_message_id": sns_message_id})
        return "unreadable"
    notification = notifications.find(fact.tenant_id, fact.notification_id)
    if notification is None:
        if received_at - ids.made_at(fact.notification_id) < RECORD_GRACE:
            # A mail is recorded just after the provider took it: an event about a mail this
            # young may have overtaken its record. Raising makes Lambda deliver it again later.
            raise MailNotRecordedYet(f"mail {fact.notification_id} not recorded yet")
        logger.warning("mail event for an unknown notification", extra={"sns_message_id": sns_message_id})
        return "unknown-mail"
    if sns_message_id in (notification.applied_events or set()):
        return "duplicate"
    # Standing first (idempotent), then the notification (which remembers the event):
    # a failure in between is retried by SNS without losing the standing.
    _note_standing(notification, fact)
    _, new = notifications.advance(
        fact.tenant_id, fact.notification_id, fact.status, fact.at, label=fact.event_type.lower(),
        detail=fact.detail, event_id=sns_message_id, message_id=fact.message_id or None, known=notification)
    return "applied" if new else "duplicate"


def _note_standing(notification: Notification, fact: DeliveryFact) -> None:
    undeliverable = fact.undeliverable or ({notification.recipient} if fact.status in
                                           ("bounced_permanent", "suppressed") else set())
    complained = fact.complained or ({notification.recipient} if fact.status == "complained" else set())
    for address in undeliverable:
        _mark(notification, address, fact, recipients.UNDELIVERABLE)
    for address in complained:
        _mark(notification, address, fact, recipients.COMPLAINED)


def _mark(notification: Notification, address: str, fact: DeliveryFact, flag: str) -> None:
    from chalicelib.services.contacts import contacts

    recipients.mark(notification.tenant_id, address, flag, event=fact.status or fact.event_type, at=fact.at)
    if notification.contact_id:
        contacts.note_delivery_fact(notification.tenant_id, notification.contact_id, address,
                                    undeliverable=flag == recipients.UNDELIVERABLE,
                                    complained=flag == recipients.COMPLAINED,
                                    note=f"{fact.status}: {fact.detail or ''}".strip(": "), at=fact.at)
