"""What a mail's status is, and what an SES event says about it. Pure logic, no I/O.

Statuses only move forward (:data:`RANK`): SNS delivers at least once and out of order,
so a late ``Delivery`` after a ``Bounce`` must not hide the bounce, while a ``Complaint``
after a ``Delivery`` does move it on. Every event is still kept in the timeline.

SES event publishing documents these event types (``eventType``): Send, Delivery, Bounce,
Complaint, Reject, DeliveryDelay, Rendering Failure, Subscription (and Open/Click, which
we never enable). Our tags (``tenant``, ``notification``) come back in ``mail.tags``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

RANK = {
    "queued": 0,
    "sent": 1,
    "delayed": 2,
    "delivered": 3,
    "bounced_transient": 4,
    "complained": 5,
    "bounced_permanent": 6,
    "rejected": 6,
    "suppressed": 6,
    "failed": 6,
}
SUPPRESSION_SUBTYPES = frozenset({"Suppressed", "OnAccountSuppressionList"})


class UnreadableEvent(ValueError):
    """Not an SES event we can tie to one of our mails."""


@dataclass(frozen=True)
class DeliveryFact:
    """What one SES event tells us."""

    tenant_id: str
    notification_id: str
    message_id: str
    event_type: str
    status: str | None  # None: kept in the timeline, status unchanged
    at: datetime
    detail: str | None = None
    undeliverable: frozenset[str] = field(default_factory=frozenset)
    complained: frozenset[str] = field(default_factory=frozenset)


def furthest(current: str, candidate: str | None) -> str:
    """The status to show: ``candidate`` only if it is further along than ``current``."""
    if candidate is None or RANK[candidate] <= RANK[current]:
        return current
    return candidate


def _time(text: str | None, fallback: datetime) -> datetime:
    if not text:
        return fallback
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return fallback


def _tag(mail: dict, name: str) -> str:
    values = (mail.get("tags") or {}).get(name) or []
    if not values or not isinstance(values[0], str) or not values[0]:
        raise UnreadableEvent(f"mail.tags.{name} missing")
    return values[0]


def _addresses(recipients: list | None) -> frozenset[str]:
    return frozenset(entry["emailAddress"].lower() for entry in recipients or [] if entry.get("emailAddress"))


def _bounce(event: dict) -> tuple[str, str, frozenset[str], str | None]:
    bounce = event.get("bounce") or {}
    kind, subtype = bounce.get("bounceType"), bounce.get("bounceSubType")
    recipients = bounce.get("bouncedRecipients") or []
    codes = "; ".join(filter(None, (r.get("diagnosticCode") or r.get("status") for r in recipients)))
    detail = f"{kind}/{subtype}" + (f": {codes}" if codes else "")
    if kind == "Permanent":
        status = "suppressed" if subtype in SUPPRESSION_SUBTYPES else "bounced_permanent"
        return status, detail, _addresses(recipients), bounce.get("timestamp")
    return "bounced_transient", detail, frozenset(), bounce.get("timestamp")


def read_ses_event(event: dict, received_at: datetime) -> DeliveryFact:
    """The fact an SES event-publishing record carries, or :class:`UnreadableEvent`."""
    if not isinstance(event, dict) or not isinstance(event.get("mail"), dict):
        raise UnreadableEvent("no mail object")
    kind = event.get("eventType") or event.get("notificationType")
    mail = event["mail"]
    base = dict(tenant_id=_tag(mail, "tenant"), notification_id=_tag(mail, "notification"),
                message_id=str(mail.get("messageId", "")), event_type=str(kind))
    sent_at = _time(mail.get("timestamp"), received_at)
    if kind == "Send":
        return DeliveryFact(**base, status="sent", at=sent_at)
    if kind == "Delivery":
        delivery = event.get("delivery") or {}
        return DeliveryFact(**base, status="delivered", at=_time(delivery.get("timestamp"), sent_at),
                            detail=delivery.get("smtpResponse"))
    if kind == "Bounce":
        status, detail, undeliverable, at = _bounce(event)
        return DeliveryFact(**base, status=status, at=_time(at, sent_at), detail=detail, undeliverable=undeliverable)
    if kind == "Complaint":
        complaint = event.get("complaint") or {}
        return DeliveryFact(**base, status="complained", at=_time(complaint.get("timestamp"), sent_at),
                            detail=complaint.get("complaintFeedbackType"),
                            complained=_addresses(complaint.get("complainedRecipients")))
    if kind == "Reject":
        return DeliveryFact(**base, status="rejected", at=sent_at, detail=(event.get("reject") or {}).get("reason"))
    if kind == "DeliveryDelay":
        delay = event.get("deliveryDelay") or {}
        return DeliveryFact(**base, status="delayed", at=_time(delay.get("timestamp"), sent_at),
                            detail=delay.get("delayType"))
    if kind == "Rendering Failure":
        return DeliveryFact(**base, status="failed", at=sent_at,
                            detail=(event.get("failure") or {}).get("errorMessage"))
    if kind in ("Subscription", "Open", "Click"):
        return DeliveryFact(**base, status=None, at=sent_at, detail=kind.lower())
    raise UnreadableEvent(f"unknown event type {kind!r}")
