"""Check-in by season card: the UID a door's reader got (or the signed code printed on the card)
finds the card, then the card's subscription that includes the performance, then that
subscription's ticket for it, which is checked in by the ticket check-in itself
(:func:`chalicelib.services.documents.checkin.check_in`: valid ticket, paid order, current code).

Refused, with a reason the door's screen shows: ``unknown`` (no card of the venue has that UID
or code), ``revoked`` (the card was declared lost), ``not_for_this_performance`` (none of the
card's subscriptions includes it), and the ticket check-in's own reasons.
"""
from __future__ import annotations

import re

from chalicelib.adapters import signing
from chalicelib.models.base import tenant_key
from chalicelib.models.cards import Card
from chalicelib.models.orders import Ticket
from chalicelib.models.subscriptions import Subscription
from chalicelib.services.cards.binding import card_by_uid
from chalicelib.services.cards.printing import CARD_CODE_PURPOSE
from chalicelib.services.documents.checkin import CheckinRefused, check_in, checkin_value
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.records import by_ids

_UID = re.compile(r"^[0-9A-F]{8,20}$")


def normalised_uid(uid: str) -> str | None:
    """A reader's UID as stored: upper-case hexadecimal without separators (``04:a1:b2`` → ``04A1B2``)."""
    text = re.sub(r"[\s:-]", "", uid or "").upper()
    return text if _UID.match(text) else None


def check_in_card(actor: Actor, performance_id: str, *, uid: str | None = None, code: str | None = None) -> Ticket:
    """The ticket the card admits to ``performance_id``, checked in; :class:`CheckinRefused` if none."""
    card = _card_of(actor, uid, code)
    if card.state == "revoked":
        raise CheckinRefused("This card was declared lost and revoked; it no longer admits.", reason="revoked")
    for subscription in _subscriptions(actor, card):
        if performance_id in subscription.performance_ids and subscription.state in ("active", "in_arrears"):
            position = subscription.ticket_positions[subscription.performance_ids.index(performance_id)]
            try:
                ticket = Ticket.get(tenant_key(actor.tenant_id, subscription.order_id), position, consistent_read=True)
            except Ticket.DoesNotExist:
                continue
            return check_in(actor, checkin_value(ticket))
    raise CheckinRefused("This card holds no subscription to this performance.", reason="not_for_this_performance")


def _card_of(actor: Actor, uid: str | None, code: str | None) -> Card:
    if uid is not None:
        found = card_by_uid(actor.tenant_id, normalised_uid(uid) or "-")
    else:
        found = _card_of_code(actor, code or "")
    if found is None:
        raise CheckinRefused("This card is not one of ours.", reason="unknown")
    return found


def _card_of_code(actor: Actor, code: str) -> Card | None:
    try:
        payload = signing.verify(CARD_CODE_PURPOSE, code.strip()[:1000])
    except signing.BadSignature:
        return None
    if not isinstance(payload, dict) or payload.get("t") != actor.tenant_id or not isinstance(payload.get("c"), str):
        return None
    return by_ids(actor, Card, [payload["c"]]).get(payload["c"])


def _subscriptions(actor: Actor, card: Card) -> list[Subscription]:
    """The card's subscriptions, newest first (the current season's before last season's)."""
    found = by_ids(actor, Subscription, card.subscription_ids)
    return [found[key] for key in reversed(card.subscription_ids) if key in found]
