"""Card checkout end to end: the shop's checkout, the card confirmed at localstripe as the
buyer's browser would, localstripe's signed webhook delivered to the app, the order paid and
confirmed once. Unsigned or wrongly signed webhooks are refused and change nothing."""
from __future__ import annotations

import json
import os
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from chalicelib.services.mail import notifications
from chalicelib.services.orders import orders
from tests.api.helpers import assert_problem, call
from tests.orders_world import build_world, line


@pytest.fixture
def stripe_webhooks():
    """A local endpoint registered at localstripe; yields the queue of (body, signature) it receives."""
    received: queue.Queue = queue.Queue()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.put((body, self.headers.get("Stripe-Signature")))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = f"test{time.time_ns()}"
    requests.post(f"{os.environ['STRIPE_API_BASE']}/_config/webhooks/{hook}", data={
        "url": f"http://127.0.0.1:{server.server_address[1]}/", "secret": os.environ["STRIPE_WEBHOOK_SECRET"],
        "events[]": ["payment_intent.succeeded"]}, timeout=10).raise_for_status()
    yield received
    server.shutdown()


def confirm_card_as_the_browser_does(intent_id: str) -> None:
    """What Stripe.js does with the buyer's card (localstripe takes the card on the intent, then
    the confirmation, rather than both in one call)."""
    from chalicelib.adapters.payments import _client

    method = _client().v1.payment_methods.create(params={
        "type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    _client().v1.payment_intents.update(intent_id, params={"payment_method": method.id})
    _client().v1.payment_intents.confirm(intent_id)


def next_event_for(received: queue.Queue, intent_id: str) -> tuple[bytes, str]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        body, signature = received.get(timeout=deadline - time.monotonic())
        if json.loads(body)["data"]["object"]["id"] == intent_id:
            return body, signature
    raise AssertionError("no webhook for this payment")


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
