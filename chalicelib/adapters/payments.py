"""Stripe, behind the few calls the product makes: PaymentIntents, refunds, webhook checks.

One :class:`stripe.StripeClient` per process (``STRIPE_SECRET_KEY``; ``STRIPE_API_BASE``
points it at localstripe locally), with explicit network retries. Every call that moves
money carries a deterministic idempotency key chosen by the caller (e.g.
``checkout:{order}``), so a retried request never charges or refunds twice at Stripe.
Webhooks are verified on the raw body against ``STRIPE_WEBHOOK_SECRET``.

``stripe`` is imported on first use: it costs a third of a second, which routes that never
touch money should not pay at cold start.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from chalicelib.config import settings


class PaymentError(Exception):
    """Stripe refused, or did not say. ``retryable`` is true when Stripe did **not state the
    outcome** (the connection dropped, a timeout, a 429, a 5xx, an answer we cannot read): the
    call may have been carried out, so look at Stripe before trying again. False when Stripe
    stated a refusal (card, request, authentication, idempotency errors): nothing was done."""

    def __init__(self, message: str, *, retryable: bool) -> None:
        super().__init__(message)
        self.retryable = retryable


class InvalidWebhook(Exception):
    """The body is not a Stripe event signed with our secret (or is too old)."""


@dataclass(frozen=True)
class Intent:
    id: str
    status: str
    amount: int
    currency: str
    client_secret: str | None
    metadata: dict


@lru_cache(maxsize=1)
def _client():
    import stripe

    addresses = {"api": settings.stripe_api_base} if settings.stripe_api_base else None
    return stripe.StripeClient(settings.stripe_secret_key, base_addresses=addresses, max_network_retries=2)


def _intent(resource) -> Intent:
    raw = resource.to_dict()
    return Intent(id=raw["id"], status=raw["status"], amount=int(raw["amount"]), currency=raw["currency"].upper(),
                  client_secret=raw.get("client_secret"), metadata=dict(raw.get("metadata") or {}))


def _translated(call):
    import stripe

    stated = (stripe.CardError, stripe.InvalidRequestError, stripe.AuthenticationError, stripe.PermissionError,
              stripe.IdempotencyError)
    try:
        return call()
    except stated as error:
        raise PaymentError(str(error), retryable=False) from error
    except stripe.StripeError as error:  # connection, 429, 5xx (APIError), anything Stripe did not state
        raise PaymentError(str(error), retryable=True) from error


def create_intent(*, amount_cents: int, currency: str, metadata: dict[str, str], idempotency_key: str) -> Intent:
    """A card PaymentIntent the buyer's browser confirms."""
    params = {"amount": amount_cents, "currency": currency.lower(), "metadata": metadata,
              "payment_method_types": ["card"]}
    return _intent(_translated(lambda: _client().v1.payment_intents.create(
        params=params, options={"idempotency_key": idempotency_key})))


def get_intent(intent_id: str) -> Intent:
    return _intent(_translated(lambda: _client().v1.payment_intents.retrieve(intent_id)))


def cancel_intent(intent_id: str) -> Intent:
    """Cancel a PaymentIntent nobody paid (Stripe refuses once it succeeded or is processing:
    a stated refusal, ``retryable`` false)."""
    return _intent(_translated(lambda: _client().v1.payment_intents.cancel(intent_id)))


def verified_event(payload: bytes, signature_header: str | None) -> dict:
    """The Stripe event in ``payload`` if ``signature_header`` signs it with our secret."""
    import stripe

    if not signature_header:
        raise InvalidWebhook("no Stripe-Signature header")
    try:
        event = stripe.Webhook.construct_event(payload, signature_header, settings.stripe_webhook_secret)
    except (ValueError, stripe.SignatureVerificationError) as error:
        raise InvalidWebhook(str(error)) from error
    return event.to_dict() if hasattr(event, "to_dict") else dict(event)


@dataclass(frozen=True)
class StripeRefund:
    id: str
    status: str  # "pending", "requires_action", "succeeded", "failed", "canceled"
    amount: int
    currency: str
    payment_intent: str | None
    failure_reason: str | None
    metadata: dict


def refund_of(raw: dict) -> StripeRefund:
    """Our view of a Stripe refund object (from an API answer or a webhook)."""
    return StripeRefund(id=raw["id"], status=raw.get("status") or "pending", amount=int(raw.get("amount") or 0),
                        currency=(raw.get("currency") or "").upper(), payment_intent=raw.get("payment_intent"),
                        failure_reason=raw.get("failure_reason"), metadata=dict(raw.get("metadata") or {}))


def create_refund(*, payment_intent_id: str, amount_cents: int, metadata: dict[str, str],
                  idempotency_key: str) -> StripeRefund:
    """Refund ``amount_cents`` of a PaymentIntent. The key makes a retry within Stripe's 24 h
    idempotency window return the first answer instead of refunding again."""
    params = {"payment_intent": payment_intent_id, "amount": amount_cents, "metadata": metadata}
    return refund_of(_translated(lambda: _client().v1.refunds.create(
        params=params, options={"idempotency_key": idempotency_key})).to_dict())


def refunds_of(payment_intent_id: str) -> list[StripeRefund]:
    """Every refund Stripe holds for a PaymentIntent (newest first), all pages."""
    found, params = [], {"payment_intent": payment_intent_id, "limit": 100}
    while True:
        page = _translated(lambda: _client().v1.refunds.list(params=params)).to_dict()
        found += [refund_of(raw) for raw in page.get("data") or []]
        if not page.get("has_more") or not page.get("data"):
            return found
        params = {**params, "starting_after": page["data"][-1]["id"]}


def received_cents(payment_intent_id: str) -> int:
    """What Stripe says it received for a PaymentIntent (``amount_received``; an answer without
    it, as localstripe gives, counts a succeeded intent's amount)."""
    raw = _translated(lambda: _client().v1.payment_intents.retrieve(payment_intent_id)).to_dict()
    if "amount_received" in raw:
        return int(raw["amount_received"] or 0)
    return int(raw.get("amount") or 0) if raw.get("status") == "succeeded" else 0


def processing_fee(payment_intent_id: str | None) -> int | None:
    """Stripe's fee on the PaymentIntent's charge, or ``None`` when Stripe does not tell."""
    if not payment_intent_id:
        return None
    try:
        raw = _translated(lambda: _client().v1.payment_intents.retrieve(
            payment_intent_id, params={"expand": ["latest_charge.balance_transaction"]})).to_dict()
    except PaymentError:
        return None
    charge = raw.get("latest_charge")
    transaction = charge.get("balance_transaction") if isinstance(charge, dict) else None
    return int(transaction["fee"]) if isinstance(transaction, dict) and "fee" in transaction else None
