"""Payers' saved means of payment (SEPA direct debit mandates, saved cards) and their off-session
charges: the ground the subscriptions' collector stands on (DOMAIN §4, automatic renewal).

A payer is a contact. Their means are attached at Stripe to one **Stripe Customer** per payer,
made once (:class:`~chalicelib.models.payers.PayerAccount`). Each means is a
:class:`~chalicelib.models.payers.PaymentMeans` set up through a Stripe SetupIntent:

- **SEPA at the box office** (:func:`start_sepa_setup`): staff type the IBAN of a mandate the payer
  signed on paper, with the holder's name and the signature date; the IBAN is checked here
  (country in the SEPA area, length, mod 97) before Stripe sees it, then the SetupIntent is
  confirmed server-side. Stripe creates the mandate; we keep its reference (RUM), the IBAN's
  country, bank code and last 4 characters. Usually ``active`` at once.
- **Card** (:func:`start_card_setup`): answers the SetupIntent's ``client_secret``; the payer's
  browser confirms it with Stripe.js (``confirmCardSetup``, 3-D Secure if the bank asks). The
  ``setup_intent.succeeded`` / ``setup_intent.setup_failed`` webhooks settle it
  (:func:`apply_setup_intent_event`), or :func:`record_setup_outcome` when asked.
- **Settling** reads the SetupIntent back from Stripe, so an event delivered twice, late or out
  of order changes nothing wrong: the state applied is Stripe's current one. ``pending ->
  active | failed``; ``failed -> active`` when the payer's browser retries the same card setup;
  ``active`` never goes back; ``revoked`` (staff, :func:`revoke_means`) is final, and detaches the
  PaymentMethod at Stripe so it can never be charged again.
- A payer that is merged or erased (``Contact.closed``) takes no new means (409), and its means
  are not usable (:func:`usable_means` answers none, :func:`charge_means` refuses).

**For the collector**:

- :func:`usable_means` lists the active means of a payer (newest first), optionally of a kind;
- :func:`charge_means` charges one off-session under a ``charge_key`` the caller chooses, one per
  attempt (``instalment:{subscription}:{n}:{attempt}``). It **looks first**: if Stripe already
  holds a PaymentIntent with this key (an earlier call whose answer was lost, beyond Stripe's
  24-hour idempotency window, or at localstripe which ignores keys), it answers that one and
  charges nothing. Otherwise it charges, with the Stripe idempotency key
  ``saved-means-charge:{tenant}:{charge_key}``. It never raises for Stripe's answer: the
  :class:`~chalicelib.adapters.payments.ChargeOutcome` says ``succeeded``, ``processing`` (SEPA:
  days), ``requires_authentication`` (a card's bank wants 3-D Secure: the payer must come back),
  ``failed`` (with Stripe's ``reason``) or ``unknown`` (Stripe did not say: call again with the
  **same** key, which looks first);
- :func:`find_charge` is that look alone; :func:`charge_outcome` re-reads one charge (a SEPA
  debit ``processing`` ends in ``payment_intent.succeeded`` or ``payment_intent.payment_failed``;
  :func:`chalicelib.adapters.payments.outcome_of_intent` reads those events' subjects).

Every change of a means or of a payer's account is audited (``payment_means``, ``payer``), and
every charge attempt leaves a ``charged`` event on its means.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timezone

from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters import clock, ids, payments
from chalicelib.config import settings
from chalicelib.errors import ConcurrentChange, Conflict, DomainError, FieldError, InvalidInput, NotFound
from chalicelib.models.base import TENANT_ID_PATTERN
from chalicelib.models.contacts import Contact
from chalicelib.models.payers import MEANS_KINDS, PayerAccount, PaymentMeans, payer_key
from chalicelib.observability import logger
from chalicelib.services.contacts import contacts
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import record_action, snapshot, write_audited
from chalicelib.services.shared.paging import Page
from chalicelib.values import bank_accounts

# The IBAN countries of values/bank_accounts.py that are outside the SEPA scheme (accepted there for
# an offline refund by transfer, but no SEPA direct debit can be drawn on them).
NOT_SEPA = frozenset({"MA", "TN", "DZ", "SN", "CI", "LB"})
SEPA_COUNTRIES = frozenset(bank_accounts.LENGTHS) - NOT_SEPA
# The metadata this module writes on every charge: the caller's own metadata may not use these names.
CHARGE_METADATA = ("tenant_id", "contact_id", "means_id", "charge_key", "purpose")
_CHARGE_KEY = re.compile(r"^[A-Za-z0-9_.:#-]{1,200}$")
_CURRENCY = re.compile(r"^[A-Z]{3}$")
WRITE_ATTEMPTS = 5


class PaymentUnavailable(DomainError):
    status = 503
    kind = "payment-unavailable"
    title = "Stripe did not answer; please try again in a moment"
    title_fr = "Stripe n'a pas répondu ; réessayez dans un instant"


class MeansNotUsable(Conflict):
    kind = "means-not-usable"
    title = "This means of payment cannot be charged (not set up, failed or revoked)"
    title_fr = "Ce moyen de paiement ne peut pas être débité (pas en place, en échec ou révoqué)"


@dataclass(frozen=True)
class CardSetup:
    """A card means being set up, and the secret the payer's browser confirms it with."""

    means: PaymentMeans
    client_secret: str


# Setting up ---------------------------------------------------------------------------------------

def start_sepa_setup(actor: Actor, contact_id: str, *, iban: str, account_holder: str, signed_on: date,
                     email: str | None = None) -> PaymentMeans:
    """Save a SEPA direct debit means from a mandate the payer signed on paper (box office):
    the IBAN is checked before Stripe sees it (422 on ``iban``), ``signed_on`` may not be in the
    future (422), and Stripe needs the holder's e-mail (``email``, else the contact's first
    address; 422 on ``email`` when there is none). The means is written ``pending``, then the
    SetupIntent confirmed; the answer is the means as Stripe left it: ``active`` (with its RUM),
    ``failed`` (Stripe refused: ``failure_reason``), or still ``pending`` if Stripe did not answer
    (the webhook settles it). 404 for an unknown contact, 409 for a merged or erased one."""
    checked = _sepa_iban(iban)
    holder = (account_holder or "").strip()
    if not holder:
        raise InvalidInput("The account holder is required.", errors=[FieldError("account_holder", "required")])
    today = clock.now().astimezone(_zone()).date()
    if signed_on > today:
        raise InvalidInput("The mandate cannot be signed in the future.",
                           errors=[FieldError("signed_on", "must be today or earlier")])
    if signed_on < date(2000, 1, 1):
        raise InvalidInput("This signature date is not plausible.", errors=[FieldError("signed_on", "too old")])
    contact = _open_contact(actor, contact_id)
    address = email or next((entry.address for entry in contact.emails or []), None)
    if not address:
        raise InvalidInput("Stripe sends the mandate and every debit notice to the holder: an e-mail address is "
                           "needed, and the contact has none.", errors=[FieldError("email", "required")])
    account = _payer_account(actor, contact)
    means, _ = _new_means(actor, contact, account, "sepa_debit", action="sepa-setup-started", details={
        "mandate_signed_on": signed_on, "country": checked[:2], "last4": checked[-4:]})
    try:
        try:
            setup = payments.confirm_sepa_setup(
                means.setup_intent_id, iban=checked, holder_name=holder, email=address,
                accepted_at=_accepted_at(signed_on),
                idempotency_key=f"saved-means-confirm:{actor.tenant_id}:{means.id}")
        except payments.PaymentError as error:
            setup = _after_refused_confirmation(means, error)
            if setup is None:
                raise
        return _settle(actor, means, setup)[0]
    except payments.PaymentError as error:  # Stripe silent: the means stays pending, its webhook settles it
        logger.warning("SEPA setup: Stripe did not answer", extra={"means_id": means.id, "error": str(error)})
        return get_means(actor, contact.id, means.id)


def start_card_setup(actor: Actor, contact_id: str) -> CardSetup:
    """Start saving a card: the means is written ``pending`` and the SetupIntent's
    ``client_secret`` answered for the payer's browser (Stripe.js ``confirmCardSetup``). The
    webhook (or :func:`record_setup_outcome`) then settles it. 404 / 409 as for SEPA."""
    contact = _open_contact(actor, contact_id)
    account = _payer_account(actor, contact)
    means, setup = _new_means(actor, contact, account, "card", action="card-setup-started", details={})
    return CardSetup(means=means, client_secret=setup.client_secret or "")


def _new_means(actor: Actor, contact: Contact, account: PayerAccount, kind: str, *, action: str,
               details: dict) -> tuple[PaymentMeans, payments.Setup]:
    """The SetupIntent at Stripe, then the means ``pending`` naming it (audited). Nothing is
    written if Stripe refuses or does not answer (503); a SetupIntent made for a means whose write
    then failed is never confirmed, and its events find no means."""
    means_id = ids.new_id()
    try:
        setup = payments.create_setup(
            customer_id=account.stripe_customer_id, kind=kind,
            metadata={"tenant_id": actor.tenant_id, "contact_id": contact.id, "means_id": means_id,
                      "purpose": "saved-means"},
            idempotency_key=f"saved-means-setup:{actor.tenant_id}:{means_id}")
    except payments.PaymentError as error:
        raise PaymentUnavailable("Stripe did not answer; nothing was saved. Try again in a moment.") from error
    now = clock.now()
    means = PaymentMeans(payer_key=payer_key(actor.tenant_id, contact.id), id=means_id, tenant_id=actor.tenant_id,
                         contact_id=contact.id, kind=kind, status="pending",
                         stripe_customer_id=account.stripe_customer_id, setup_intent_id=setup.id,
                         created_by=actor.subject, created_at=now, updated_at=now, **details)
    write_audited(actor, means, action=action, before=None, condition=PaymentMeans.id.does_not_exist())
    return means, setup


def _after_refused_confirmation(means: PaymentMeans, error: payments.PaymentError) -> payments.Setup | None:
    """The SetupIntent after its confirmation failed: Stripe's refusal (the means fails with its
    reason), or ``None`` when Stripe did not say and cannot be read either (it stays pending)."""
    try:
        setup = payments.get_setup(means.setup_intent_id)
    except payments.PaymentError:
        setup = None
    if error.retryable:
        return setup  # its current state, whatever it is; pending stays pending
    if setup is not None and (setup.status in ("succeeded", "canceled") or setup.error_code):
        return setup
    reason = getattr(error.__cause__, "user_message", None) or str(error)
    return payments.Setup(id=means.setup_intent_id, status="requires_payment_method", customer=None,
                          client_secret=None, metadata={}, error_code="refused", error_message=reason)


def record_setup_outcome(actor: Actor, contact_id: str, means_id: str) -> PaymentMeans:
    """Read the means' SetupIntent at Stripe and apply what it says (what the webhook does);
    503 if Stripe cannot be read."""
    means = get_means(actor, contact_id, means_id)
    try:
        return _settle(actor, means, payments.get_setup(means.setup_intent_id))[0]
    except payments.PaymentError as error:
        raise PaymentUnavailable("Stripe did not answer; try again in a moment.") from error


def apply_setup_intent_event(subject: dict) -> str:
    """A ``setup_intent.succeeded`` / ``setup_intent.setup_failed`` event: the means it names (by
    the metadata we gave the SetupIntent) settled from the SetupIntent as Stripe holds it **now**,
    so a repeated, late or out-of-order event changes nothing wrong. What happened, for the log.
    A raise (Stripe unreachable) makes Stripe deliver the event again."""
    metadata = subject.get("metadata") or {}
    tenant_id, contact_id = metadata.get("tenant_id", ""), metadata.get("contact_id", "")
    means_id = metadata.get("means_id", "")
    if metadata.get("purpose") != "saved-means" or not TENANT_ID_PATTERN.match(tenant_id) \
            or not ids.is_id(contact_id) or not ids.is_id(means_id) or not subject.get("id"):
        return "not ours"
    actor = Actor.system(tenant_id, "stripe")
    try:
        means = get_means(actor, contact_id, means_id)
    except NotFound:
        return "unknown means"
    if means.setup_intent_id != subject["id"]:
        return "not this means' setup"
    means, outcome = _settle(actor, means, payments.get_setup(subject["id"]))
    return outcome


def _settle(actor: Actor, means: PaymentMeans, setup: payments.Setup) -> tuple[PaymentMeans, str]:
    """Apply the SetupIntent's state to the means (audited), read again and redone if someone
    else wrote it meanwhile; the means and what happened."""
    for _ in range(WRITE_ATTEMPTS):
        was, before = means.status, snapshot(means)
        action = _applied(means, setup)
        if action is None:
            return _released_if_revoked(actor, means), f"unchanged {means.status}"
        means.updated_at = clock.now()
        try:
            write_audited(actor, means, action=action, before=before)
        except ConcurrentChange:
            means = get_means(actor, means.contact_id, means.id)
            continue
        return _released_if_revoked(actor, means), f"{was} -> {means.status}"
    raise ConcurrentChange(f"The means of payment {means.id} kept changing; try again.")


def _applied(means: PaymentMeans, setup: payments.Setup) -> str | None:
    """Change ``means`` as ``setup`` says; the audit action, or ``None`` when nothing changes."""
    method = setup.payment_method
    if means.status == "revoked":
        if method is not None and setup.status == "succeeded" and means.payment_method_id != method.id:
            means.payment_method_id, means.released_at = method.id, None  # set up after all: detach it
            return "set-up-after-revocation"
        return None
    if setup.status == "succeeded" and method is not None:
        if means.status == "active" and means.payment_method_id == method.id:
            return None
        if method.customer != means.stripe_customer_id:
            # Real Stripe attaches the method to the SetupIntent's customer when it succeeds;
            # localstripe does not. Off-session charges need it attached.
            payments.attach_method(method.id, means.stripe_customer_id)
        means.status, means.activated_at, means.failure_reason = "active", clock.now(), None
        means.payment_method_id, means.last4 = method.id, method.last4 or means.last4
        if method.kind == "sepa_debit":
            means.country, means.bank_code = method.country or means.country, method.bank_code
            means.mandate_id, means.mandate_reference = setup.mandate_id, setup.mandate_reference
        else:
            means.brand, means.exp_month, means.exp_year = method.brand, method.exp_month, method.exp_year
        return "setup-succeeded"
    refused = setup.status == "canceled" or (setup.status == "requires_payment_method" and setup.error_code)
    if refused and means.status == "pending":
        means.status = "failed"
        means.failure_reason = (": ".join(part for part in (setup.error_code, setup.error_message) if part)
                                or setup.status)[:300]
        return "setup-failed"
    return None  # still under way (requires_action, processing...), or already settled


# Reading ------------------------------------------------------------------------------------------

def get_means(actor: Actor, contact_id: str, means_id: str) -> PaymentMeans:
    """One means of the payer, or 404 (also for another tenant's ids)."""
    if not ids.is_id(contact_id) or not ids.is_id(means_id):
        raise NotFound(f"No means of payment with id {means_id!r}.")
    try:
        return PaymentMeans.get(payer_key(actor.tenant_id, contact_id), means_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"No means of payment with id {means_id!r}.") from None


def list_means(actor: Actor, contact_id: str) -> Page[PaymentMeans]:
    """Every means of the payer, in any status, newest first (one Query; a payer has a few).
    404 for an unknown contact."""
    contacts.get_contact(actor, contact_id)
    return Page(items=_means_of(actor.tenant_id, contact_id), next_cursor=None)


def usable_means(actor: Actor, contact_id: str, kind: str | None = None) -> list[PaymentMeans]:
    """The payer's means that can be charged off-session now (``active``; of ``kind`` if given:
    ``sepa_debit`` or ``card``), newest first. None for a merged or erased payer. 404 for an
    unknown contact."""
    if kind is not None and kind not in MEANS_KINDS:
        raise InvalidInput(f"Unknown kind of means {kind!r}.", errors=[FieldError("kind", "sepa_debit or card")])
    if contacts.get_contact(actor, contact_id).closed:
        return []
    return [means for means in _means_of(actor.tenant_id, contact_id)
            if means.status == "active" and means.payment_method_id and (kind is None or means.kind == kind)]


def _means_of(tenant_id: str, contact_id: str) -> list[PaymentMeans]:
    return list(PaymentMeans.query(payer_key(tenant_id, contact_id), scan_index_forward=False,
                                   consistent_read=True))


# Revoking -----------------------------------------------------------------------------------------

def revoke_means(actor: Actor, contact_id: str, means_id: str, *, reason: str | None = None) -> PaymentMeans:
    """Staff remove a means: ``revoked`` (audited, final; also for a merged or erased payer), then
    its PaymentMethod detached at Stripe (or its SetupIntent cancelled if it was never set up),
    so it can never be charged. If Stripe does not answer, the means is revoked all the same
    (never charged by us) and ``released_at`` stays empty: revoking again retries Stripe."""
    for _ in range(WRITE_ATTEMPTS):
        means = get_means(actor, contact_id, means_id)
        if means.status == "revoked":
            break
        before = snapshot(means)
        means.status, means.revoked_at, means.revoked_by = "revoked", clock.now(), actor.subject
        means.revoke_reason, means.updated_at = reason, clock.now()
        try:
            write_audited(actor, means, action="revoked", before=before)
            break
        except ConcurrentChange:
            continue
    else:
        raise ConcurrentChange(f"The means of payment {means_id} kept changing; try again.")
    return _released_if_revoked(actor, means)


def _released_if_revoked(actor: Actor, means: PaymentMeans) -> PaymentMeans:
    """A revoked means not yet released at Stripe, released (and that audited); Stripe silent: as is."""
    if means.status != "revoked" or means.released_at is not None:
        return means
    try:
        _release_at_stripe(means)
    except payments.PaymentError as error:
        logger.warning("revoked means not released at Stripe yet", extra={"means_id": means.id, "error": str(error)})
        return means
    before = snapshot(means)
    means.released_at = means.updated_at = clock.now()
    try:
        write_audited(actor, means, action="released-at-stripe", before=before)
    except ConcurrentChange:
        return get_means(actor, means.contact_id, means.id)
    return means


def _release_at_stripe(means: PaymentMeans) -> None:
    """Make the means unchargeable at Stripe. Raises PaymentError when Stripe did not answer."""
    method_id = means.payment_method_id
    if method_id is None:
        try:
            payments.cancel_setup(means.setup_intent_id)
            return
        except payments.PaymentError as error:
            if error.retryable:
                raise
            setup = payments.get_setup(means.setup_intent_id)  # refused: it moved on (set up, or cancelled)
            if setup.status != "succeeded" or setup.payment_method is None:
                return
            method_id = setup.payment_method.id
    try:
        payments.detach_method(method_id)
    except payments.PaymentError as error:
        if error.retryable:
            raise
        # a stated refusal: Stripe says it is not attached (already detached): nothing left to do


# Charging (the collector) ---------------------------------------------------------------------------

def charge_means(actor: Actor, contact_id: str, means_id: str, *, amount_cents: int, currency: str,
                 charge_key: str, metadata: dict[str, str] | None = None) -> payments.ChargeOutcome:
    """Charge an active means off-session, once per ``charge_key`` (the caller's, one per attempt).

    Looks first: a PaymentIntent Stripe holds with this key is answered as it stands and nothing
    is charged (so calling again with the same key after ``unknown`` is always safe). Otherwise
    one PaymentIntent (``confirm``, ``off_session``, the means' PaymentMethod and, for SEPA, its
    mandate), metadata ``tenant_id``, ``contact_id``, ``means_id``, ``charge_key`` plus the
    caller's ``metadata`` (at most 20 more keys; note that an ``order_id`` makes Stripe's
    ``payment_intent.succeeded`` pay that order through the checkout's webhook path).
    The outcome is never an exception: see :class:`~chalicelib.adapters.payments.ChargeOutcome`.
    Refused (raises): 422 for a bad amount, currency, key or metadata; 404 unknown ids; 409 for a
    means not active or a merged or erased payer. Audited on the means (``charged``)."""
    extra = _charge_metadata(metadata)
    errors = []
    if type(amount_cents) is not int or amount_cents <= 0:
        errors.append(FieldError("amount_cents", "a whole number of cents above zero"))
    if not isinstance(currency, str) or not _CURRENCY.match(currency):
        errors.append(FieldError("currency", "an ISO 4217 code in capitals, e.g. EUR"))
    if not isinstance(charge_key, str) or not _CHARGE_KEY.match(charge_key):
        errors.append(FieldError("charge_key", "1 to 200 of A-Z a-z 0-9 _ . : # -"))
    if errors:
        raise InvalidInput("This charge cannot be made as asked.", errors=errors)
    contacts.refuse_closed(contacts.get_contact(actor, contact_id))
    means = get_means(actor, contact_id, means_id)
    if means.status != "active" or not means.payment_method_id:
        raise MeansNotUsable(f"The means of payment {means.id} is {means.status}: it cannot be charged.")
    try:
        earlier = payments.charges_with(means.stripe_customer_id, "charge_key", charge_key)
    except payments.PaymentError as error:
        return payments.ChargeOutcome(status="unknown", payment_intent_id=None,
                                      reason=f"could not look for an earlier attempt first: {error}"[:300])
    if earlier:
        outcome = _most_telling(earlier)
        _audit_charge(actor, means, charge_key, outcome, adopted=True)
        return outcome
    outcome = payments.charge_off_session(
        customer_id=means.stripe_customer_id, payment_method_id=means.payment_method_id, kind=means.kind,
        amount_cents=amount_cents, currency=currency,
        metadata={**extra, "tenant_id": actor.tenant_id, "contact_id": contact_id, "means_id": means.id,
                  "charge_key": charge_key, "purpose": "saved-means-charge"},
        idempotency_key=f"saved-means-charge:{actor.tenant_id}:{charge_key}",
        mandate_id=means.mandate_id if means.kind == "sepa_debit" else None)
    _audit_charge(actor, means, charge_key, outcome, adopted=False)
    return outcome


def find_charge(actor: Actor, contact_id: str, charge_key: str) -> payments.ChargeOutcome | None:
    """The charge Stripe holds for ``charge_key`` among the payer's (the most telling one if an
    attempt was made twice: succeeded or processing first), or ``None`` if none was made.
    503 when Stripe cannot be read: then nothing is known, do not charge."""
    try:
        account = PayerAccount.get(payer_key(actor.tenant_id, contact_id), consistent_read=True)
    except DoesNotExist:
        return None
    try:
        found = payments.charges_with(account.stripe_customer_id, "charge_key", charge_key)
    except payments.PaymentError as error:
        raise PaymentUnavailable("Stripe did not answer; nothing is known of this charge yet.") from error
    return _most_telling(found) if found else None


def charge_outcome(actor: Actor, contact_id: str, payment_intent_id: str) -> payments.ChargeOutcome:
    """A charge of this payer read at Stripe now (404 if it is not one of theirs in this tenant;
    503 if Stripe cannot be read)."""
    try:
        outcome = payments.charge_outcome(payment_intent_id)
    except payments.PaymentError as error:
        if not error.retryable:
            raise NotFound(f"No charge {payment_intent_id!r}.") from None
        raise PaymentUnavailable("Stripe did not answer; try again in a moment.") from error
    metadata = outcome.metadata or {}
    if metadata.get("tenant_id") != actor.tenant_id or metadata.get("contact_id") != contact_id:
        raise NotFound(f"No charge {payment_intent_id!r}.")
    return outcome


def _charge_metadata(metadata: dict[str, str] | None) -> dict[str, str]:
    extra = dict(metadata or {})
    wrong = [name for name, value in extra.items()
             if name in CHARGE_METADATA or not isinstance(name, str) or not 0 < len(name) <= 40
             or not isinstance(value, str) or len(value) > 500]
    if wrong or len(extra) > 20:
        raise InvalidInput("Charge metadata: at most 20 keys of 1 to 40 characters with texts of at most 500, none "
                           f"of {', '.join(CHARGE_METADATA)}.", errors=[FieldError("metadata", "invalid")])
    return extra


_TELLING = {"succeeded": 0, "processing": 1, "requires_authentication": 2, "unknown": 3, "failed": 4}


def _most_telling(outcomes: list[payments.ChargeOutcome]) -> payments.ChargeOutcome:
    """Of several PaymentIntents of one key (localstripe ignores keys; a lost answer retried beyond
    Stripe's 24 h), the one that moved money, else the newest."""
    return min(outcomes, key=lambda outcome: _TELLING.get(outcome.status, 3))


def _audit_charge(actor: Actor, means: PaymentMeans, charge_key: str, outcome: payments.ChargeOutcome, *,
                  adopted: bool) -> None:
    record_action(actor, PaymentMeans.entity_type, means.id, "charged", {
        "charge_key": charge_key, "payment_intent_id": outcome.payment_intent_id, "status": outcome.status,
        "reason": outcome.reason, "amount_cents": outcome.amount, "currency": outcome.currency,
        "earlier_attempt": adopted})


# The payer and their Stripe Customer ------------------------------------------------------------------

def _open_contact(actor: Actor, contact_id: str) -> Contact:
    """The payer's contact, which must take new means: 404 unknown, 409 merged or erased."""
    contact = contacts.get_contact(actor, contact_id)
    contacts.refuse_closed(contact)
    return contact


def payer_account(actor: Actor, contact_id: str) -> PayerAccount | None:
    """The payer's Stripe Customer record, if they ever saved a means."""
    try:
        return PayerAccount.get(payer_key(actor.tenant_id, contact_id), consistent_read=True)
    except DoesNotExist:
        return None


def _payer_account(actor: Actor, contact: Contact) -> PayerAccount:
    """The payer's Stripe Customer, made the first time (audited). Two first setups at once may
    both ask Stripe: within a day the idempotency key makes that one Customer; otherwise the
    record written first wins (a conditional write) and the other Customer stays empty."""
    found = payer_account(actor, contact.id)
    if found is not None:
        return found
    name = " ".join(part for part in (contact.first_name, contact.last_name) if part) or None
    try:
        customer_id = payments.create_customer(
            name=name, email=next((entry.address for entry in contact.emails or []), None),
            metadata={"tenant_id": actor.tenant_id, "contact_id": contact.id},
            idempotency_key=f"payer-customer:{actor.tenant_id}:{contact.id}")
    except payments.PaymentError as error:
        raise PaymentUnavailable("Stripe did not answer; nothing was saved. Try again in a moment.") from error
    account = PayerAccount(payer_key=payer_key(actor.tenant_id, contact.id), tenant_id=actor.tenant_id,
                           contact_id=contact.id, stripe_customer_id=customer_id, created_at=clock.now())
    try:
        write_audited(actor, account, action="stripe-customer-created", before=None,
                      condition=PayerAccount.payer_key.does_not_exist())
    except ConcurrentChange:
        return PayerAccount.get(account.payer_key, consistent_read=True)
    return account


# Values ----------------------------------------------------------------------------------------------

def _sepa_iban(value: str) -> str:
    """The normalised IBAN of a SEPA-area account, or 422 on ``iban`` (before Stripe sees it)."""
    try:
        iban = bank_accounts.check_iban(value or "")
    except bank_accounts.InvalidIban as error:
        raise InvalidInput("The IBAN is not valid.", errors=[FieldError("iban", str(error))]) from None
    if iban[:2] not in SEPA_COUNTRIES:
        raise InvalidInput("No SEPA direct debit can be drawn on this account.",
                           errors=[FieldError("iban", f"IBANs of country {iban[:2]} are outside the SEPA area")])
    return iban


def _zone():
    from zoneinfo import ZoneInfo

    return ZoneInfo(settings.default_timezone)


def _accepted_at(signed_on: date) -> int:
    """When the paper mandate was signed, as Stripe's ``accepted_at``: noon of that day, or now if
    it was signed today (Stripe refuses a time to come)."""
    noon = datetime.combine(signed_on, time(12), tzinfo=_zone()).astimezone(timezone.utc)
    return int(min(noon, clock.now()).timestamp())
