"""Stripe, behind the few calls the product makes: PaymentIntents, refunds, webhook checks.

One :class:`stripe.StripeClient` per secret key (read from :mod:`chalicelib.adapters.secrets`,
so a rotated key is taken up without a restart; ``STRIPE_API_BASE`` points it at localstripe
locally), with explicit network retries. Every call that moves
money carries a deterministic idempotency key chosen by the caller (e.g.
``checkout:{order}``), so a retried request never charges or refunds twice at Stripe.
Webhooks are verified on the raw body against the webhook secret (same module).

``stripe`` is imported on first use: it costs a third of a second, which routes that never
touch money should not pay at cold start.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

from chalicelib.adapters import secrets
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


def _client():
    return _client_with(secrets.stripe_secret_key())


@lru_cache(maxsize=2)
def _client_with(secret_key: str):
    import stripe

    addresses = {"api": settings.stripe_api_base} if settings.stripe_api_base else None
    return stripe.StripeClient(secret_key, base_addresses=addresses, max_network_retries=2)


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
        event = stripe.Webhook.construct_event(payload, signature_header, secrets.stripe_webhook_secret())
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


# Saved means of payment: a Customer per payer, SetupIntents, and off-session charges --------------
#
# Written for real Stripe and tolerant of localstripe (the local stand-in), which differs in a few
# places, each said where it matters:
# - it has no Mandate object: the SEPA mandate's reference is on the PaymentMethod
#   (``sepa_debit.mandate_reference``) instead of ``SetupIntent.mandate`` -> Mandate;
# - it refuses parameters it does not model with a 400 "Unexpected <name>" before doing anything
#   (``mandate_data`` on a SetupIntent's confirmation, ``mandate`` on a PaymentIntent, ``customer``
#   when listing PaymentIntents): we send what real Stripe needs and, on exactly that refusal,
#   send again without it;
# - it answers an off-session card that needs 3-D Secure with a ``requires_action`` PaymentIntent,
#   where real Stripe answers a 402 ``authentication_required`` card error carrying the
#   PaymentIntent: both become one :class:`ChargeOutcome`;
# - it ignores idempotency keys: callers look for an earlier attempt (:func:`charges_with`) before
#   any retry, which also holds beyond Stripe's 24-hour idempotency window.


def _refused_by_localstripe(error: PaymentError, parameter: str) -> bool:
    """localstripe's refusal of a parameter it does not model (400 "Unexpected <name>", raised
    before it does anything). Real Stripe never answers this: it calls an unknown parameter
    "Received unknown parameter: <name>", and knows every parameter sent here."""
    import stripe

    cause = error.__cause__
    return isinstance(cause, stripe.InvalidRequestError) and (cause.user_message or "") == f"Unexpected {parameter}"


def _sent_without_if_refused(call, params: dict, parameter: str):
    """``call(params)``; if localstripe refuses ``parameter``, ``call`` again without it."""
    try:
        return call(params)
    except PaymentError as error:
        if parameter not in params or not _refused_by_localstripe(error, parameter):
            raise
        return call({name: value for name, value in params.items() if name != parameter})


def create_customer(*, name: str | None, email: str | None, metadata: dict[str, str], idempotency_key: str) -> str:
    """A Stripe Customer (its id): PaymentMethods are attached to it to be charged off-session."""
    params: dict = {"metadata": metadata}
    if name:
        params["name"] = name
    if email:
        params["email"] = email
    return _translated(lambda: _client().v1.customers.create(
        params=params, options={"idempotency_key": idempotency_key})).id


@dataclass(frozen=True)
class SavedMethod:
    """What we may keep of a PaymentMethod: never a full IBAN or card number."""

    id: str
    kind: str  # "sepa_debit" or "card"
    customer: str | None  # the Customer it is attached to
    country: str | None = None
    bank_code: str | None = None
    last4: str | None = None
    brand: str | None = None
    exp_month: int | None = None
    exp_year: int | None = None


@dataclass(frozen=True)
class Setup:
    """A SetupIntent as we follow it. ``status`` is Stripe's: ``requires_payment_method`` (new,
    or refused: then ``error_code``/``error_message`` say why), ``requires_confirmation``,
    ``requires_action`` (the payer must authenticate in their browser), ``processing``,
    ``canceled``, ``succeeded``. For SEPA, ``mandate_id`` (real Stripe) and ``mandate_reference``
    (the RUM) once set up."""

    id: str
    status: str
    customer: str | None
    client_secret: str | None
    metadata: dict
    payment_method: SavedMethod | None = None
    mandate_id: str | None = None
    mandate_reference: str | None = None
    error_code: str | None = None
    error_message: str | None = None


def saved_method_of(raw: dict) -> SavedMethod:
    """Our view of a PaymentMethod object: the kind and the few details we keep."""
    kind = raw.get("type") or ""
    details = raw.get(kind) or {}
    common = {"id": raw["id"], "kind": kind, "customer": _id_of(raw.get("customer")),
              "last4": details.get("last4")}
    if kind == "sepa_debit":
        return SavedMethod(**common, country=details.get("country"), bank_code=details.get("bank_code"))
    if kind == "card":
        return SavedMethod(**common, brand=details.get("brand"), exp_month=details.get("exp_month"),
                           exp_year=details.get("exp_year"))
    return SavedMethod(**common)


def _id_of(value) -> str | None:
    """An expandable field's id, whether Stripe gave the id or the object."""
    if isinstance(value, dict):
        return value.get("id")
    return value or None


def setup_of(raw: dict, *, mandate_reference: str | None = None) -> Setup:
    """Our view of a SetupIntent object (from an API answer or a webhook)."""
    method = raw.get("payment_method")
    error = raw.get("last_setup_error") or {}
    return Setup(id=raw["id"], status=raw.get("status") or "requires_payment_method",
                 customer=_id_of(raw.get("customer")), client_secret=raw.get("client_secret"),
                 metadata=dict(raw.get("metadata") or {}),
                 payment_method=saved_method_of(method) if isinstance(method, dict) else None,
                 mandate_id=_id_of(raw.get("mandate")), mandate_reference=mandate_reference,
                 error_code=error.get("decline_code") or error.get("code"), error_message=error.get("message"))


def create_setup(*, customer_id: str, kind: str, metadata: dict[str, str], idempotency_key: str) -> Setup:
    """A SetupIntent saving a ``sepa_debit`` or ``card`` means of ``customer_id`` for off-session use."""
    params = {"customer": customer_id, "payment_method_types": [kind], "usage": "off_session", "metadata": metadata}
    return setup_of(_translated(lambda: _client().v1.setup_intents.create(
        params=params, options={"idempotency_key": idempotency_key})).to_dict())


def confirm_sepa_setup(setup_id: str, *, iban: str, holder_name: str, email: str, accepted_at: int,
                       idempotency_key: str) -> Setup:
    """Confirm a SEPA SetupIntent server-side with the IBAN of a mandate the payer signed on paper
    (the box office): ``accepted_at`` (Unix time) is when they signed it. Stripe wants the holder's
    name and e-mail on a SEPA PaymentMethod (it sends the mandate and debit notices there).
    Answers the SetupIntent as :func:`get_setup` reads it (method and mandate reference)."""
    params = {
        "payment_method_data": {"type": "sepa_debit", "sepa_debit": {"iban": iban},
                                "billing_details": {"name": holder_name, "email": email}},
        # Real Stripe records the payer's acceptance on the Mandate it creates; localstripe, which
        # has no Mandate, refuses the parameter: it is then sent without it.
        "mandate_data": {"customer_acceptance": {"type": "offline", "accepted_at": accepted_at}},
    }
    _sent_without_if_refused(lambda sent: _translated(lambda: _client().v1.setup_intents.confirm(
        setup_id, params=sent, options={"idempotency_key": idempotency_key})), params, "mandate_data")
    return get_setup(setup_id)


def get_setup(setup_id: str) -> Setup:
    """The SetupIntent now, with its PaymentMethod and, for SEPA, the mandate's reference (RUM).

    Real Stripe: ``setup_intent.mandate`` names a Mandate whose
    ``payment_method_details.sepa_debit.reference`` is the RUM. localstripe has no Mandate (and
    refuses to expand ``mandate``): its PaymentMethod carries ``sepa_debit.mandate_reference``."""
    raw = _translated(lambda: _client().v1.setup_intents.retrieve(
        setup_id, params={"expand": ["payment_method"]})).to_dict()
    method = raw.get("payment_method") if isinstance(raw.get("payment_method"), dict) else {}
    reference = None
    if method.get("type") == "sepa_debit":
        mandate_id = _id_of(raw.get("mandate"))
        if mandate_id:
            reference = mandate_reference(mandate_id)
        else:  # localstripe
            reference = (method.get("sepa_debit") or {}).get("mandate_reference")
    return setup_of(raw, mandate_reference=reference)


def mandate_reference(mandate_id: str) -> str | None:
    """The reference (RUM) of a SEPA Mandate (real Stripe only: localstripe has no Mandate)."""
    raw = _translated(lambda: _client().v1.mandates.retrieve(mandate_id)).to_dict()
    return ((raw.get("payment_method_details") or {}).get("sepa_debit") or {}).get("reference")


def cancel_setup(setup_id: str) -> Setup:
    """Cancel a SetupIntent not set up yet (Stripe refuses once it succeeded: a stated refusal)."""
    return setup_of(_translated(lambda: _client().v1.setup_intents.cancel(setup_id)).to_dict())


def attach_method(payment_method_id: str, customer_id: str) -> SavedMethod:
    """Attach a PaymentMethod to a Customer. Real Stripe does it itself when a SetupIntent with a
    customer succeeds; localstripe does not, so it is done explicitly when it was not."""
    return saved_method_of(_translated(lambda: _client().v1.payment_methods.attach(
        payment_method_id, params={"customer": customer_id})).to_dict())


def detach_method(payment_method_id: str) -> SavedMethod:
    """Detach a PaymentMethod from its Customer: it can never be charged again (for SEPA, Stripe
    makes its mandate inactive)."""
    return saved_method_of(_translated(lambda: _client().v1.payment_methods.detach(payment_method_id)).to_dict())


CHARGE_STATUSES = ("succeeded", "processing", "requires_authentication", "failed", "unknown")


@dataclass(frozen=True)
class ChargeOutcome:
    """What became of an off-session charge, as one of :data:`CHARGE_STATUSES`:

    - ``succeeded``: the money is captured (a card; SEPA once the debit cleared);
    - ``processing``: a SEPA debit under way (days): ``payment_intent.succeeded`` or
      ``payment_intent.payment_failed`` will tell;
    - ``requires_authentication``: the card's bank wants 3-D Secure: bring the payer back
      on-session (Stripe.js ``confirmCardPayment(client_secret, {payment_method})``);
    - ``failed``: Stripe said no; ``reason`` is its decline or error code;
    - ``unknown``: Stripe did not state the outcome (network, timeout, 429, 5xx): the charge may
      have been made: look for it (:func:`charges_with`) before trying again.
    """

    status: str
    payment_intent_id: str | None
    reason: str | None = None
    amount: int | None = None
    currency: str | None = None
    client_secret: str | None = None
    metadata: dict | None = None
    created: int | None = None


def outcome_of_intent(raw: dict) -> ChargeOutcome:
    """A PaymentIntent object (an answer, a webhook's subject, a card error's) as a charge outcome."""
    status, error = raw.get("status"), raw.get("last_payment_error") or {}
    code = error.get("decline_code") or error.get("code")
    if status == "succeeded":
        mapped, reason = "succeeded", None
    elif status == "processing":
        mapped, reason = "processing", None
    elif status == "requires_action" or code == "authentication_required":
        # localstripe leaves an off-session 3-D Secure card in requires_action; real Stripe fails it
        # back to requires_payment_method with the error authentication_required
        mapped, reason = "requires_authentication", "authentication_required"
    elif status == "requires_payment_method" and error:
        mapped, reason = "failed", code or "payment_failed"
    elif status == "canceled":
        mapped, reason = "failed", raw.get("cancellation_reason") or "canceled"
    else:
        mapped, reason = "unknown", f"payment intent {status}"
    amount = raw.get("amount")
    return ChargeOutcome(status=mapped, payment_intent_id=raw.get("id"), reason=reason,
                         amount=int(amount) if amount is not None else None,
                         currency=(raw.get("currency") or "").upper() or None, client_secret=raw.get("client_secret"),
                         metadata=dict(raw.get("metadata") or {}), created=raw.get("created"))


def _refusal_outcome(error) -> ChargeOutcome:
    """A stated refusal as a charge outcome. A card error of an off-session PaymentIntent carries
    the PaymentIntent (real Stripe: 402 ``authentication_required`` for 3-D Secure, or a decline);
    localstripe's card errors carry only the charge."""
    body = (error.json_body.get("error") or {}) if isinstance(error.json_body, dict) else {}
    intent = body.get("payment_intent") if isinstance(body.get("payment_intent"), dict) else {}
    code = body.get("decline_code") or body.get("code") or getattr(error, "code", None)
    if intent:
        outcome = outcome_of_intent(intent)
        if "authentication_required" in (body.get("code"), body.get("decline_code")):
            return replace(outcome, status="requires_authentication", reason="authentication_required")
        if outcome.status != "failed":
            return replace(outcome, status="failed", reason=code or type(error).__name__)
        return outcome
    if code == "authentication_required":
        return ChargeOutcome(status="requires_authentication", payment_intent_id=None, reason=code)
    return ChargeOutcome(status="failed", payment_intent_id=None, reason=code or type(error).__name__)


def charge_off_session(*, customer_id: str, payment_method_id: str, kind: str, amount_cents: int, currency: str,
                       metadata: dict[str, str], idempotency_key: str, mandate_id: str | None = None) -> ChargeOutcome:
    """Charge a saved means while the payer is away: a PaymentIntent confirmed at once,
    ``off_session``. For SEPA, ``mandate_id`` names the mandate the debit relies on (real Stripe;
    localstripe has none and refuses the parameter). Never raises: every answer, refusal or
    silence is a :class:`ChargeOutcome`; ``unknown`` means look first (:func:`charges_with`)."""
    import stripe

    params = {"amount": amount_cents, "currency": currency.lower(), "customer": customer_id,
              "payment_method": payment_method_id, "payment_method_types": [kind], "confirm": True,
              "off_session": True, "metadata": metadata}
    if mandate_id:
        params["mandate"] = mandate_id

    def create(sent: dict) -> dict:
        return _translated(lambda: _client().v1.payment_intents.create(
            params=sent, options={"idempotency_key": idempotency_key})).to_dict()

    try:
        raw = _sent_without_if_refused(create, params, "mandate")
    except PaymentError as error:
        if error.retryable:
            return ChargeOutcome(status="unknown", payment_intent_id=None, reason=str(error)[:300])
        cause = error.__cause__
        return _refusal_outcome(cause) if isinstance(cause, stripe.StripeError) else \
            ChargeOutcome(status="failed", payment_intent_id=None, reason=str(error)[:300])
    return outcome_of_intent(raw)


def charge_outcome(payment_intent_id: str) -> ChargeOutcome:
    """What became of a charge, read at Stripe now (a SEPA debit ``processing`` moves on later).
    Raises :class:`PaymentError` when Stripe cannot be read."""
    return outcome_of_intent(_translated(lambda: _client().v1.payment_intents.retrieve(payment_intent_id)).to_dict())


def charges_with(customer_id: str, name: str, value: str) -> list[ChargeOutcome]:
    """Every PaymentIntent of the Customer whose metadata ``name`` is ``value``, newest first: the
    earlier attempts of a charge, to adopt before any retry. One List of the customer's
    PaymentIntents (all pages; real Stripe's list is read-after-write consistent, unlike its
    Search). localstripe cannot filter by ``customer``: it lists them all and we filter."""
    params: dict = {"customer": customer_id, "limit": 100}

    def page_of(sent: dict) -> dict:
        return _translated(lambda: _client().v1.payment_intents.list(params=sent)).to_dict()

    found, page = [], _sent_without_if_refused(page_of, params, "customer")
    while True:
        for raw in page.get("data") or []:
            if _id_of(raw.get("customer")) == customer_id and (raw.get("metadata") or {}).get(name) == value:
                found.append(outcome_of_intent(raw))
        if not page.get("has_more") or not page.get("data"):
            break
        sent = {"customer": customer_id, "limit": 100, "starting_after": page["data"][-1]["id"]}
        page = _sent_without_if_refused(page_of, sent, "customer")
    return sorted(found, key=lambda outcome: -(outcome.created or 0))
