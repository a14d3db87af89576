"""Cards and what they carry: binding a printed card's UID to its subscription, revoking a lost
card, and the renewal's "reload existing card".

- :func:`bind_printed`: a printed job becomes a :class:`~chalicelib.models.cards.Card` (id = the
  job's) carrying the job's subscription, its UID claimed for the venue in the same transaction
  as the job's new state. A UID another card holds (active or revoked) is refused: the job is
  recorded printed with the flag ``uid_conflict`` and nothing is bound. A card printed for a
  subscription whose earlier card was revoked counts as a duplicate
  (``Subscription.duplicates_issued``: the renewal then cannot tell which card to reload).
- :func:`revoke_card`: a lost card stops admitting; its UID stays claimed, so it is refused at
  the door as revoked and never bound again. The subscription then needs a new card.
- :func:`reloaded_cards`: the items the renewal writes **in its own transaction** so that each
  new subscription in "reload existing card" goes onto the active card that carried the old
  one: no print, and no window where the order exists but the card does not carry it.
"""
from __future__ import annotations

from datetime import datetime

from chalicelib.adapters import clock
from chalicelib.errors import Conflict, Duplicate
from chalicelib.models.base import tenant_key
from chalicelib.models.cards import Card, PrintJob
from chalicelib.models.subscriptions import Subscription
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.observability import logger
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event, snapshot, write_audited
from chalicelib.services.shared.records import by_ids, get_record


def cards_of_holder(actor: Actor, holder_contact_id: str) -> list[Card]:
    """The holder's cards, oldest first (a holder has a few)."""
    keys = [entry.id for entry in Card.by_holder.query(tenant_key(actor.tenant_id, holder_contact_id))]
    found = by_ids(actor, Card, keys)
    return [found[key] for key in keys if key in found]


def cards_of_subscription(actor: Actor, subscription_id: str) -> list[Card]:
    subscription = get_record(actor, Subscription, subscription_id)
    return [card for card in cards_of_holder(actor, subscription.holder_contact_id)
            if subscription.id in card.subscription_ids]


def card_by_uid(tenant_id: str, uid: str) -> Card | None:
    """The card (active or revoked) that holds ``uid`` in the venue, if any."""
    try:
        claim = UniqueKey.get(tenant_key(tenant_id, Card.entity_type, "uid", uid), consistent_read=True)
        return Card.get(tenant_id, claim.entity_id, consistent_read=True)
    except (UniqueKey.DoesNotExist, Card.DoesNotExist):
        return None


def bind_printed(actor: Actor, job: PrintJob, uid: str | None, at: datetime, *, flags: tuple[str, ...] = ()) -> None:
    """Record ``job`` printed with ``uid`` and bind a new card to its subscription, in one transaction
    (:class:`~chalicelib.errors.ConcurrentChange` when the job or the subscription moved meanwhile:
    the caller reads again). A UID already held: the job is flagged ``uid_conflict``, no card."""
    before = snapshot(job)
    subscription = Subscription.get(actor.tenant_id, job.subscription_id, consistent_read=True)
    _printed(job, uid, at, flags)
    card = Card(tenant_id=actor.tenant_id, id=job.id, uid=uid, holder_contact_id=job.holder_contact_id,
                subscription_ids=[job.subscription_id], state="active", site_id=job.site_id,
                printer_id=job.printer_id)
    card.set_index_keys()
    job.card_id = card.id
    also: list = [card, audit_event(actor, Card.entity_type, card.id, "printed", None, snapshot(card))]
    if _had_revoked_card(actor, subscription):
        subscription.duplicates_issued = int(subscription.duplicates_issued or 0) + 1
        subscription.updated_at = clock.now()
        also.append(subscription)
    claims = [UniqueKey.of(card, "uid", (uid,))] if uid else []
    try:
        write_audited(actor, job, action="printed", before=before, also=also, claims=claims)
    except Duplicate:
        logger.warning("cards: UID %s of job %s is already another card's: job flagged, nothing bound", uid, job.id)
        job = PrintJob.get(actor.tenant_id, job.id, consistent_read=True)
        before = snapshot(job)
        _printed(job, uid, at, (*flags, "uid_conflict"))
        write_audited(actor, job, action="printed", before=before)


def _printed(job: PrintJob, uid: str | None, at: datetime, flags: tuple[str, ...]) -> None:
    extra = list(flags)
    if job.cancel_requested_at is not None:
        extra.append("cancel_too_late")
    if job.encode and not uid:
        extra.append("uid_missing")
    job.state, job.uid, job.reason, job.state_at, job.updated_at = "printed", uid, None, at, clock.now()
    job.flags = sorted(set(job.flags or []) | set(extra)) or None
    job.set_index_keys()


def _had_revoked_card(actor: Actor, subscription: Subscription) -> bool:
    return any(card.state == "revoked" and subscription.id in card.subscription_ids
               for card in cards_of_holder(actor, subscription.holder_contact_id))


def get_card(actor: Actor, card_id: str) -> Card:
    return get_record(actor, Card, card_id)


def check_revocable(card: Card) -> Card:
    """The card, if it may be revoked (it is not already); else 409."""
    if card.state == "revoked":
        raise Conflict(f"Card {card.id} is already revoked.")
    return card


def revoke_card(actor: Actor, card_id: str, *, reason: str) -> Card:
    """Revoke a lost or stolen card (audited): its UID no longer admits; 409 if already revoked."""
    card = check_revocable(get_record(actor, Card, card_id))
    before = snapshot(card)
    card.state, card.revoked_at, card.revoked_reason, card.updated_at = "revoked", clock.now(), reason, clock.now()
    write_audited(actor, card, action="revoke", before=before)
    return card


def reloaded_cards(actor: Actor, renewals: list[tuple[Subscription, str]]) -> list[tuple[object, None]]:
    """For the renewal's "reload existing card": ``(item, condition)`` pairs to write in the new
    order's transaction, putting each new subscription id (``renewals``: the source subscription
    and its renewal's id) on the active card that carries the source. The card's version is
    checked by the write, so a card revoked meanwhile makes the renewal's transaction fail and
    the run reports it; a source whose holder has no active card is left without one (staff
    print a card: the subscription's cards are empty)."""
    changed: dict[str, Card] = {}
    befores: dict[str, dict | None] = {}
    for source, new_id in renewals:
        card = next((card for card in reversed(cards_of_holder(actor, source.holder_contact_id))
                     if card.state == "active" and source.id in card.subscription_ids), None)
        if card is None:
            continue
        card = changed.setdefault(card.id, card)
        befores.setdefault(card.id, snapshot(card))
        if new_id not in card.subscription_ids:
            card.subscription_ids = [*card.subscription_ids, new_id]
            card.updated_at = clock.now()
    items: list[tuple[object, None]] = []
    for card in changed.values():
        items += [(card, None), (audit_event(actor, Card.entity_type, card.id, "reload", befores[card.id],
                                             snapshot(card)), None)]
    return items
