"""Notification records: creating one per mail, moving its status, and the staff listings.

:func:`advance` is the one place a notification's status and timeline change, whether
from our own send or from an SES event: it appends the event, moves the status only
forward (:func:`~chalicelib.services.mail.status.furthest`), applies each provider event
at most once (``applied_events``), and retries on a concurrent change (version check).
"""
from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.adapters import clock, ids
from chalicelib.models.base import tenant_key
from chalicelib.models.mail import Notification, StatusEvent
from chalicelib.services.mail.status import furthest
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.paging import Page, paged

MAX_ATTEMPTS = 8


def new_notification(tenant_id: str, *, recipient: str, template: str, language: str, subject: str,
                     concerns_type: str,
                     concerns_id: str, sender_name: str, contact_id: str | None = None,
                     campaign_id: str | None = None, essential: bool = True,
                     render_context: dict | None = None, action_url: str | None = None,
                     custom_message: str | None = None, resent_from: str | None = None,
                     notification_id: str | None = None) -> Notification:
    """An unsaved notification with every index key set, its timeline starting when the attempt
    began (the idempotency key is kept by its claim, not on the mail)."""
    now = clock.now()
    domain = recipient.rsplit("@", 1)[1].lower()
    scope = ("campaign", campaign_id) if campaign_id else ("day", now.date().isoformat())
    return Notification(
        tenant_id=tenant_id, id=notification_id or ids.new_id(), template=template, language=language,
        subject=subject, contact_id=contact_id, essential=essential,
        render_context=render_context, action_url=action_url, custom_message=custom_message,
        sender_name=sender_name, resent_from=resent_from, status="queued", status_at=now,
        timeline=[StatusEvent(status="queued", at=now)],
        entity_key=tenant_key(tenant_id, concerns_type, concerns_id),
        recipient_key=tenant_key(tenant_id, recipient.lower()),
        recipient_as_given=recipient if recipient != recipient.lower() else None,
        contact_key=tenant_key(tenant_id, contact_id) if contact_id else None,
        scope_domain_key=tenant_key(tenant_id, *scope, domain),
    )


def find(tenant_id: str, notification_id: str) -> Notification | None:
    try:
        return Notification.get(tenant_id, notification_id, consistent_read=True)
    except DoesNotExist:
        return None


def advance(tenant_id: str, notification_id: str, status: str | None, at: datetime, *,
            label: str | None = None, detail: str | None = None, event_id: str | None = None,
            message_id: str | None = None, known: Notification | None = None) -> tuple[Notification | None, bool]:
    """Record an event on a notification; returns it and whether the event was new.

    One UpdateItem of the changed attributes (no index is rewritten unless the status moves),
    conditioned on the version read, retried if another event landed in between. ``known`` is
    the notification as the caller just wrote it, which spares the first read."""
    for attempt in range(MAX_ATTEMPTS):
        notification = known if (attempt == 0 and known is not None) else find(tenant_id, notification_id)
        if notification is None:
            return None, False
        if event_id and event_id in (notification.applied_events or set()):
            return notification, False
        actions = [Notification.timeline.set(Notification.timeline.append(
            [StatusEvent(status=status or label or "event", at=at, detail=detail)]))]
        moved_to = furthest(notification.status, status)
        if moved_to != notification.status:
            actions += [Notification.status.set(moved_to), Notification.status_at.set(at)]
        if message_id and not notification.provider_message_id:
            actions.append(Notification.provider_message_id.set(message_id))
        if event_id:
            actions.append(Notification.applied_events.add({event_id}))
        try:
            notification.update(actions=actions)
            return notification, True
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
    raise RuntimeError(f"notification {notification_id} kept changing; event not recorded")


def _full(page: Page) -> Page:
    """The page's notifications in full (the indexes hold keys only), in the index's order."""
    keys = [(item.tenant_id, item.id) for item in page.items]
    found = {item.id: item for item in Notification.batch_get(keys)} if keys else {}
    return Page(items=[found[item_id] for _, item_id in keys if item_id in found], next_cursor=page.next_cursor)


def of_entity(actor: Actor, entity_type: str, entity_id: str, *, limit: int, cursor: str | None) -> Page:
    key = tenant_key(actor.tenant_id, entity_type, entity_id)
    return _full(paged(f"mails-of:{key}", cursor, lambda start: Notification.by_entity.query(
        key, scan_index_forward=False, limit=limit, last_evaluated_key=start)))


def get_notification(actor: Actor, notification_id: str) -> Notification:
    """One mail with its delivery timeline."""
    from chalicelib.services.shared.records import get_record

    return get_record(actor, Notification, notification_id)


def of_contact(actor: Actor, contact_id: str, *, limit: int, cursor: str | None) -> Page:
    """Mails sent to a contact, newest first (404 for a contact the tenant does not have)."""
    from chalicelib.services.contacts.contacts import get_contact

    get_contact(actor, contact_id)
    key = tenant_key(actor.tenant_id, contact_id)
    return _full(paged(f"mails-to-contact:{key}", cursor, lambda start: Notification.by_contact.query(
        key, scan_index_forward=False, limit=limit, last_evaluated_key=start)))


def of_recipient(actor: Actor, address: str, *, limit: int, cursor: str | None) -> Page:
    key = tenant_key(actor.tenant_id, address.lower())
    return _full(paged(f"mails-to:{key}", cursor, lambda start: Notification.by_recipient.query(
        key, scan_index_forward=False, limit=limit, last_evaluated_key=start)))


def of_domain(actor: Actor, domain: str, *, campaign_id: str | None = None, day: str | None = None,
              limit: int, cursor: str | None) -> Page:
    """Mails to ``domain`` within a campaign, or within a day for mails outside campaigns."""
    scope = ("campaign", campaign_id) if campaign_id else ("day", day or clock.now().date().isoformat())
    key = tenant_key(actor.tenant_id, *scope, domain.lower())
    return _full(paged(f"mails-domain:{key}", cursor, lambda start: Notification.by_scope_domain.query(
        key, limit=limit, last_evaluated_key=start)))


def forget_person(tenant_id: str, contact_id: str, addresses: list[str]) -> int:
    """Erasure: the mails sent to a contact keep their status and delivery timeline but lose the
    address, subject and rendered words; the addresses' standing records go. How many mails."""
    from chalicelib.models.mail import MailRecipient

    keys = [(tenant_id, item.id) for item in Notification.by_contact.query(tenant_key(tenant_id, contact_id))]
    forgotten = 0
    for mail in (Notification.batch_get(keys) if keys else []):
        mail.recipient_key = tenant_key(tenant_id, f"erased-{contact_id}@erased.invalid")
        mail.recipient_as_given = mail.subject = mail.render_context = mail.action_url = mail.custom_message = None
        mail.save()
        forgotten += 1
    for address in addresses:
        MailRecipient(recipient_key=tenant_key(tenant_id, address.lower())).delete()
    return forgotten