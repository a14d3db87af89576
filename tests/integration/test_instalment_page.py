"""The payer's page confirming a card instalment their bank wants authenticated (3-D Secure), end
to end against the real local engines (DynamoDB Local, localstripe).

A subscription in 3 instalments is sold through the API, paid by a card saved at localstripe
with its 3-D Secure test card (``4000002760003184``: localstripe asks for authentication at every
use). The collector's off-session charge then answers ``requires_action`` (the adapter's
``requires_authentication``), the instalment becomes ``awaiting_payer`` and the payer is mailed
the page's link. The payer's browser is played as localstripe's stand-in Stripe.js plays it
(``confirmCardPayment``: after its confirm box, ``POST /v1/payment_intents/{id}/_authenticate``
with the publishable key and the client secret), then the page is loaded again. The last test
does it in headless Chromium, through the page's own button and script.

Stripe unreachable is the one focused fake (``saved_means.charge_outcome`` raising what it raises
when Stripe does not answer): localstripe always answers.
"""
from __future__ import annotations

import base64
import hashlib
import html
import json
import os
import re
import time
import urllib.request
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.adapters import clock, payments, signing
from chalicelib.config import settings
from chalicelib.models.subscriptions import Subscription
from chalicelib.services.catalog import catalog
from chalicelib.services.contacts import contacts
from chalicelib.services.ledger import ledger
from chalicelib.services.mail import notifications
from chalicelib.services.money import saved_means
from chalicelib.services.orders import orders
from chalicelib.services.subscriptions import collector, payer_page, terms
from tests.api.helpers import call
from tests.conftest import new_tenant_id
from tests.integration.test_checkout import deliver
from tests.orders_world import build_world

SOLD_AT = datetime(2027, 1, 2, 10, 0, tzinfo=timezone.utc)  # instalments: 2 January, 5 February, 5 March
CARD_3DS = "4000002760003184"  # localstripe (as Stripe) asks for 3-D Secure on every use of it
SUBSCRIPTION_NAME = "Abonnement Découverte"


@pytest.fixture
def frozen():
    clock.set_clock(clock.frozen_at(SOLD_AT))
    yield
    clock.set_clock(None)


@pytest.fixture
def offer(actor):
    world = build_world(actor, capacity=20)
    product = catalog.products.create(actor, {"kind": "subscription", "name": SUBSCRIPTION_NAME,
                                             "family_id": world.show.family_id, "season_id": world.show.season_id})
    tariff = catalog.tariffs.create(actor, {"product_id": product.id, "name": "Abonné", "price_cents": 10000})
    terms.set_terms(actor, product.id, {
        "performances": [{"performance_id": world.evening.id, "quota_id": world.evening_quota.id},
                         {"performance_id": world.other_performance.id, "quota_id": world.other_quota.id}],
        "choose": None, "delivery_modes": ["print_at_home"],
        "payment_plans": [{"id": "3x", "label": "En 3 fois", "instalments": 3, "day_of_month": 5,
                           "first_at_purchase": True}]})
    return product, tariff


def _card_saved_with_3ds(actor, contact_id: str):
    """A card saved as the payer's browser saves it with localstripe's Stripe.js
    (``confirmCardSetup``: the SetupIntent confirmed with the card, ``requires_action``, then,
    once the 3-D Secure box is accepted, confirmed again), settled from Stripe's state."""
    started = saved_means.start_card_setup(actor, contact_id)
    setup_id = started.client_secret.split("_secret_")[0]
    method = payments._client().v1.payment_methods.create(params={
        "type": "card", "card": {"number": CARD_3DS, "exp_month": 12, "exp_year": 2034, "cvc": "123"}})
    asked = payments._client().v1.setup_intents.confirm(
        setup_id, params={"payment_method": method.id, "client_secret": started.client_secret})
    assert asked.status == "requires_action"
    assert payments._client().v1.setup_intents.confirm(
        setup_id, params={"client_secret": started.client_secret}).status == "succeeded"
    card = saved_means.record_setup_outcome(actor, contact_id, started.means.id)
    assert card.status == "active" and card.payment_method_id == method.id
    return card


def _sold_and_awaiting_payer(client, staff_headers, actor, offer) -> tuple[dict, object]:
    """The subscription sold by the saved card, and its first instalment charged off session by
    the collector: the bank wants the payer, so it waits for them."""
    anne = contacts.create_contact(actor, {"first_name": "Anne", "last_name": "Martin",
                                           "emails": [{"address": "anne.martin@exemple.fr"}]})
    card = _card_saved_with_3ds(actor, anne.id)
    product, tariff = offer
    status, sale, _ = call(client, "POST", "/subscriptions", staff_headers, {
        "product_id": product.id, "tariff_id": tariff.id, "payer_contact_id": anne.id,
        "delivery_mode": "print_at_home", "plan_id": "3x", "means": "card_alias", "saved_means_id": card.id,
        "subscribers": [{"holder_contact_id": anne.id}]})
    assert status == 201, sale
    assert collector.collect(actor, sale["subscriptions"][0]["id"], 1) == "awaiting_payer"
    return sale, card


def _subscription(actor, sale) -> Subscription:
    return Subscription.get(actor.tenant_id, sale["subscriptions"][0]["id"], consistent_read=True)


def _path(link: str) -> str:
    assert link.startswith(f"{settings.public_base_url}/p/instalment/")
    return link[len(settings.public_base_url):]


def _page(client, path: str):
    """Status, the page's text (character references resolved) and headers."""
    response = client.get(path)
    return response.status_code, html.unescape(response.body.decode("utf-8")), response.headers


def _browser_confirms_payment(client_secret: str, *, success: bool = True) -> dict:
    """What localstripe's stand-in Stripe.js does for ``confirmCardPayment`` once its 3-D Secure
    box is answered: a POST authenticated by the publishable key and the client secret alone."""
    intent_id = client_secret.split("_secret_")[0]
    request = urllib.request.Request(
        f"{os.environ['STRIPE_API_BASE']}/v1/payment_intents/{intent_id}/_authenticate"
        f"?success={'true' if success else 'false'}",
        data=json.dumps({"key": payer_page.publishable_key(), "client_secret": client_secret}).encode(),
        method="POST")
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read())


def _shown(body: str, attribute: str) -> str:
    found = re.search(rf'{attribute}="([^"]*)"', body)
    assert found, attribute
    return found.group(1)


def _paid_once(actor, sale) -> None:
    order = orders.get_order(actor, sale["order_id"])
    assert int(order.paid_cents) == 3333 and not order.paid
    entries = ledger.entries_of_order(actor.tenant_id, order.id)
    assert [(entry.kind, int(entry.amount_cents)) for entry in entries] == [("sale", 3333)]


def _settle_by_webhook(client, received, intent_id: str) -> None:
    deadline = datetime.now(timezone.utc) + timedelta(seconds=20)
    while datetime.now(timezone.utc) < deadline:
        body, signature = received.get(timeout=20)
        event = json.loads(body)
        if event["data"]["object"].get("id") == intent_id and event["type"] == "payment_intent.succeeded":
            assert deliver(client, body, signature).status_code == 204
            return
    raise AssertionError(f"no news of {intent_id}")


def test_the_payer_confirms_at_their_bank_and_the_instalment_is_paid_once(client, staff_headers, actor, frozen,
                                                                          offer, stripe_webhooks):
    sale, card = _sold_and_awaiting_payer(client, staff_headers, actor, offer)
    subscription = _subscription(actor, sale)
    instalment = subscription.instalments[0]
    assert instalment["state"] == "awaiting_payer" and instalment["intent_id"].startswith("pi_")
    link = payer_page.confirmation_link(actor.tenant_id, subscription.id, 1)
    mailed = [mail for mail in notifications.of_entity(actor, "subscription", subscription.id, limit=10,
                                                       cursor=None).items
              if mail.template == "instalment_authentication"]
    assert [mail.action_url for mail in mailed] == [link]  # the mail carries this very link

    status, body, headers = _page(client, _path(link))
    assert status == 200
    assert "Confirmez le paiement" in body and "Confirm the payment" in body
    assert body.index("Confirmez le paiement") < body.index("Confirm the payment")  # French first
    assert "33,33\u00a0€" in body and "€33.33" in body and SUBSCRIPTION_NAME in body
    assert "samedi 2 janvier 2027" in body and "Saturday 2 January 2027" in body
    assert '<meta name="robots" content="noindex, nofollow">' in body
    client_secret = _shown(body, "data-secret")
    assert client_secret.startswith(f"{instalment['intent_id']}_secret_")
    assert _shown(body, "data-method") == card.payment_method_id
    assert _shown(body, "data-key") == payer_page.publishable_key()
    stripe_js = f"{os.environ['STRIPE_API_BASE']}/js.stripe.com/v3/"  # localstripe's stand-in script
    assert f'<script src="{stripe_js}"></script>' in body
    # Stripe.js from its origin only, the page's own script by its hash, never framed
    policy = headers["Content-Security-Policy"]
    script = re.search(r"<script>(.*?)</script>", body, re.S).group(1)
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    origin = os.environ["STRIPE_API_BASE"].rstrip("/")
    assert f"script-src {origin} 'sha256-{digest}';" in policy
    assert "frame-ancestors 'none'" in policy and "default-src 'none'" in policy
    assert headers["X-Frame-Options"] == "DENY" and headers["Cache-Control"] == "no-store, private"
    assert int(orders.get_order(actor, sale["order_id"]).paid_cents) == 0

    intent = _browser_confirms_payment(client_secret)
    assert intent["status"] == "succeeded"
    assert _subscription(actor, sale).instalments[0]["state"] == "awaiting_payer"  # the webhook is not here yet

    for _ in range(2):  # the page tells Stripe's news, and records it once
        status, body, headers = _page(client, _path(link))
        assert status == 200
        assert "Paiement reçu" in body and "Payment received" in body and "data-secret" not in body
        assert "Votre échéance de 33,33\u00a0€ est payée" in body and "Your instalment of €33.33 is paid" in body
        assert "script-src" not in headers["Content-Security-Policy"]  # no script on the other pages
        assert _subscription(actor, sale).instalments[0]["state"] == "paid"
        _paid_once(actor, sale)
    # Stripe's webhook of the same payment, arriving after the page: nothing more.
    _settle_by_webhook(client, stripe_webhooks, instalment["intent_id"])
    _paid_once(actor, sale)
    assert [item["state"] for item in _subscription(actor, sale).instalments] == ["paid", "scheduled", "scheduled"]


@pytest.mark.parametrize("how", ["authentication refused", "intent cancelled"])
def test_a_payment_refused_at_the_bank_or_cancelled_sends_the_payer_to_the_box_office(client, staff_headers, actor,
                                                                                      frozen, offer, how):
    sale, _ = _sold_and_awaiting_payer(client, staff_headers, actor, offer)
    subscription = _subscription(actor, sale)
    path = _path(payer_page.confirmation_link(actor.tenant_id, subscription.id, 1))
    client_secret = _shown(_page(client, path)[1], "data-secret")
    if how == "authentication refused":
        _browser_confirms_payment(client_secret, success=False)
    else:
        payments._client().v1.payment_intents.cancel(subscription.instalments[0]["intent_id"])

    status, body, _ = _page(client, path)
    assert status == 200
    assert "ne peut plus être confirmé en ligne" in body and "can no longer be confirmed online" in body
    assert "Contactez la billetterie" in body and "Contact the box office" in body
    assert "data-secret" not in body and "<script" not in body
    assert _subscription(actor, sale).instalments[0]["state"] == "awaiting_payer"  # the webhook records failures
    assert int(orders.get_order(actor, sale["order_id"]).paid_cents) == 0


def test_stripe_unreachable_asks_to_try_again_later(client, staff_headers, actor, frozen, offer, monkeypatch):
    """Focused fake: localstripe always answers, so ``charge_outcome`` raises what it raises when
    Stripe does not."""
    sale, _ = _sold_and_awaiting_payer(client, staff_headers, actor, offer)
    subscription = _subscription(actor, sale)

    def silent(*args, **kwargs):
        raise saved_means.PaymentUnavailable("Stripe did not answer; try again in a moment.")

    monkeypatch.setattr(saved_means, "charge_outcome", silent)
    status, body, _ = _page(client, _path(payer_page.confirmation_link(actor.tenant_id, subscription.id, 1)))
    assert status == 503
    assert "Réessayez dans quelques minutes" in body and "Try again in a few minutes" in body
    assert "data-secret" not in body
    assert _subscription(actor, sale).instalments[0]["state"] == "awaiting_payer"


def test_a_tampered_or_expired_link_gets_a_clear_page(client, staff_headers, actor, frozen, offer):
    sale, _ = _sold_and_awaiting_payer(client, staff_headers, actor, offer)
    subscription = _subscription(actor, sale)
    token = _path(payer_page.confirmation_link(actor.tenant_id, subscription.id, 1)).rsplit("/", 1)[1]
    body_part, mac = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(body_part + "=" * (-len(body_part) % 4)))
    payload["p"]["n"] = 2  # another instalment, under the first one's signature
    forged = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()) \
        .rstrip(b"=").decode()
    refund_purpose = signing.sign("refund-page", {"t": actor.tenant_id, "s": subscription.id, "n": 1})
    for bad in (f"{forged}.{mac}", token[:-3], "not-a-signed-token", refund_purpose):
        status, body, headers = _page(client, f"/p/instalment/{bad}")
        assert status == 403, bad
        assert "Ce lien n'est pas valable" in body and "This link is not valid" in body
        assert SUBSCRIPTION_NAME not in body and "<script" not in body
        assert headers["X-Frame-Options"] == "DENY"

    status, _, _ = _page(client, f"/p/instalment/{token}")
    assert status == 200  # valid until 30 days after it was sent
    clock.set_clock(clock.frozen_at(SOLD_AT + payer_page.VALID_FOR + timedelta(seconds=1)))
    status, body, _ = _page(client, f"/p/instalment/{token}")
    assert status == 410
    assert "Ce lien a expiré" in body and "This link has expired" in body
    assert SUBSCRIPTION_NAME not in body and "data-secret" not in body


def test_a_link_only_opens_its_own_tenants_instalment(client, staff_headers, actor, frozen, offer):
    """The token names the tenant: A's subscription under another tenant's name is nothing, and
    a token whose tenant was rewritten is refused as tampered."""
    sale, _ = _sold_and_awaiting_payer(client, staff_headers, actor, offer)
    subscription = _subscription(actor, sale)
    other = new_tenant_id()
    for link in (payer_page.confirmation_link(other, subscription.id, 1),
                 payer_page.confirmation_link(actor.tenant_id, subscription.id, 4),  # no such instalment
                 payer_page.confirmation_link(actor.tenant_id, "01ARZ3NDEKTSV4RRFFQ69G5FAV", 1)):
        status, body, _ = _page(client, _path(link))
        assert status == 404, link
        assert "Échéance introuvable" in body and "Instalment not found" in body
        assert SUBSCRIPTION_NAME not in body and "data-secret" not in body and "33,33" not in body

    token = _path(payer_page.confirmation_link(actor.tenant_id, subscription.id, 1)).rsplit("/", 1)[1]
    body_part, mac = token.split(".")
    rewritten = base64.urlsafe_b64decode(body_part + "=" * (-len(body_part) % 4)).replace(
        actor.tenant_id.encode(), other.encode())
    status, body, _ = _page(client, f"/p/instalment/{base64.urlsafe_b64encode(rewritten).rstrip(b'=').decode()}.{mac}")
    assert status == 403 and SUBSCRIPTION_NAME not in body
    assert _subscription(actor, sale).instalments[0]["state"] == "awaiting_payer"  # nothing of A moved


def test_a_paid_instalment_says_so_without_asking_stripe(client, staff_headers, actor, frozen, offer, monkeypatch):
    """Once recorded paid (by the webhook), the page thanks the payer and reads nothing at Stripe."""
    sale, _ = _sold_and_awaiting_payer(client, staff_headers, actor, offer)
    subscription = _subscription(actor, sale)
    outcome = saved_means.charge_outcome(actor, subscription.payer_contact_id,
                                         subscription.instalments[0]["intent_id"])
    _browser_confirms_payment(outcome.client_secret)
    assert collector.apply_outcome(actor, subscription.id, 1, saved_means.charge_outcome(
        actor, subscription.payer_contact_id, outcome.payment_intent_id)) == "paid"

    def never(*args, **kwargs):
        raise AssertionError("Stripe asked")

    monkeypatch.setattr(saved_means, "charge_outcome", never)
    status, body, _ = _page(client, _path(payer_page.confirmation_link(actor.tenant_id, subscription.id, 1)))
    assert status == 200 and "Paiement reçu" in body and "Payment received" in body
    _paid_once(actor, sale)


def test_the_pages_own_script_confirms_in_a_real_browser(app, client, staff_headers, actor, frozen, offer):
    """The page in Debian's headless Chromium (as the refund page's browser tests): its
    Content-Security-Policy lets localstripe's stand-in Stripe.js load and reach localstripe, and
    the page's own script run; the payer presses the button, accepts the stand-in's 3-D Secure
    box, and the page reloads to say the instalment is paid, as our records do."""
    from tests.e2e.browser import AppServer, Browser

    sale, _ = _sold_and_awaiting_payer(client, staff_headers, actor, offer)
    subscription = _subscription(actor, sale)
    server, browser = AppServer(app), Browser()
    try:
        browser.open(server.base + _path(payer_page.confirmation_link(actor.tenant_id, subscription.id, 1)))
        assert "Confirmez le paiement" in browser.text()
        browser.click("#confirm")
        browser.click("body > div > button:nth-of-type(1)")  # the stand-in's box: "Complete authentication"
        deadline, text = time.monotonic() + 20, ""
        while "Paiement reçu" not in text and time.monotonic() < deadline:
            time.sleep(0.2)
            try:
                text = browser.text()
            except AssertionError:  # the page reloading under WebDriver: read it again
                text = ""
        assert "Paiement reçu" in text and "Payment received" in text
    finally:
        browser.close()
        server.close()
    assert _subscription(actor, sale).instalments[0]["state"] == "paid"
    _paid_once(actor, sale)
