"""Public shop and payment routes: the card checkout, and Stripe's webhook.

The shop's routes carry the venue's tenant id in the path (it is the shop's public
address); no staff token is involved. The webhook trusts nothing but Stripe's signature
over the raw body.
"""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.http import client_address, public_route

bp = Blueprint(__name__)


@public_route(bp, "/shop/{tenant_id}/checkout", method="POST", body="orders:CheckoutIn",
              response="orders:CheckoutOut", status=201, answers=(429,),
              summary="Check out a cart: places held, a card PaymentIntent to confirm with Stripe.js (an order that "
                      "costs nothing completes at once); 429 when too many unpaid checkouts are open for a "
                      "performance from this buyer or connection", tag="shop")
def checkout(tenant_id, body):
    from chalicelib.services.orders import checkout as checkouts

    made = checkouts.shop_checkout(tenant_id, body.model_dump(), client_address=client_address(bp.current_request))
    order, intent = made.order, made.intent
    return {"order_id": order.id, "number": order.number, "status": order.status, "total_cents": order.total_cents,
            "currency": order.currency, "payment_intent_id": intent.id if intent else None,
            "client_secret": intent.client_secret if intent else None,
            "hold_until": order.deadline if intent else None}


@public_route(bp, "/webhooks/stripe", method="POST", raw_body=True, status=204,
              summary="Stripe events (signature verified on the raw body): payment_intent.succeeded, "
                      "refund.created/updated/failed, charge.refunded", tag="shop")
def stripe_webhook(request):
    from chalicelib.services.webhooks import stripe_events

    stripe_events.handle_webhook(request.raw_body or b"", request.headers.get("stripe-signature"))
    return None
