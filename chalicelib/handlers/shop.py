"""Public shop and payment routes: the card checkout, and Stripe's webhook.

The shop's routes carry the venue's tenant id in the path (it is the shop's public
address); no staff token is involved. The webhook trusts nothing but Stripe's signature
over the raw body.
"""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.errors import InvalidSignature, NotFound
from chalicelib.handlers.http import public_route
from chalicelib.models.base import TENANT_ID_PATTERN
from chalicelib.observability import logger

bp = Blueprint(__name__)


@public_route(bp, "/shop/{tenant_id}/checkout", method="POST", body="orders:CheckoutIn",
              response="orders:CheckoutOut", status=201,
              summary="Check out a cart: places held, a card PaymentIntent to confirm with Stripe.js", tag="shop")
def checkout(tenant_id, body):
    from chalicelib.services.orders import checkout as checkouts

    if not TENANT_ID_PATTERN.match(tenant_id):
        raise NotFound("No such shop.")
    from chalicelib.services.shared.actors import Actor

    order, _, intent = checkouts.start_checkout(Actor.system(tenant_id, "shop"), body.model_dump())
    return {"order_id": order.id, "number": order.number, "total_cents": order.total_cents,
            "currency": order.currency, "payment_intent_id": intent.id, "client_secret": intent.client_secret,
            "hold_until": order.deadline}


@public_route(bp, "/webhooks/stripe", method="POST", raw_body=True, status=204,
              summary="Stripe events (signature verified on the raw body): payment_intent.succeeded, "
                      "refund.created/updated/failed, charge.refunded", tag="shop")
def stripe_webhook(request):
    from chalicelib.adapters import payments
    from chalicelib.services.orders import checkout as checkouts

    try:
        event = payments.verified_event(request.raw_body or b"", request.headers.get("stripe-signature"))
    except payments.InvalidWebhook as error:
        raise InvalidSignature(f"Not a Stripe event signed for us: {error}") from None
    outcome = "ignored"
    kind, subject = event.get("type"), event["data"]["object"]
    if kind == "payment_intent.succeeded":
        outcome = checkouts.payment_succeeded(subject)
    elif kind in ("refund.updated", "refund.failed", "refund.created"):
        from chalicelib.services.money import refunds

        outcome = refunds.apply_stripe_refund(subject)
    elif kind == "charge.refunded":
        from chalicelib.services.money import refunds

        outcome = refunds.apply_charge_refunded(subject)
    logger.info("stripe event", extra={"event_id": event.get("id"), "type": event.get("type"), "outcome": outcome})
    return None
