"""Card payment of an order through a Stripe PaymentIntent: the public shop's checkout, and
the box office's card sales (the card reader confirms the intent).

:func:`start_checkout` places the order (places taken at once, so nobody else can buy them
while the buyer types their card), unpaid, then creates its PaymentIntent with the
idempotency key ``checkout:{tenant}:{order}`` and the tenant and order in its metadata.
The buyer's browser confirms the payment with Stripe; the order completes only when
Stripe's signed ``payment_intent.succeeded`` webhook arrives
(:func:`chalicelib.services.money.card_payments.payment_succeeded`), which records what was
captured and gives back what paid for nothing.

An abandoned checkout keeps its places until its deadline (``CHECKOUT_HOLD``); releasing
expired holds is the options-and-reservations follow-up's job.
"""
from __future__ import annotations

from datetime import timedelta

from chalicelib.adapters import clock, payments
from chalicelib.errors import DomainError, NotFound
from chalicelib.models.base import TENANT_ID_PATTERN
from chalicelib.models.orders import Order, Ticket
from chalicelib.observability import logger
from chalicelib.services.orders import orders
from chalicelib.services.shared.actors import Actor

CHECKOUT_HOLD = timedelta(minutes=30)


class PaymentUnavailable(DomainError):
    status = 503
    kind = "payment-unavailable"
    title = "Card payment is not available right now; please try again in a moment"


def shop_checkout(tenant_id: str, draft: dict) -> tuple[Order, list[Ticket], payments.Intent]:
    """The public shop's checkout for the venue ``tenant_id`` names (its shop's address)."""
    if not TENANT_ID_PATTERN.match(tenant_id):
        raise NotFound("No such shop.")
    return start_checkout(Actor.system(tenant_id, "shop"), draft)


def start_checkout(actor: Actor, draft: dict) -> tuple[Order, list[Ticket], payments.Intent]:
    """Place a card order (the shop's, or the box office's with a card reader) and its intent."""
    tenant_id = actor.tenant_id
    order, tickets = orders.place_order(actor, {**draft, "kind": "sale", "payment_type": "card",
                                                "deadline": clock.now() + CHECKOUT_HOLD})
    try:
        intent = payments.create_intent(
            amount_cents=order.total_cents, currency=order.currency,
            metadata={"tenant_id": tenant_id, "order_id": order.id, "order_number": str(order.number)},
            idempotency_key=f"checkout:{tenant_id}:{order.id}")
    except payments.PaymentError as error:
        logger.warning("payment intent not created; the hold expires at its deadline", extra={"order_id": order.id})
        raise PaymentUnavailable(str(error)) from error
    order = orders.attach_payment_intent(actor, order.id, intent.id)
    return order, tickets, intent
