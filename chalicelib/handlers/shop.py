"""Public shop and payment routes: the cart, the card checkout, and Stripe's webhook.

The shop's routes carry the venue's tenant id in the path (it is the shop's public
address); no staff token is involved. The webhook trusts nothing but Stripe's signature
over the raw body.
"""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.http import client_address, public_route

bp = Blueprint(__name__)


@public_route(bp, "/shop/{tenant_id}/checkout", method="POST", body="orders:CheckoutIn",
              response="orders:CheckoutOut", status=201, answers=(403, 429),
              summary="Check out lines at once (without a cart): the geographic limits (403), places held, a card "
                      "PaymentIntent to confirm with Stripe.js (an order that costs nothing completes at once); 429 "
                      "when too many unpaid checkouts are open for a performance from this buyer or connection",
              tag="shop")
def checkout(tenant_id, body):
    from chalicelib.services.shop import carts

    made = carts.check_out_directly(tenant_id, body.model_dump(), client_address=client_address(bp.current_request))
    return _checkout_answer(made)


def _checkout_answer(made) -> dict:
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


# -- the cart ------------------------------------------------------------------------------------


def _cart_answer(cart) -> dict:
    from chalicelib.services.shop import carts

    return {"cart": carts.token_of(cart), "state": cart.state, "hold_until": cart.expires_at,
            "lines": [{"item_id": item["id"], **{name: item[name] for name in (
                "performance_id", "tariff_id", "quota_id", "quantity", "seat_ids", "unit_price_cents", "currency")},
                "seat_labels": item.get("seat_labels") or [],
                "total_cents": carts.line_total(item)} for item in cart.items],
            "ticket_count": sum(int(item["quantity"]) for item in cart.items), "total_cents": carts.total_of(cart),
            "currency": cart.items[0]["currency"] if cart.items else None, "order_id": cart.order_id}


@public_route(bp, "/shop/{tenant_id}/carts", method="POST", body="carts:CartOpenIn", response="carts:CartOut",
              status=201, answers=(429,),
              summary="Open a cart (empty; its hold time starts now); 429 past the carts a connection may open in "
                      "an hour", tag="shop")
def open_cart(tenant_id, body):
    from chalicelib.services.shop import carts

    return _cart_answer(carts.open_cart(tenant_id, channel_id=body.channel_id, language=body.language,
                                        client_address=client_address(bp.current_request)))


@public_route(bp, "/shop/{tenant_id}/carts/{cart}", response="carts:CartOut",
              summary="The cart: its lines, total and hold time", tag="shop")
def get_cart(tenant_id, cart):
    from chalicelib.services.shop import carts

    return _cart_answer(carts.get_cart(tenant_id, cart))


@public_route(bp, "/shop/{tenant_id}/carts/{cart}/lines", method="POST", body="carts:CartLineIn",
              response="carts:CartOut", status=201, answers=(403, 409),
              summary="Add places (a quantity, or chosen seats) and hold them; 403 with the point of sale's message "
                      "when a geographic limit forbids it, 409 when off sale, sold out or a seat is taken",
              tag="shop")
def add_line(tenant_id, cart, body):
    from chalicelib.services.shop import carts

    line = carts.Line(body.performance_id, body.tariff_id, body.quota_id, quantity=body.quantity,
                      seat_ids=tuple(body.seat_ids or ()))
    return _cart_answer(carts.add_line(tenant_id, cart, line, client_address=client_address(bp.current_request)))


@public_route(bp, "/shop/{tenant_id}/carts/{cart}/lines/{item_id}", method="PATCH", body="carts:CartLineChangeIn",
              response="carts:CartOut", answers=(409,),
              summary="Change a line's quantity (or its seats); what it no longer needs goes back on sale", tag="shop")
def change_line(tenant_id, cart, item_id, body):
    from chalicelib.services.shop import carts

    return _cart_answer(carts.change_line(tenant_id, cart, item_id, quantity=body.quantity,
                                          seat_ids=tuple(body.seat_ids) if body.seat_ids else None))


@public_route(bp, "/shop/{tenant_id}/carts/{cart}/lines/{item_id}", method="DELETE", response="carts:CartOut",
              answers=(409,), summary="Remove a line: its places go back on sale at once", tag="shop")
def remove_line(tenant_id, cart, item_id):
    from chalicelib.services.shop import carts

    return _cart_answer(carts.remove_line(tenant_id, cart, item_id))


@public_route(bp, "/shop/{tenant_id}/carts/{cart}/checkout", method="POST", body="carts:CartCheckoutIn",
              response="orders:CheckoutOut", status=201, answers=(403, 409, 429),
              summary="Pay the cart by card: the geographic limits again, then the order takes over the cart's "
                      "places (asked again: the same order and PaymentIntent)", tag="shop")
def check_out_cart(tenant_id, cart, body):
    from chalicelib.services.shop import carts

    done = carts.check_out(tenant_id, cart, body.buyer.model_dump(), client_address=client_address(bp.current_request))
    return _checkout_answer(done.checkout)
