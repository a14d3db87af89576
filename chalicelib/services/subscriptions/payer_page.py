"""The payer's page to confirm a card instalment their bank wants authenticated (3-D Secure).

When the collector charges a saved card off session and the bank asks for authentication, the
instalment is ``awaiting_payer`` (its PaymentIntent id kept as the instalment's ``intent_id``)
and :func:`~chalicelib.services.subscriptions.instalment_mails.ask_authentication` mails the
payer :func:`confirmation_link`.

**The link** names the tenant, the subscription and the instalment's number, nothing else,
signed with its own purpose (:data:`PURPOSE`: no other token stands for it) and valid
:data:`VALID_FOR` on the product's clock. A damaged link gets a bilingual notice (403), an
expired one too (410), one naming nothing of the tenant (another tenant's ids) a 404 notice.

**What the page shows** (:func:`answer`, French first then English) is decided by the
instalment as recorded and, while it waits for the payer, by the PaymentIntent's state read at
Stripe now (:func:`~chalicelib.services.money.saved_means.charge_outcome`):

- ``confirm``: Stripe still wants the payer's authentication: the amount, the subscription, the
  due date, the saved card, and a button that calls Stripe.js
  ``stripe.confirmCardPayment(client_secret, {payment_method: <the saved card>})``, shows the
  result and reloads the page;
- ``paid``: thanks. When Stripe says ``succeeded`` and our records do not yet (the payer just
  confirmed; Stripe's ``payment_intent.succeeded`` webhook has not arrived), the page applies
  it through the collector's ``apply_outcome`` (idempotent: the webhook arriving later, or the
  page loaded twice, counts the money once), so what the payer sees and our records agree;
- ``pending``: nothing for the payer to do (a charge under way, or a new attempt scheduled);
- ``closed``: the payment can no longer be confirmed online (Stripe failed or cancelled it, the
  saved card was revoked, the instalment or the subscription cancelled): contact the box office.
  A failure is not recorded here: Stripe's ``payment_intent.payment_failed`` webhook does it;
- ``unavailable`` (503): Stripe cannot be read now: try again in a few minutes.

The collector's ``apply_outcome`` is handed in by the caller (the handler) rather than imported:
the collector's mails import this module for the link, so importing the collector here would
close a module cycle (``tests/unit/test_import_graph.py``).

**Stripe.js** is loaded from ``STRIPE_JS_URL`` with the publishable key
``STRIPE_PUBLISHABLE_KEY``, both read here from the environment:

- ``STRIPE_PUBLISHABLE_KEY`` defaults to ``pk_test_local`` (what localstripe's stand-in takes):
  **production must set it** to the account's live publishable key (``pk_live_...``);
- ``STRIPE_JS_URL`` defaults to Stripe's ``https://js.stripe.com/v3/``, except when
  ``STRIPE_API_BASE`` points the app at localstripe (``make dev``, tests): then to the stand-in
  script localstripe serves at ``<STRIPE_API_BASE>/js.stripe.com/v3/``, which talks to that same
  localstripe (its 3-D Secure step is a confirm/cancel box in the page, then
  ``POST /v1/payment_intents/{id}/_authenticate`` with the publishable key and client secret).

The confirmation page's Content-Security-Policy allows scripts from that script's origin only
(plus the page's own inline script, by its SHA-256 hash), Stripe's API and 3-D Secure frames
(``https://api.stripe.com``; ``https://js.stripe.com``, ``https://hooks.stripe.com``: for
localstripe, its own origin), the inline stylesheet by its hash, and ``frame-ancestors 'none'``
with ``X-Frame-Options: DENY``. The other pages carry no script (the headers of
:mod:`chalicelib.services.shared.pages`).
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable
from urllib.parse import urlsplit

from chalicelib.adapters import clock, payments, signing
from chalicelib.config import settings
from chalicelib.errors import ConcurrentChange, LinkExpired, LinkInvalid, NotFound
from chalicelib.models.catalog import Performance, Product, Venue
from chalicelib.models.subscriptions import Subscription
from chalicelib.observability import logger
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.records import get_record
from chalicelib.values.formatting import date_text, money

PURPOSE = "instalment-confirmation"
VALID_FOR = timedelta(days=30)
SUBJECT = "instalment-page"  # the actor the page acts as (system:instalment-page in the audit trail)
DEFAULT_PUBLISHABLE_KEY = "pk_test_local"
DEFAULT_STRIPE_JS_URL = "https://js.stripe.com/v3/"
STRIPE_JS_ORIGIN = "https://js.stripe.com"
TEMPLATE = "instalment_confirmation.html.j2"

Recorder = Callable[[Actor, str, int, payments.ChargeOutcome], str]
"""``record(actor, subscription_id, number, outcome)``: the collector's ``apply_outcome``."""


# -- the link --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Address:
    tenant_id: str
    subscription_id: str
    number: int


def confirmation_link(tenant_id: str, subscription_id: str, number: int) -> str:
    """The absolute URL of instalment ``number``'s confirmation page, valid :data:`VALID_FOR`."""
    token = signing.sign(PURPOSE, {"t": tenant_id, "s": subscription_id, "n": int(number)},
                         expires_at=int((clock.now() + VALID_FOR).timestamp()))
    return f"{settings.public_base_url}/p/instalment/{token}"


def open_link(token: str) -> Address:
    """The instalment a genuine, unexpired link names (on the product's clock);
    :class:`~chalicelib.errors.LinkExpired` or :class:`~chalicelib.errors.LinkInvalid` otherwise."""
    try:
        payload = signing.verify(PURPOSE, token, now=clock.now().timestamp())
    except signing.Expired:
        raise LinkExpired("This link has expired.") from None
    except signing.BadSignature:
        raise LinkInvalid("This link was altered or copied incompletely.") from None
    tenant_id, subscription_id, number = payload.get("t"), payload.get("s"), payload.get("n")
    if not (isinstance(tenant_id, str) and isinstance(subscription_id, str) and isinstance(number, int)
            and not isinstance(number, bool) and number >= 1):
        raise LinkInvalid("This link does not name an instalment.")
    return Address(tenant_id, subscription_id, number)


# -- Stripe.js -------------------------------------------------------------------------------


def publishable_key() -> str:
    return os.environ.get("STRIPE_PUBLISHABLE_KEY", "").strip() or DEFAULT_PUBLISHABLE_KEY


def stripe_js_url() -> str:
    configured = os.environ.get("STRIPE_JS_URL", "").strip()
    if configured:
        return configured
    if settings.stripe_api_base:  # localstripe: its stand-in Stripe.js, talking to it
        return f"{settings.stripe_api_base.rstrip('/')}/js.stripe.com/v3/"
    return DEFAULT_STRIPE_JS_URL


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def _digest(text: str) -> str:
    return base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode()


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.S)


def _confirmation_headers(html: str) -> dict[str, str]:
    """The pages' headers, with a policy letting Stripe.js (from its configured origin only) and
    the page's own inline script run, and talk to Stripe."""
    from chalicelib.services.shared.pages import security_headers, stylesheet

    script_origin = _origin(stripe_js_url())
    if script_origin == STRIPE_JS_ORIGIN:
        connect, frames = "https://api.stripe.com", "https://js.stripe.com https://hooks.stripe.com"
    else:  # localstripe serves its script and its API from one origin
        connect, frames = script_origin, script_origin
    inline = " ".join(f"'sha256-{_digest(script)}'" for script in _INLINE_SCRIPT.findall(html))
    policy = (f"default-src 'none'; script-src {script_origin} {inline}; connect-src {connect}; "
              f"frame-src {frames}; style-src 'sha256-{_digest(stylesheet())}'; img-src 'self' data:; "
              f"form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
    return {**security_headers(), "Content-Security-Policy": policy, "X-Frame-Options": "DENY"}


# -- the page --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """The page as the handler sends it."""

    status: int
    html: str
    headers: dict[str, str]
    kind: str  # confirm, paid, pending, closed, unavailable; or the notice: invalid, expired, unknown


@dataclass(frozen=True)
class _Situation:
    kind: str
    client_secret: str | None = None
    payment_method_id: str | None = None
    card: str | None = None  # "visa •••• 3184"


def answer(token: str, *, record: Recorder) -> Answer:
    """What the payer sees through ``token`` (module docstring); ``record`` is the collector's
    ``apply_outcome``, used when Stripe says the payment succeeded and our records do not yet."""
    try:
        address = open_link(token)
    except LinkExpired:
        return _notice(410, "expired", "Ce lien a expiré",
                       "Le délai pour confirmer ce paiement en ligne est passé. Contactez la billetterie.",
                       "This link has expired",
                       "The time to confirm this payment online is over. Contact the box office.")
    except LinkInvalid:
        return _notice(403, "invalid", "Ce lien n'est pas valable",
                       "Il a été modifié ou recopié de travers. Reprenez le lien complet du mail.",
                       "This link is not valid",
                       "It was altered or copied incompletely. Use the whole link from the mail.")
    actor = Actor.system(address.tenant_id, SUBJECT)
    try:
        subscription = get_record(actor, Subscription, address.subscription_id)
        if address.number > len(subscription.instalments):
            raise NotFound(f"No instalment {address.number}.")
    except NotFound:
        return _notice(404, "unknown", "Échéance introuvable",
                       "Ce lien ne correspond à aucune échéance. Contactez la billetterie.",
                       "Instalment not found", "This link matches no instalment. Contact the box office.")
    situation = _situation(actor, subscription, address.number, record)
    if situation.kind == "paid":  # read again: the page shows the instalment as now recorded
        subscription = get_record(actor, Subscription, address.subscription_id)
    return _page(actor, subscription, address.number, situation)


def _situation(actor: Actor, subscription: Subscription, number: int, record: Recorder) -> _Situation:
    from chalicelib.services.money import saved_means

    instalment = subscription.instalments[number - 1]
    state = instalment.get("state")
    if state == "paid":
        return _Situation("paid")
    if state == "cancelled" or subscription.state == "cancelled" or (state == "failed"
                                                                     and not instalment.get("retry_on")):
        return _Situation("closed")  # cancelled, or failed for good (in arrears)
    if state != "awaiting_payer":
        return _Situation("pending")  # scheduled, a charge under way, a retry to come: nothing to do now
    intent_id = instalment.get("intent_id")
    if not intent_id:
        return _Situation("closed")
    try:
        outcome = saved_means.charge_outcome(actor, subscription.payer_contact_id, intent_id)
    except saved_means.PaymentUnavailable:
        return _Situation("unavailable")
    except NotFound:
        return _Situation("closed")
    if (outcome.metadata or {}).get("instalment") != f"{subscription.id}:{number}":
        return _Situation("closed")  # not this instalment's charge: never shown, never recorded
    if outcome.status == "succeeded":
        try:
            record(actor, subscription.id, number, outcome)
            logger.info("instalment paid, seen on the payer's page",
                        extra={"subscription_id": subscription.id, "instalment": number})
        except ConcurrentChange:  # the money is taken; the webhook or the next view records it
            logger.warning("instalment paid at Stripe, not recorded yet", extra={"subscription_id": subscription.id})
        return _Situation("paid")
    if outcome.status == "processing":
        return _Situation("pending")
    if outcome.status != "requires_authentication" or not outcome.client_secret:
        return _Situation("closed")  # failed, cancelled, or a state the payer cannot act on
    try:
        means = saved_means.get_means(actor, subscription.payer_contact_id, subscription.saved_means_id or "")
    except NotFound:
        return _Situation("closed")
    if means.kind != "card" or means.status != "active" or not means.payment_method_id:
        return _Situation("closed")  # revoked meanwhile: it may not be charged any more
    card = " ".join(part for part in ((means.brand or "").capitalize(), f"•••• {means.last4}" if means.last4 else "")
                    if part) or None
    return _Situation("confirm", client_secret=outcome.client_secret, payment_method_id=means.payment_method_id,
                      card=card)


STATUS = {"confirm": 200, "paid": 200, "pending": 200, "closed": 200, "unavailable": 503}


def _page(actor: Actor, subscription: Subscription, number: int, situation: _Situation) -> Answer:
    from chalicelib.services.options.notices import box_office
    from chalicelib.services.shared.pages import render, security_headers

    if settings.stage == "prod" and publishable_key() == DEFAULT_PUBLISHABLE_KEY and situation.kind == "confirm":
        logger.error("STRIPE_PUBLISHABLE_KEY is not set: Stripe.js cannot confirm instalments")
    performance = get_record(actor, Performance, subscription.performance_ids[0])
    venue = get_record(actor, Venue, performance.venue_id)
    product = get_record(actor, Product, subscription.product_id)
    instalment = subscription.instalments[number - 1]
    cents, due_on = int(instalment["amount_cents"]), date.fromisoformat(instalment["due_on"])
    html = render(
        TEMPLATE, "fr", kind=situation.kind, venue_name=venue.name, subscription_name=product.name,
        number=number, count=len(subscription.instalments),
        amount_fr=money(cents, subscription.currency, "fr"), amount_en=money(cents, subscription.currency, "en"),
        due_fr=date_text(due_on, None, "fr"), due_en=date_text(due_on, None, "en"), card=situation.card,
        box_office=box_office(actor, venue), stripe_js_url=stripe_js_url(), publishable_key=publishable_key(),
        client_secret=situation.client_secret, payment_method_id=situation.payment_method_id)
    headers = _confirmation_headers(html) if situation.kind == "confirm" else security_headers()
    return Answer(STATUS[situation.kind], html, headers, situation.kind)


def _notice(status: int, kind: str, title_fr: str, text_fr: str, title_en: str, text_en: str) -> Answer:
    from chalicelib.services.shared.pages import render, security_headers

    html = render("notice.html.j2", "fr", title_fr=title_fr, text_fr=text_fr, title_en=title_en, text_en=text_en)
    return Answer(status, html, security_headers(), kind)
