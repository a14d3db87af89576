"""The refund page in a real browser (Debian's headless Chromium, a phone's screen): each choice
end to end, with the money seen where it lands (the card refund at localstripe, the IBAN on
the offline refund, the credit balance, the donation, the tickets kept); the deadline passed;
a tampered or expired link; a second submit; the language switch; keyboard use."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.adapters import clock, signing
from chalicelib.models.campaigns import AffectedCustomer
from chalicelib.services.campaigns import affected_customers, campaigns, refund_links
from chalicelib.services.money import customer_money
from chalicelib.services.money.refunds import refunds_of_order
from chalicelib.services.orders import orders
from tests.e2e.browser import Browser
from tests.job_helpers import drive, ensure_jobs_queue
from tests.money_helpers import paid_card_order, paid_cheque_order, refunds_at_stripe
from tests.orders_world import build_world


@pytest.fixture
def server(app_server):
    return app_server


@pytest.fixture(scope="module")
def browser():
    opened = Browser()
    yield opened
    opened.close()


@pytest.fixture
def world(actor):
    return build_world(actor)


def campaign_for(actor, world, pump, kind="cancellation", **extra):
    ensure_jobs_queue()
    request = {"performance_id": world.evening.id, "kind": kind,
               "refund_deadline": clock.now() + timedelta(days=14), **extra}
    if kind == "postponement":
        request["new_starts_at"] = clock.now() + timedelta(days=60)
    made = campaigns.create_campaign(actor, request)
    drive(pump, actor.tenant_id, made.build_job_id)
    return campaigns.get_campaign(actor, made.id)


def page_url(server, campaign, order_id) -> str:
    return f"{server.base}/p/refund/{refund_links.customer_token(campaign, order_id)}"


def customer(actor, campaign, order_id) -> AffectedCustomer:
    return affected_customers.get_customer(actor, campaign.id, order_id)


def test_a_card_buyer_asks_for_a_refund_and_it_reaches_stripe_once(server, browser, world, actor, pump):
    order = paid_card_order(actor, world)
    campaign = campaign_for(actor, world, pump)
    browser.open(page_url(server, campaign, order.id))
    assert "Représentation annulée" in browser.text() and "32,00" in browser.text()
    assert browser.attribute("html", "lang") == "fr"
    assert customer(actor, campaign, order.id).state == "mail_read"  # the first real visit
    assert browser.selected("#choice-refund")
    browser.click("button[type=submit]", navigates=True)
    assert "Votre choix est enregistré" in browser.text()
    assert "Votre choix" not in browser.source().split("Votre choix est enregistré")[1]  # no form any more
    [at_stripe] = refunds_at_stripe(order.payment_intent_id)
    assert at_stripe.amount == 3200 and at_stripe.status == "succeeded"
    stored = customer(actor, campaign, order.id)
    assert (stored.state, stored.choice, stored.chosen_by) == ("made_choices", "refund", "spectator")


def test_a_cheque_buyer_is_told_a_wrong_iban_then_gives_the_right_one(server, browser, world, actor, pump):
    order = paid_cheque_order(actor, world)
    campaign = campaign_for(actor, world, pump)
    browser.open(page_url(server, campaign, order.id))
    browser.type("#iban", "FR76 3000 6000 0112 3456 7890 188")
    browser.type("#holder", "Élodie Lefèvre")
    browser.click("button[type=submit]", navigates=True)
    assert "mal recopié" in browser.text()
    assert browser.attribute("#iban", "aria-invalid") == "true"
    assert "iban-error" in browser.attribute("#iban", "aria-describedby")
    assert browser.attribute("#iban", "value") == "FR76 3000 6000 0112 3456 7890 188"  # kept to correct
    assert not refunds_of_order(actor, order.id)
    browser.type("#iban", "FR76 3000 6000 0112 3456 7890 189")
    browser.click("button[type=submit]", navigates=True)
    assert "par virement sur le compte indiqué" in browser.text()
    [refund] = refunds_of_order(actor, order.id)
    assert (refund.state, refund.iban, refund.account_holder) == ("pending", "FR7630006000011234567890189",
                                                                   "Élodie Lefèvre")
    assert refund.origin == "refund-page"


def test_credit_lands_on_the_customers_account(server, browser, world, actor, pump):
    order = paid_cheque_order(actor, world)
    campaign = campaign_for(actor, world, pump)
    browser.open(page_url(server, campaign, order.id))
    browser.click("#choice-credit")
    browser.click("button[type=submit]", navigates=True)
    assert "avoir sur votre compte client" in browser.text()
    contact_id = orders.get_order(actor, order.id).buyer.contact_id
    account = customer_money.credit_account(actor, contact_id)
    assert account.balance_cents == 3200
    [entry] = customer_money.credit_history(actor, contact_id, limit=5, cursor=None).items
    assert (entry.origin_type, entry.origin_id) == ("campaign", campaign.id)


def test_a_donation_made_with_the_keyboard_only(server, browser, world, actor, pump):
    order = paid_cheque_order(actor, world)
    campaign = campaign_for(actor, world, pump)
    browser.open(page_url(server, campaign, order.id))
    for radio in browser.find_all("input[type=radio]"):
        radio_id = browser._session_call("GET", f"/element/{radio}/attribute/id")
        assert browser.find_all(f"label[for={radio_id}]"), f"{radio_id} has no label"
    browser.press("#choice-donation", "space")  # a focused radio is chosen with the space bar
    assert browser.selected("#choice-donation")
    browser.press("button[type=submit]", "enter", navigates=True)
    assert "Merci pour votre don" in browser.text()
    [donation] = customer_money.donation_history(actor, orders.get_order(actor, order.id).buyer.contact_id,
                                                 limit=5, cursor=None).items
    assert donation.amount_cents == 3200 and donation.origin_id == campaign.id


def test_keeping_tickets_for_the_new_date_moves_no_money(server, browser, world, actor, pump):
    order = paid_cheque_order(actor, world)
    campaign = campaign_for(actor, world, pump, kind="postponement")
    browser.open(page_url(server, campaign, order.id) + "?lang=en")
    assert "Performance postponed" in browser.text() and "moved to" in browser.text()
    assert browser.selected("#choice-keep")
    browser.click("button[type=submit]", navigates=True)
    assert "Your tickets stay valid for the new date" in browser.text()
    assert [t.state for t in orders.tickets_of(orders.get_order(actor, order.id))] == ["valid"]
    assert orders.get_order(actor, order.id).refunded_cents == 0


def test_after_the_deadline_nothing_is_offered(server, browser, world, actor, pump):
    order = paid_cheque_order(actor, world)
    campaign = campaign_for(actor, world, pump)
    clock.set_clock(clock.frozen_at(campaign.refund_deadline + timedelta(minutes=1)))
    try:
        browser.open(page_url(server, campaign, order.id))
        assert "La date limite est passée" in browser.text()
        assert not browser.find_all("form")
    finally:
        clock.set_clock(None)


def test_a_tampered_or_expired_link_gets_a_clear_page(server, browser, world, actor, pump):
    order = paid_cheque_order(actor, world)
    campaign = campaign_for(actor, world, pump)
    token = refund_links.customer_token(campaign, order.id)
    tampered = token[:-3] + ("AAA" if not token.endswith("AAA") else "BBB")
    browser.open(f"{server.base}/p/refund/{tampered}")
    assert "Ce lien n'est pas valable" in browser.text() and "This link is not valid" in browser.text()
    expired = signing.sign(refund_links.LINK, {"t": actor.tenant_id, "c": campaign.id, "o": order.id},
                           expires_at=int((clock.now() - timedelta(days=1)).timestamp()))
    browser.open(f"{server.base}/p/refund/{expired}")
    assert "Ce lien a expiré" in browser.text()
    import requests

    assert requests.get(f"{server.base}/p/refund/{tampered}", timeout=10).status_code == 403
    assert requests.get(f"{server.base}/p/refund/{expired}", timeout=10).status_code == 410
    assert customer(actor, campaign, order.id).state == "not_notified"


def test_a_second_submit_shows_the_choice_made_and_moves_no_money(server, browser, world, actor, pump):
    order = paid_card_order(actor, world)
    campaign = campaign_for(actor, world, pump)
    url = page_url(server, campaign, order.id)
    browser.open(url)  # the form is on screen in this tab...
    import re

    import requests

    other_tab = requests.get(url, headers={"User-Agent": "Mozilla/5.0 Firefox/140.0"}, timeout=10).text
    form = re.search(r'name="form" value="([^"]+)"', other_tab).group(1)
    assert requests.post(url, data={"form": form, "choice": "refund"}, timeout=30).status_code == 200  # ...chosen elsewhere
    browser.click("button[type=submit]", navigates=True)  # then submitted here
    assert "Votre choix est enregistré" in browser.text()
    assert len(refunds_at_stripe(order.payment_intent_id)) == 1
    assert orders.get_order(actor, order.id).refunded_cents == 3200


def test_a_forged_form_is_refused(server, world, actor, pump):
    import requests

    order = paid_cheque_order(actor, world)
    campaign = campaign_for(actor, world, pump)
    answer = requests.post(page_url(server, campaign, order.id), data={"choice": "donation", "form": "forged"},
                           timeout=10)
    assert answer.status_code == 403 and "Formulaire expiré" in answer.text
    assert orders.get_order(actor, order.id).donated_cents == 0


def test_the_language_switch_and_the_security_headers(server, browser, world, actor, pump):
    import requests

    order = paid_cheque_order(actor, world, buyer={"last_name": "Smith", "email": "smith@example.co.uk",
                                                   "language": "en"})
    campaign = campaign_for(actor, world, pump)
    browser.open(page_url(server, campaign, order.id))
    assert browser.attribute("html", "lang") == "en" and "Your order" in browser.text()
    browser.click("header a[hreflang=fr]", navigates=True)
    assert browser.attribute("html", "lang") == "fr" and "Votre commande" in browser.text()
    headers = requests.get(page_url(server, campaign, order.id), timeout=10).headers
    policy = headers["Content-Security-Policy"]
    assert "script-src" not in policy and "'unsafe-inline'" not in policy and "default-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy
    assert headers["Referrer-Policy"] == "no-referrer" and headers["X-Content-Type-Options"] == "nosniff"
    assert "<script" not in browser.source()
