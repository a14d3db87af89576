"""Card payment of an order through a Stripe PaymentIntent: the public shop's checkout, and
the box office's card sales (the card reader confirms the intent).

:func:`start_checkout` places the order (places taken at once, so nobody else can buy them
while the buyer types their card), unpaid, held until ``CHECKOUT_HOLD_MINUTES`` from now,
then creates its PaymentIntent with the idempotency key ``checkout:{tenant}:{order}`` and the
tenant and order in its metadata. The buyer's browser confirms the payment with Stripe; the
order completes only when Stripe's signed ``payment_intent.succeeded`` webhook arrives
(:func:`chalicelib.services.money.card_payments.payment_succeeded`), which records what was
captured and gives back what paid for nothing.

- **An order that costs nothing** (free tariffs, a full discount) completes at once, without
  Stripe.
- **When the PaymentIntent cannot be created** (Stripe down, refusing), the hold is released
  at once: its places go back on sale, and the buyer is told to try again (503), without
  Stripe's own words.
- **The public shop is bounded** (:mod:`~chalicelib.services.orders.holds`): at most a few open
  checkouts per buyer e-mail and per client address on each performance (429 beyond).
- **An abandoned checkout** keeps its places until its hold ends; then the follow-up schedule
  (:mod:`chalicelib.services.options.schedule`) calls :func:`expire_hold`: the PaymentIntent is
  cancelled at Stripe first, so nobody can pay it afterwards, and only then are the places
  released. An intent that succeeded (or is processing) is left alone: its webhook completes
  the order. A payment racing the expiry ends in exactly one of paid or released.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from chalicelib.adapters import clock, ids, payments
from chalicelib.config import settings
from chalicelib.errors import Conflict, DomainError, NotFound
from chalicelib.models.base import TENANT_ID_PATTERN
from chalicelib.models.orders import Order, Ticket
from chalicelib.observability import logger
from chalicelib.services.orders import holds, orders
from chalicelib.services.shared.actors import Actor


class PaymentUnavailable(DomainError):
    status = 503
    kind = "payment-unavailable"
    title = "Card payment is not available right now; please try again in a moment"
    title_fr = "Le paiement par carte n'est pas disponible pour le moment ; réessayez dans un instant"


@dataclass(frozen=True)
class Checkout:
    """A placed card order and how to pay it: the PaymentIntent, or none when it cost nothing."""

    order: Order
    tickets: list[Ticket]
    intent: payments.Intent | None


def hold_time() -> timedelta:
    return timedelta(minutes=settings.checkout_hold_minutes)


def shop_checkout(tenant_id: str, draft: dict, *, client_address: str | None, until=None,
                  held: orders.HeldPlaces | None = None, also=(), order_id: str | None = None) -> Checkout:
    """The public shop's checkout for the venue ``tenant_id`` names (its shop's address), bounded
    per buyer and per client address (a cart's checkout passes its places and record, and the
    end of its hold)."""
    if not TENANT_ID_PATTERN.match(tenant_id):
        raise NotFound("No such shop.")
    actor = Actor.system(tenant_id, "shop")
    order_id, until = order_id or ids.new_id(), until or clock.now() + hold_time()
    performance_ids = {line["performance_id"] for line in draft["lines"]}
    holds.claim(tenant_id, order_id, performance_ids, draft["buyer"]["email"], client_address, until)
    try:
        return start_checkout(actor, draft, order_id=order_id, until=until, held=held, also=also)
    except Exception:
        holds.release(tenant_id, order_id)
        raise


def start_checkout(actor: Actor, draft: dict, *, order_id: str | None = None, until=None,
                   held: orders.HeldPlaces | None = None, also=()) -> Checkout:
    """Place a card order (the shop's, or the box office's with a card reader) and its intent
    (``held`` and ``also``: a cart's places and record, see :func:`~.orders.place_order`)."""
    tenant_id = actor.tenant_id
    order, tickets = orders.place_order(actor, {**draft, "kind": "sale", "payment_type": "card",
                                                "deadline": until or clock.now() + hold_time()}, order_id=order_id,
                                        held=held, also=also)
    if int(order.total_cents) == 0:
        return Checkout(orders.complete_free(actor, order.id), tickets, None)
    try:
        intent = payments.create_intent(
            amount_cents=order.total_cents, currency=order.currency,
            metadata={"tenant_id": tenant_id, "order_id": order.id, "order_number": str(order.number)},
            idempotency_key=f"checkout:{tenant_id}:{order.id}")
    except payments.PaymentError as error:
        _release_at_once(actor, order, error)
        raise PaymentUnavailable("Card payment is not available right now; nothing was charged and the places "
                                 "were not kept. Please try again in a moment.") from error
    return Checkout(orders.attach_payment_intent(actor, order.id, intent.id), tickets, intent)


def checkout_of(actor: Actor, order_id: str) -> Checkout:
    """A checkout already made, as it stands (asked again: the same order and PaymentIntent)."""
    order = orders.get_order(actor, order_id)
    intent = payments.get_intent(order.payment_intent_id) if order.payment_intent_id else None
    return Checkout(order, orders.tickets_of(order), intent)


class NotAnOpenHold(Conflict):
    kind = "not-an-open-hold"
    title = "Only an unpaid option or reservation is confirmed by card"
    title_fr = "Seule une option ou une réservation non payée se confirme par carte"


def card_payment_for_hold(actor: Actor, order_id: str) -> Checkout:
    """Confirm an option or a reservation by card: a PaymentIntent for what its held places cost
    (the box office's card reader, or the buyer's browser, confirms it), and the order then paid
    by Stripe's webhook like any card sale, leaving the follow-up list. Asking again for the same
    places gives the same intent; a release of the hold first cancels it at Stripe."""
    from chalicelib.services.orders import follow_up

    order = orders.get_order(actor, order_id)
    tickets = orders.tickets_of(order)
    valid = [ticket for ticket in tickets if ticket.state == "valid"]
    if order.paid or not follow_up.is_open_hold(order) or not valid:
        raise NotAnOpenHold(f"Order {order.number} is not an unpaid option or reservation holding places.")
    shares = orders.paid_per_ticket(order, tickets)
    amount = sum(shares[int(ticket.position)] for ticket in valid)
    key = f"confirm:{actor.tenant_id}:{order.id}:{amount}"
    try:
        current = _current_intent(order, amount)
        if current is not None:
            return Checkout(order, tickets, current)
        if order.payment_intent_id:
            key += f":after:{order.payment_intent_id}"  # the earlier one was cancelled: a new one
        intent = payments.create_intent(
            amount_cents=amount, currency=order.currency,
            metadata={"tenant_id": actor.tenant_id, "order_id": order.id, "order_number": str(order.number)},
            idempotency_key=key)
    except payments.PaymentError as error:
        raise PaymentUnavailable("Card payment is not available right now; nothing was charged. Try again in a "
                                 "moment.") from error
    if order.payment_intent_id != intent.id:
        before = orders.copy_of(order)
        order.payment_intent_id, order.payment_type = intent.id, "card"
        orders.save_change(actor, order, before, action="card-payment-started",
                           details={"payment_intent_id": intent.id, "amount_cents": amount})
    return Checkout(order, tickets, intent)


def _current_intent(order: Order, amount: int) -> payments.Intent | None:
    """The order's intent if it still asks for ``amount`` (asked again: the same one, looked up
    first since an idempotency key lasts a day at Stripe and not at all at localstripe); an
    intent for another amount (places released since) is cancelled, or refused while being paid."""
    if not order.payment_intent_id:
        return None
    current = payments.get_intent(order.payment_intent_id)
    if current.status in ("succeeded", "processing"):
        raise NotAnOpenHold(f"Order {order.number} is being paid by card; its payment completes it.")
    if current.status != "canceled" and current.amount == amount:
        return current
    if current.status != "canceled" and not intent_cancelled(current.id):
        raise NotAnOpenHold(f"Order {order.number} is being paid by card; its payment completes it.")
    return None


def intent_cancelled(intent_id: str) -> bool:
    """Cancel the intent; ``False`` if Stripe says it is paid or being paid (its webhook will tell).
    A Stripe outcome not stated raises :class:`~chalicelib.adapters.payments.PaymentError`."""
    status = payments.get_intent(intent_id).status
    if status in ("succeeded", "processing", "canceled"):
        return status == "canceled"
    try:
        payments.cancel_intent(intent_id)
        return True
    except payments.PaymentError as error:
        if error.retryable:
            raise
        return payments.get_intent(intent_id).status == "canceled"  # refused: it moved on meanwhile


EXPIRED = "expired"
PAID_MEANWHILE = "paid"
PAYMENT_UNDER_WAY = "payment under way"


def expire_hold(actor: Actor, order_id: str) -> str:
    """End an unpaid card checkout whose hold is over: what became of it (``expired``, ``paid``,
    ``payment under way``, or why nothing was held). A Stripe outcome not stated raises
    :class:`~chalicelib.adapters.payments.PaymentError` (retryable): try again later."""
    from chalicelib.services.orders import cancellations, follow_up, holds

    order = orders.get_order(actor, order_id)
    if order.paid:
        return PAID_MEANWHILE
    if not follow_up.is_checkout_hold(order):
        return "not held"
    if order.deadline > clock.now():
        return "hold not over"
    if order.payment_intent_id and not intent_cancelled(order.payment_intent_id):
        return PAYMENT_UNDER_WAY
    cancellations.release_hold(actor, order.id, reason="checkout hold expired unpaid")
    holds.release(actor.tenant_id, order.id)
    return EXPIRED


def _release_at_once(actor: Actor, order: Order, error: Exception) -> None:
    from chalicelib.services.orders import cancellations

    logger.warning("payment intent not created; the hold is released", extra={"order_id": order.id,
                                                                              "stripe_error": str(error)})
    try:
        cancellations.release_hold(actor, order.id, reason=f"payment intent not created: {error}"[:300])
    except Exception:  # noqa: BLE001 - the expired-holds sweep releases it at its deadline anyway
        logger.exception("hold not released after the payment intent failed", extra={"order_id": order.id})
