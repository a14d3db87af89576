"""Helpers for refund, credit and metrics tests: card orders paid at localstripe, what Stripe
holds, signed Stripe events, and a focused fake Stripe for the failures localstripe never gives."""
from __future__ import annotations

import json
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from chalicelib.adapters import payments
from chalicelib.services.money import card_payments
from chalicelib.services.orders import checkout, orders
from tests.orders_world import draft, line


def paid_card_order(actor, world, *lines):
    """A card order checked out, the card confirmed at localstripe as Stripe.js would, and the
    succeeded PaymentIntent applied as its webhook would (the webhook path has its own tests)."""
    made = checkout.start_checkout(actor, draft(world, *(lines or [line(world)])))
    order, intent = made.order, made.intent
    assert card_payments.payment_succeeded(card_confirmed(intent.id)) == "paid"
    return orders.get_order(actor, order.id)


def card_confirmed(intent_id: str) -> dict:
    """The buyer's card confirmed at localstripe for this PaymentIntent, as Stripe.js would; the
    succeeded intent, as its webhook carries it."""
    client = payments._client()
    method = client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    client.v1.payment_intents.update(intent_id, params={"payment_method": method.id})
    client.v1.payment_intents.confirm(intent_id)
    return client.v1.payment_intents.retrieve(intent_id).to_dict()


def paid_cheque_order(actor, world, *lines, **fields):
    order, _ = orders.place_order(actor, draft(world, *(lines or [line(world)]), payment_type="cheque", **fields))
    return orders.mark_paid(actor, order.id, reference="cheque 0001234")


def refunds_at_stripe(intent_id: str) -> list[payments.StripeRefund]:
    return payments.refunds_of(intent_id)


def signed_event(event_type: str, subject: dict, secret: str | None = None) -> tuple[bytes, str]:
    """A Stripe event as Stripe sends it, signed with ``secret`` (default: the app's webhook secret; v1 scheme)."""
    import hashlib
    import hmac

    from chalicelib.adapters import secrets

    body = json.dumps({"id": f"evt_{time.time_ns()}", "object": "event", "type": event_type,
                       "api_version": "2024-06-20", "created": int(time.time()),
                       "data": {"object": subject}}).encode()
    stamp = str(int(time.time()))
    signature = hmac.new((secret or secrets.stripe_webhook_secret()).encode(), f"{stamp}.".encode() + body,
                         hashlib.sha256).hexdigest()
    return body, f"t={stamp},v1={signature}"


def deliver(client, event_type: str, subject: dict, *, secret: str | None = None):
    body, signature = signed_event(event_type, subject, secret)
    return client.request("POST", "/webhooks/stripe", body=body,
                          headers={"Content-Type": "application/json", "Stripe-Signature": signature})


class FailingStripe:
    """A focused fake of Stripe's refunds endpoint answering as Stripe does when a refund cannot
    be made, which localstripe never does: ``mode`` is ``insufficient_balance`` (400
    ``balance_insufficient``), ``card_declined`` (402), ``rate_limit`` (429) or ``network``
    (the connection dropped). The answers' shapes follow Stripe's documented error objects.
    ``calls`` counts the refund creations it was asked for."""

    ANSWERS = {
        "insufficient_balance": (400, {"error": {
            "type": "invalid_request_error", "code": "balance_insufficient",
            "message": "You have insufficient funds in your Stripe account for this refund. Your card balance is "
                       "too low. You can use the /v1/balance endpoint to view your Stripe balance."}}),
        "card_declined": (402, {"error": {"type": "card_error", "code": "charge_expired_for_refund",
                                          "message": "The charge is too old to be refunded."}}),
        "rate_limit": (429, {"error": {"type": "invalid_request_error", "code": "rate_limit",
                                       "message": "Too many requests hit the API too quickly."}}),
    }

    def __init__(self, mode: str) -> None:
        self.mode, self.calls = mode, 0
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.calls += 1
                if fake.mode == "network":
                    self.connection.close()  # the client sees the connection drop, no answer
                    return
                status, answer = fake.ANSWERS[fake.mode]
                self._send(status, answer)

            def do_GET(self):  # listing the refunds of a PaymentIntent: none made here
                self._send(200, {"object": "list", "data": [], "has_more": False, "url": "/v1/refunds"})

            def _send(self, status, answer):
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Request-Id", "req_fake")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()


@contextmanager
def stripe_failing(monkeypatch, mode: str):
    """Point the payments adapter at a :class:`FailingStripe` for the block; localstripe after."""
    import stripe

    fake = FailingStripe(mode)
    failing = stripe.StripeClient("sk_test_fake", base_addresses={"api": fake.address}, max_network_retries=2)
    with monkeypatch.context() as patch:
        patch.setattr(payments, "_client", lambda: failing)
        try:
            yield fake
        finally:
            fake.close()


class StripeSucceedingThen500:
    """A focused fake for what localstripe never does: Stripe carries the refund out, then
    answers 500 (``api_error``), so the caller cannot know the money moved. It forwards the
    creation to localstripe once per idempotency key (as Stripe would; localstripe itself
    ignores keys) and answers 500 to that request and to the SDK's retries of it; reads pass
    through to localstripe, so a look at Stripe finds the refund made. ``calls`` counts the
    creations asked for, ``made`` the ones carried out."""

    ERROR = {"error": {"type": "api_error", "message": "An unknown error occurred while processing your request."}}

    def __init__(self) -> None:
        import requests

        from chalicelib.config import settings

        self.calls, self.made, keys = 0, 0, set()
        fake, upstream = self, settings.stripe_api_base

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                fake.calls += 1
                key = self.headers.get("Idempotency-Key")
                if key not in keys:
                    keys.add(key)
                    requests.post(upstream + self.path, data=body, timeout=10, headers={
                        "Authorization": self.headers.get("Authorization"),
                        "Content-Type": "application/x-www-form-urlencoded"}).raise_for_status()
                    fake.made += 1
                self._send(500, json.dumps(fake.ERROR).encode())

            def do_GET(self):
                answer = requests.get(upstream + self.path, timeout=10,
                                      headers={"Authorization": self.headers.get("Authorization")})
                self._send(answer.status_code, answer.content)

            def _send(self, status, body):
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Request-Id", "req_fake")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()


@contextmanager
def stripe_answering_500_after_success(monkeypatch):
    """Point the payments adapter at a :class:`StripeSucceedingThen500` for the block."""
    import stripe

    from chalicelib.adapters import secrets

    fake = StripeSucceedingThen500()
    failing = stripe.StripeClient(secrets.stripe_secret_key(), base_addresses={"api": fake.address},
                                  max_network_retries=2)
    with monkeypatch.context() as patch:
        patch.setattr(payments, "_client", lambda: failing)
        try:
            yield fake
        finally:
            fake.close()
