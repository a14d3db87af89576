"""The bound on open shop checkouts: at most ``SHOP_HOLDS_PER_BUYER`` per buyer e-mail and
``SHOP_HOLDS_PER_CLIENT`` per client address, on each performance (see
:mod:`chalicelib.models.holds`).

:func:`claim` takes, for the order about to be placed, one free slot of each bound on each
performance it holds; a slot is taken by one conditional write (absent, or its hold expired),
so two checkouts racing for the last slot cannot both pass. When a bound is full, what was
taken is given back and :class:`TooManyHolds` (429) is raised before any place is held.
:func:`release` gives an order's slots back once its hold ends (paid, refused, released);
an abandoned checkout needs nothing: its slots are free again when its hold expires.

Who is counted: the buyer by their normalised e-mail, the client by the address the request
came from. Both are stored as keyed digests only (:func:`chalicelib.adapters.signing.keyed_digest`),
never as clear text. A rotation of the signing key changes the digests: for at most one hold's
time (``CHECKOUT_HOLD_MINUTES``) a buyer's older slots are then not counted against the new ones.
"""
from __future__ import annotations

from datetime import datetime

from pynamodb.exceptions import DeleteError, PutError

from chalicelib.adapters import clock, signing
from chalicelib.config import settings
from chalicelib.errors import DomainError
from chalicelib.models.base import tenant_key
from chalicelib.models.holds import HoldSlot
from chalicelib.observability import logger


class TooManyHolds(DomainError):
    status = 429
    kind = "too-many-holds"
    title = "Too many unpaid checkouts at once"
    title_fr = "Trop de paiements en attente à la fois"


def _digest(value: str) -> str:
    return signing.keyed_digest("hold-slot", value)


def _bounds(tenant_id: str, performance_id: str, buyer_email: str, client_address: str | None):
    yield tenant_key(tenant_id, "hold", performance_id, "buyer", _digest(buyer_email.lower())), \
        settings.shop_holds_per_buyer
    if client_address:
        yield tenant_key(tenant_id, "hold", performance_id, "client", _digest(client_address)), \
            settings.shop_holds_per_client


def claim(tenant_id: str, order_id: str, performance_ids: set[str], buyer_email: str,
          client_address: str | None, until: datetime) -> list[HoldSlot]:
    """One slot of each bound on each performance for ``order_id`` until ``until``; 429 when full."""
    taken: list[HoldSlot] = []
    for performance_id in sorted(performance_ids):
        for slot_key, limit in _bounds(tenant_id, performance_id, buyer_email, client_address):
            slot = _take_one(tenant_id, order_id, slot_key, limit, until)
            if slot is None:
                _give_back(taken, order_id)
                raise TooManyHolds("Too many unpaid checkouts are open for this performance from this buyer or "
                                   "this connection. Pay or wait for one to expire, then try again.")
            taken.append(slot)
    return taken


def _take_one(tenant_id: str, order_id: str, slot_key: str, limit: int, until: datetime) -> HoldSlot | None:
    now = clock.now()
    for number in range(1, limit + 1):
        slot = HoldSlot(slot_key=slot_key, slot=number, tenant_id=tenant_id, order_id=order_id,
                        order_key=tenant_key(tenant_id, order_id), expires_at=until, expires_on=until)
        try:
            slot.save(condition=HoldSlot.slot_key.does_not_exist() | (HoldSlot.expires_at < now))
            return slot
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
    return None


def release(tenant_id: str, order_id: str) -> None:
    """Give back the order's slots (best effort: an expired slot is free anyway)."""
    try:
        _give_back(list(HoldSlot.by_order.query(tenant_key(tenant_id, order_id))), order_id)
    except Exception:  # noqa: BLE001 - the hold's expiry frees them in any case
        logger.warning("hold slots not released", extra={"order_id": order_id}, exc_info=True)


def _give_back(slots: list[HoldSlot], order_id: str) -> None:
    for slot in slots:
        try:
            HoldSlot(slot_key=slot.slot_key, slot=slot.slot).delete(condition=HoldSlot.order_id == order_id)
        except DeleteError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise  # taken over by a later hold after this one expired: not ours any more
