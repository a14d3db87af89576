"""Public shop and payment routes: the card checkout, and Stripe's webhook.

The shop's routes carry the venue's tenant id in the path (it is the shop's public
address); no staff token is involved. The webhook trusts nothing but Stripe's signature
over the raw body.
"""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.http import public_route

bp = Blueprint(__name__)


@public_route(bp, "/shop/{tenant_id}/checkout", method="POST", body="orders:CheckoutIn",
              response="orders:CheckoutOut", status=201,
              summary="Check out a cart: places held, a card PaymentIntent to confirm with Stripe.js", tag="shop")
def checkout(tenant_id, body):
    from chalicelib.services.orders import checkout as checkouts

    order, _, intent = checkouts.shop_checkout(tenant_id, body.model_dump())
    return {"order_id": order.id, "number": order.number, "total_cents": order.total_cents,
            "currency": order.currency, "payment_intent_id": intent.id, "client_secret": intent.client_secret,
            "hold_until": order.deadline}


@public_route(bp, "/webhooks/stripe", method="POST", raw_body=True, status=204,
              summary="Stripe events (signature verified on the raw body): payment_intent.succeeded, "
                      "refund.created/updated/failed, charge.refunded", tag="shop")
def stripe_webhook(request):
    from chalicelib.services.money import stripe_events

    stripe_events.handle_webhook(request.raw_body or b"", request.headers.get("stripe-signature"))
    return None
