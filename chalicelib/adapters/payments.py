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
    """Stripe refused or could not be reached; ``retryable`` says whether trying again may work."""

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

    try:
        return call()
    except (stripe.APIConnectionError, stripe.RateLimitError) as error:
        raise PaymentError(str(error), retryable=True) from error
    except stripe.StripeError as error:
        raise PaymentError(str(error), retryable=False) from error


def create_intent(*, amount_cents: int, currency: str, metadata: dict[str, str], idempotency_key: str) -> Intent:
    """A card PaymentIntent the buyer's browser confirms."""
    params = {"amount": amount_cents, "currency": currency.lower(), "metadata": metadata,
              "payment_method_types": ["card"]}
    return _intent(_translated(lambda: _client().v1.payment_intents.create(
        params=params, options={"idempotency_key": idempotency_key})))


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
