"""A box office's day through the console, in one browser, one staff session, by keyboard: the
evening's performance cancelled, its customers notified, the mail reworded and those who did
not react reset, one mail resent to a corrected address and the delivery diagnosis read; two tickets of an order
refunded after their summary; the expired options released after their preview; a renewal
dry run; a season card printed on the simulated printer by the real agent; a customer found by
phone and a duplicate merged into them. Each step checks what the services then hold, not only
what the page says. The screens' own tests (test_console_*.py) cover each in detail; this one
checks that they make a day together."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from chalicelib.adapters import clock
from chalicelib.models.cards import CardPrinter, PrintJob
from chalicelib.models.catalog import Quota
from chalicelib.models.subscriptions import Subscription
from chalicelib.services.campaigns import affected_customers, campaigns
from chalicelib.services.cards import binding
from chalicelib.services.catalog import catalog
from chalicelib.services.contacts import contacts
from chalicelib.services.customers import record
from chalicelib.services.orders import orders
from tests.cards_world import CardWorld
from tests.e2e.card_agent import needs_agent, start_agent, until
from tests.e2e.console_helpers import axe_violations, choose_by_typing, job_ended_on_screen, sign_in
from tests.job_helpers import drive, ensure_jobs_queue
from tests.money_helpers import paid_card_order, paid_cheque_order, refunds_at_stripe
from tests.options_helpers import hold
from tests.orders_world import build_world, line
from tests.renewals_world import RENEWED_AT, SOLD_AT, renewals_of_three

PARIS = ZoneInfo("Europe/Paris")
EVENING_BUYERS = [("Élodie", "Lefèvre", "elodie@exemple.fr"), ("Marc", "Dubois", "marc.dubois@exmple.fr")]


def _job_done(browser, pump, tenant: str) -> None:
    """The job page the console opened, its job run to its end."""
    job_id = browser.current_url().rsplit("/", 1)[1].split("?")[0]
    assert drive(pump, tenant, job_id).status == "succeeded"


def _set(browser, field_id: str, value: str) -> None:
    browser._session_call("POST", "/execute/sync", {
        "script": "document.getElementById(arguments[0]).value = arguments[1];", "args": [field_id, value]})


def _choose(browser, css: str) -> None:
    browser._session_call("POST", f"/element/{browser.find(css)}/click", {})


def cancel_the_evening(browser, app_server, tenant, actor, world, pump) -> None:
    browser.open(f"{app_server.base}/console/campaigns")
    browser.press("#new-campaign", "enter", navigates=True)
    _choose(browser, f"#performance_id option[value='{world.evening.id}']")
    deadline = (clock.now() + timedelta(days=21)).astimezone(PARIS).replace(tzinfo=None, second=0, microsecond=0)
    _set(browser, "refund_deadline", deadline.isoformat(timespec="minutes"))
    browser.press("#review", "enter", navigates=True)
    assert "sera annulée et retirée de la vente" in browser.text()
    browser.press("#confirm", "enter", navigates=True)
    [campaign] = campaigns.list_campaigns(actor, limit=5, cursor=None).items
    assert catalog.get_performance(actor, world.evening.id).status == "cancelled"
    drive(pump, tenant, campaign.build_job_id)

    browser.open(f"{app_server.base}/console/campaigns/{campaign.id}")
    assert "Lefèvre" in browser.text() and "Dubois" in browser.text()
    browser.press("#notify", "enter", navigates=True)
    _job_done(browser, pump, tenant)
    assert affected_customers.counts(actor, campaign.id)["mail_sent"] == 2
    browser.open(f"{app_server.base}/console/campaigns/{campaign.id}")
    assert "2 client(s) ont reçu le mail mais n'ont pas réagi." in browser.text()
    browser.press("details summary", "enter")  # before notifying them again: the venue's own words
    browser.type("#mail_message", "Nous vous proposons une nouvelle date au printemps.")
    browser.press("#reword", "enter", navigates=True)
    assert "Le texte est enregistré" in browser.text()
    assert campaigns.get_campaign(actor, campaign.id).mail_message == "Nous vous proposons une nouvelle date au printemps."
    browser.press("#reset", "enter", navigates=True)
    _job_done(browser, pump, tenant)
    assert affected_customers.counts(actor, campaign.id)["not_notified"] == 2

    browser.open(f"{app_server.base}/console/campaigns/{campaign.id}?q=Dubois")  # a typo in the address
    browser.press("tbody th[scope=row] a", "enter", navigates=True)
    browser.type("#address", "marc.dubois@exemple.fr")
    browser.press("#resend", "enter", navigates=True)
    assert "Le mail a été renvoyé." in browser.text()
    order_id = browser.current_url().split("/customers/")[1].split("?")[0]
    resent = affected_customers.get_customer(actor, campaign.id, order_id)
    assert (resent.state, resent.email) == ("mail_sent", "marc.dubois@exemple.fr")
    browser.open(f"{app_server.base}/console/campaigns/{campaign.id}/diagnosis")
    assert "Diagnostic de délivrance" in browser.text() and "exemple.fr" in browser.text()
    assert axe_violations(browser) == []


def refund_two_tickets(browser, app_server, actor, world) -> None:
    order = paid_card_order(actor, world, line(world, world.full_price, world.matinee, attendee_name="Paul"),
                            line(world, world.reduced, world.matinee, attendee_name="Léa"),
                            line(world, world.full_price, world.matinee, attendee_name="Max"))
    browser.open(f"{app_server.base}/console/orders?q={order.number}")
    browser.press(f"a[href='/console/orders/{order.id}']", "enter", navigates=True)
    browser.press("#refund-pick-1", "space")
    browser.press("#refund-pick-2", "space")
    browser.press("#refund-summary", "enter", navigates=True)
    assert "Ce qui va se passer" in browser.text() and "53,00 €" in browser.text()
    assert not refunds_at_stripe(order.payment_intent_id)  # nothing before the confirmation
    browser.press("#confirm-refund", "enter", navigates=True)
    assert "Le remboursement est enregistré" in browser.text()
    refreshed = orders.get_order(actor, order.id)
    assert [t.state for t in orders.tickets_of(refreshed)] == ["refunded", "refunded", "valid"]
    assert [(r.amount, r.status) for r in refunds_at_stripe(order.payment_intent_id)] == [(5300, "succeeded")]


def release_expired_options(browser, app_server, tenant, actor, world) -> None:
    expired = clock.now() - timedelta(days=9)
    other = {"performance": world.other_performance, "tariff": world.other_tariff}
    dropped = [hold(actor, world, line(world, **other), deadline=expired,
                    buyer={"first_name": first, "last_name": last, "email": f"{last.lower()}@exemple.fr"})
               for first, last in (("Lennart", "Bosche"), ("Agnès", "Morel"))]
    still = hold(actor, world, line(world, **other), days=10, buyer={"first_name": "Léa", "last_name": "Garnier"})
    before = int(Quota.get(tenant, world.other_quota.id, consistent_read=True).remaining)
    browser.open(f"{app_server.base}/console/options")
    browser.type("#deadline_on_or_before", (clock.now() - timedelta(days=7)).astimezone(PARIS).strftime("%m%d%Y"))
    browser.press("#search", "enter", navigates=True)
    assert "2 ligne(s) correspondent" in browser.text() and "Garnier" not in browser.text()
    browser.press("#select-all", "space")
    browser.press("#release", "enter", navigates=True)
    assert "Ce qui va se passer" in browser.text()
    browser.press("#confirm-release", "enter", navigates=True)
    assert "Libération lancée" in browser.text()
    assert [orders.get_order(actor, o.id).status for o in (*dropped, still)] == ["cancelled", "cancelled", "unpaid"]
    assert int(Quota.get(tenant, world.other_quota.id, consistent_read=True).remaining) == before + 2


def merge_a_duplicate_found_by_phone(browser, app_server, tenant, actor, world, pump) -> None:
    kept = contacts.create_contact(actor, {"first_name": "Agnès", "last_name": "Roux",
                                           "emails": [{"address": "agnes.roux@exemple.fr"}],
                                           "phones": [{"number": "+33612345678"}]})
    duplicate = contacts.create_contact(actor, {"first_name": "Agnes", "last_name": "Roux",
                                                "emails": [{"address": "a.roux@exemple.org"}]})
    bought = paid_cheque_order(actor, world, line(world, world.full_price, world.matinee), buyer={
        "first_name": "Agnes", "last_name": "Roux", "email": "a.roux@exemple.org", "contact_id": duplicate.id})
    browser.open(f"{app_server.base}/console/customers")
    browser.type("#q", "06 12 34 56 78")
    browser.press("#q", "enter", navigates=True)
    browser.press(f"a[href='/console/customers/{kept.id}']", "enter", navigates=True)
    browser.press("#merge", "enter", navigates=True)
    browser.type("#q", "a.roux@exemple.org")
    browser.press("#q", "enter", navigates=True)
    browser.press(f"#pick-{duplicate.id}", "enter", navigates=True)
    assert "Fiche gardée : Agnès Roux" in browser.text()
    browser.press("#confirm-merge", "enter", navigates=True)
    _job_done(browser, pump, tenant)
    held = record.bookings(actor, kept.id, sort="date", descending=True, limit=10, cursor=None).items
    assert [row.entry.order_id for row in held] == [bought.id]
    assert contacts.get_contact(actor, duplicate.id).merged_into == kept.id


def print_a_season_card(browser, app_server, tenant, actor, pump, directory) -> None:
    cards = CardWorld(actor)
    subscription = cards.sell("Jeanne")
    agent = start_agent(actor, cards.site.id, directory)  # the venue's agent, its printer simulated
    try:
        until(pump, lambda: CardPrinter.get(tenant, cards.printer.id, consistent_read=True).state == "ready")
        browser.open(f"{app_server.base}/console/cards")
        browser.press("#print-one", "enter", navigates=True)
        browser.type("#q", "Jeanne Martin")
        browser.press("#search", "enter", navigates=True)
        browser.press(f"a[href='/console/cards/customers/{subscription.payer_contact_id}']", "enter", navigates=True)
        browser.press(f"#subscription-{subscription.id}", "enter", navigates=True)
        browser.press("#print", "enter", navigates=True)
        job_id = browser.current_url().rsplit("/", 1)[1]
        until(pump, lambda: PrintJob.get(tenant, job_id, consistent_read=True).state == "printed")
        [card] = binding.cards_of_subscription(actor, subscription.id)
        assert [entry["uid"] for entry in agent.printed()] == [card.uid]  # one card, its chip bound
        browser.open(browser.current_url())
        assert card.uid in browser.text()
    finally:
        agent.stop()


def run_a_renewal_dry_run(browser, app_server, tenant, actor, pump) -> None:
    clock.set_clock(clock.frozen_at(SOLD_AT))  # last season's subscriptions were sold in the autumn
    try:
        seasons, sold = renewals_of_three(actor)
        clock.set_clock(clock.frozen_at(RENEWED_AT))  # renewal time: in the spring, a new session
        sign_in(browser, app_server, tenant, role="admin", subject="direction",
                next_path="/console/subscriptions/renewals")
        browser.press("#new-run", "enter", navigates=True)
        choose_by_typing(browser, "#source_product_id", "Abonnement 26-27")
        choose_by_typing(browser, "#target_product_id", "Abonnement 27-28")
        browser.press("#choose-products", "enter", navigates=True)
        choose_by_typing(browser, "#fallback_mode", "E-billet")  # box office pick-up is no longer offered
        browser.press("#start-dry-run", "enter", navigates=True)
        job_ended_on_screen(browser, pump, tenant)
        assert "Simulation : rien n'a été écrit" in browser.text()
        rows = [browser._session_call("GET", f"/element/{row}/text") for row in browser.find_all("#progress tbody tr")]
        assert any(row.startswith("Anne Martin") and "Vente payée automatiquement" in row for row in rows)
        assert list(Subscription.by_product.query(f"{tenant}#{seasons.target.id}")) == []  # a dry run writes nothing
    finally:
        clock.set_clock(None)


@needs_agent
def test_a_box_office_day_through_the_console(app_server, console_browser, tenant, actor, pump, tmp_path):
    world = build_world(actor)
    for first, last, email in EVENING_BUYERS:
        paid_cheque_order(actor, world, buyer={"first_name": first, "last_name": last, "email": email})
    ensure_jobs_queue()
    browser = console_browser
    sign_in(browser, app_server, tenant, role="admin", subject="direction")  # renewals are the direction's

    cancel_the_evening(browser, app_server, tenant, actor, world, pump)
    refund_two_tickets(browser, app_server, actor, world)
    release_expired_options(browser, app_server, tenant, actor, world)
    print_a_season_card(browser, app_server, tenant, actor, pump, tmp_path)
    merge_a_duplicate_found_by_phone(browser, app_server, tenant, actor, world, pump)
    run_a_renewal_dry_run(browser, app_server, tenant, actor, pump)
