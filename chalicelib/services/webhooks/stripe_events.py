"""Stripe's webhook: an event is trusted only when its signature over the raw body is ours,
then handed to the service it concerns (a card payment to the checkout, a subscription
instalment's charge to the instalment collector, a refund's news to the refunds, a saved means'
set-up to the payer's means). Every event type is safe to receive twice and in any order."""
from __future__ import annotations

from chalicelib.adapters import payments
from chalicelib.errors import InvalidSignature
from chalicelib.observability import logger


def handle_webhook(raw_body: bytes, signature: str | None) -> str:
    """Apply one signed event; what happened, for the log (``ignored`` for a type we do not follow)."""
    try:
        event = payments.verified_event(raw_body, signature)
    except payments.InvalidWebhook as error:
        raise InvalidSignature(f"Not a Stripe event signed for us: {error}") from None
    outcome = _apply(event.get("type"), event["data"]["object"])
    logger.info("stripe event", extra={"event_id": event.get("id"), "type": event.get("type"), "outcome": outcome})
    return outcome


def _apply(kind: str | None, subject: dict) -> str:
    if kind in ("payment_intent.succeeded", "payment_intent.payment_failed") and \
            (subject.get("metadata") or {}).get("instalment"):
        from chalicelib.services.subscriptions import collector

        return collector.apply_charge_event(subject)
    if kind == "payment_intent.succeeded":
        from chalicelib.services.money import card_payments

        return card_payments.payment_succeeded(subject)
    if kind in ("refund.updated", "refund.failed", "refund.created"):
        from chalicelib.services.money import refunds

        return refunds.apply_stripe_refund(subject)
    if kind == "charge.refunded":
        from chalicelib.services.money import refunds

        return refunds.apply_charge_refunded(subject)
    if kind in ("setup_intent.succeeded", "setup_intent.setup_failed"):
        from chalicelib.services.money import saved_means

        return saved_means.apply_setup_intent_event(subject)
    return "ignored"
