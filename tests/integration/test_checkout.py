"""Card checkout end to end: the shop's checkout, the card confirmed at localstripe as the
buyer's browser would, localstripe's signed webhook delivered to the app, the order paid and
confirmed once. Unsigned or wrongly signed webhooks are refused and change nothing."""
from __future__ import annotations

import json
import os
import queue
import time

import pytest

from chalicelib.services.mail import notifications
from chalicelib.services.orders import orders
from devtools import card_payment
from tests.api.helpers import assert_problem, call
from tests.orders_world import build_world, line


def confirm_card_as_the_browser_does(intent_id: str, card_number: str = card_payment.SUCCESS_CARD) -> dict:
    """What Stripe.js does with the buyer's card, as `make pay` does it locally."""
    return card_payment.pay_by_card(os.environ["STRIPE_API_BASE"], intent_id, card_number=card_number,
                                    secret_key=os.environ["STRIPE_SECRET_KEY"])


def next_event_for(received: queue.Queue, intent_id: str, kind: str = "payment_intent.succeeded") -> tuple[bytes, str]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        body, signature = received.get(timeout=deadline - time.monotonic())
        event = json.loads(body)
        if event["type"] == kind and event["data"]["object"]["id"] == intent_id:
            return body, signature
    raise AssertionError(f"no {kind} webhook for this payment")


def checkout(client, tenant, world):
    payload = {"buyer": {"first_name": "Élodie", "last_name": "Lefèvre", "email": "elodie@exemple.fr"},
               "lines": [line(world), line(world, world.reduced)]}
    status, started, _ = call(client, "POST", f"/shop/{tenant}/checkout", {"Content-Type": "application/json"},
                              payload)
    assert status == 201, started
    return started


def deliver(client, body: bytes, signature: str | None):
    headers = {"Content-Type": "application/json"}
    if signature:
        headers["Stripe-Signature"] = signature
    return client.request("POST", "/webhooks/stripe", headers=headers, body=body)


def test_a_card_checkout_completes_on_the_signed_webhook_once(client, tenant, actor, stripe_webhooks):
    world = build_world(actor)
    started = checkout(client, tenant, world)
    assert started["total_cents"] == 5300 and started["client_secret"]
    placed = orders.get_order(actor, started["order_id"])
    assert placed.status == "unpaid" and placed.payment_type == "card"

    confirm_card_as_the_browser_does(started["payment_intent_id"])
    body, signature = next_event_for(stripe_webhooks, started["payment_intent_id"])
    assert deliver(client, body, signature).status_code == 204
    paid = orders.get_order(actor, started["order_id"])
    assert paid.paid and paid.status == "complete"
    [payment] = orders.payments_of(paid)
    assert (payment.amount_cents, payment.means, payment.reference) == (5300, "card", started["payment_intent_id"])

    assert deliver(client, body, signature).status_code == 204  # Stripe delivers at least once
    assert len(orders.payments_of(paid)) == 1
    mails = notifications.of_entity(actor, "order", started["order_id"], limit=10, cursor=None).items
    assert [mail.template for mail in mails] == ["order_confirmation"]


def test_a_declined_card_leaves_the_order_unpaid_and_its_places_held(client, tenant, actor, stripe_webhooks):
    """(On Stripe the buyer may then confirm the same intent with another card; localstripe keeps
    a failed intent's status at requires_payment_method and refuses a second confirmation.)"""
    world = build_world(actor)
    started = checkout(client, tenant, world)
    with pytest.raises(card_payment.CardRefused):
        confirm_card_as_the_browser_does(started["payment_intent_id"], card_number="4000000000000341")
    body, signature = next_event_for(stripe_webhooks, started["payment_intent_id"], "payment_intent.payment_failed")
    assert deliver(client, body, signature).status_code == 204
    order = orders.get_order(actor, started["order_id"])
    assert order.status == "unpaid" and not order.paid and not orders.payments_of(order)


def test_a_card_asking_for_3d_secure_is_paid_once_authenticated(client, tenant, actor, stripe_webhooks):
    world = build_world(actor)
    started = checkout(client, tenant, world)
    assert confirm_card_as_the_browser_does(started["payment_intent_id"], "4000002500003155")["status"] == "succeeded"
    body, signature = next_event_for(stripe_webhooks, started["payment_intent_id"])
    assert deliver(client, body, signature).status_code == 204
    assert orders.get_order(actor, started["order_id"]).paid


def test_unsigned_or_wrongly_signed_webhooks_are_refused_and_change_nothing(client, tenant, actor, stripe_webhooks):
    world = build_world(actor)
    started = checkout(client, tenant, world)
    confirm_card_as_the_browser_does(started["payment_intent_id"])
    body, signature = next_event_for(stripe_webhooks, started["payment_intent_id"])

    for bad_signature in (None, "t=1,v1=deadbeef", signature.replace("v1=", "v1=0")):
        answer = deliver(client, body, bad_signature)
        assert answer.status_code == 400 and answer.headers["Content-Type"] == "application/problem+json"
    forged = body.replace(b'"amount": 5300', b'"amount": 1')
    assert deliver(client, forged, signature).status_code == 400
    assert orders.get_order(actor, started["order_id"]).status == "unpaid"


def test_checkout_refuses_bad_carts(client, tenant, actor):
    world = build_world(actor)
    headers = {"Content-Type": "application/json"}
    assert_problem(call(client, "POST", f"/shop/{tenant}/checkout", headers,
                        {"buyer": {"last_name": "X"}, "lines": [line(world)]}), 422, "buyer.email")
    assert_problem(call(client, "POST", f"/shop/{tenant}/checkout", headers,
                        {"buyer": {"last_name": "X", "email": "x@y.fr"}, "lines": []}), 422, "lines")
    assert_problem(call(client, "POST", "/shop/other-tenant/checkout", headers,
                        {"buyer": {"last_name": "X", "email": "x@y.fr"}, "lines": [line(world)]}),
                   422, "lines.0.performance_id")


def test_a_box_office_card_sale_is_paid_when_the_reader_confirms(client, staff_headers, actor, stripe_webhooks):
    world = build_world(actor)
    status, order, _ = call(client, "POST", "/orders", staff_headers,
                            {"payment_type": "card", "buyer": {"last_name": "Guichet", "email": "g@exemple.fr"},
                             "lines": [line(world)]})
    assert status == 201 and order["status"] == "unpaid" and order["client_secret"], order
    confirm_card_as_the_browser_does(order["payment_intent_id"])
    body, signature = next_event_for(stripe_webhooks, order["payment_intent_id"])
    assert deliver(client, body, signature).status_code == 204
    assert orders.get_order(actor, order["id"]).status == "complete"
