"""The console's screens in a real browser, used by keyboard as a box office would: a cancelled
performance's affected customers notified, reset and one resent to a corrected address, the
delivery diagnosis read; a ticket of an order cancelled after its summary, the order marked
paid; the jobs that did it. axe-core checks each screen, and each is photographed for
docs/console.md. The list screens read one page of results, never the table."""
from __future__ import annotations

import re
from datetime import timedelta

from chalicelib.adapters import clock
from chalicelib.models.mail import Notification
from chalicelib.services.campaigns import affected_customers, campaigns
from chalicelib.services.jobs import framework as jobs
from chalicelib.services.jobs.framework import ChunkResult, job_kind
from chalicelib.services.orders import orders
from tests.e2e.console_helpers import (
    axe_violations,
    choose_by_typing,
    dynamodb_reads,
    job_ended_on_screen,
    screenshot,
    sign_in,
    staff_http,
)
from tests.job_helpers import drive, ensure_jobs_queue
from tests.money_helpers import paid_cheque_order
from tests.orders_world import build_world, draft, line

BUYERS = [("Élodie", "Lefèvre", "elodie@exemple.fr"), ("Marc", "Dubois", "marc.dubois@exemple.fr"),
          ("Chloé", "Martin", "chloe.martin@exemple.fr")]


@job_kind("test.console_noop")
def _noop(actor, params, cursor, budget):
    return ChunkResult(done=1, total=1, cursor=None)


def _cancelled_performance(actor, world, pump):
    for first, last, email in BUYERS:
        paid_cheque_order(actor, world, buyer={"first_name": first, "last_name": last, "email": email})
    ensure_jobs_queue()
    made = campaigns.create_campaign(actor, {"performance_id": world.evening.id, "kind": "cancellation",
                                             "refund_deadline": clock.now() + timedelta(days=14)})
    drive(pump, actor.tenant_id, made.build_job_id)
    return campaigns.get_campaign(actor, made.id)


def _states(actor, campaign) -> dict:
    return affected_customers.counts(actor, campaign.id)


def test_a_cancelled_performance_notified_reset_and_one_resent_by_keyboard(
        app_server, console_browser, tenant, actor, pump):
    world = build_world(actor)
    campaign = _cancelled_performance(actor, world, pump)
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/campaigns")
    assert axe_violations(browser) == []
    screenshot(browser, "campaigns")
    browser.press(f"a[href='/console/campaigns/{campaign.id}']", "enter", navigates=True)
    assert "Clients concernés" in browser.text() and "Lefèvre" in browser.text()
    assert not browser.find_all("#reset")  # nobody received a mail yet: nothing to reset

    browser.press("#notify", "enter", navigates=True)  # every customer not notified
    assert axe_violations(browser) == []
    job_ended_on_screen(browser, pump, tenant)
    screenshot(browser, "job")
    assert _states(actor, campaign)["mail_sent"] == 3

    browser.open(f"{app_server.base}/console/campaigns/{campaign.id}")
    assert "3 client(s) ont reçu le mail mais n'ont pas réagi." in browser.text()
    assert axe_violations(browser) == []
    screenshot(browser, "campaign-customers")
    browser.press("#reset", "enter", navigates=True)
    job_ended_on_screen(browser, pump, tenant)
    assert _states(actor, campaign) == {"not_notified": 3, "mail_sent": 0, "mail_read": 0, "made_choices": 0}

    browser.open(f"{app_server.base}/console/campaigns/{campaign.id}?q=Dubois")
    [row] = browser.find_all("tbody th[scope=row] a")
    browser.press("tbody th[scope=row] a", "enter", navigates=True)
    assert "Dubois" in browser.text()
    browser.type("#address", "marc.dubois@exemple.org")
    browser.press("#resend", "enter", navigates=True)
    assert "Le mail a été renvoyé." in browser.text()
    assert browser.find("#customer-email") and "marc.dubois@exemple.org" in browser.text()
    assert axe_violations(browser) == []
    screenshot(browser, "campaign-customer")
    order_id = browser.current_url().split("/customers/")[1].split("?")[0]
    resent = affected_customers.get_customer(actor, campaign.id, order_id)
    assert (resent.state, resent.email) == ("mail_sent", "marc.dubois@exemple.org")
    notice = Notification.get(tenant, resent.notification_id)
    assert notice.recipient == "marc.dubois@exemple.org"

    browser.open(f"{app_server.base}/console/campaigns/{campaign.id}")
    browser.press(f"a[href='/console/campaigns/{campaign.id}/diagnosis']", "enter", navigates=True)
    assert "Diagnostic de délivrance" in browser.text() and "exemple.org" in browser.text()
    # notified a moment ago: too early to judge, said in French; the statistics' detail kept in English
    assert browser._session_call("GET", f"/element/{browser.find('#verdict')}/text") == "Trop tôt pour juger"
    assert "Attendez quelques jours" in browser._session_call("GET", f"/element/{browser.find('#suggested-action')}/text")
    assert browser.attribute("p[lang=en]", "lang") == "en"
    assert axe_violations(browser) == []
    screenshot(browser, "diagnosis")


def test_selected_customers_only_are_notified(app_server, console_browser, tenant, actor, pump):
    world = build_world(actor)
    campaign = _cancelled_performance(actor, world, pump)
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path=f"/console/campaigns/{campaign.id}")
    browser.press("#scope-selected", "space")
    browser.press("#notify", "enter", navigates=True)  # nobody ticked: said, and nothing started
    assert "Cochez au moins un client" in browser.text()
    assert jobs.list_jobs(actor, limit=5, cursor=None).items[0].kind != "campaigns.notify"
    browser.open(f"{app_server.base}/console/campaigns/{campaign.id}")
    [chosen] = [box for box in browser.find_all("tbody input[type=checkbox]")
                if "Martin" in browser._session_call("GET", f"/element/{box}/attribute/aria-label")]
    browser._session_call("POST", f"/element/{chosen}/value", {"text": "\ue00d"})  # space ticks it
    browser.press("#scope-selected", "space")
    browser.press("#notify", "enter", navigates=True)
    job_ended_on_screen(browser, pump, tenant)
    assert _states(actor, campaign)["mail_sent"] == 1
    assert [c.buyer_name for c in affected_customers.list_customers(actor, campaign.id, state="mail_sent", search=None,
                                                                      limit=5, cursor=None).items] == ["Chloé Martin"]


def test_a_ticket_cancelled_after_its_summary_then_the_order_marked_paid_by_keyboard(
        app_server, console_browser, tenant, actor):
    world = build_world(actor)
    order, _ = orders.place_order(actor, draft(world, line(world, attendee_name="Paul"),
                                               line(world, tariff=world.reduced, attendee_name="Léa"),
                                               payment_type="cheque"))
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/orders")
    browser.type("#q", str(order.number))
    browser.press("#q", "enter", navigates=True)
    assert axe_violations(browser) == []
    screenshot(browser, "orders")
    browser.press(f"a[href='/console/orders/{order.id}']", "enter", navigates=True)
    assert "Non payée" in browser.text()
    assert axe_violations(browser) == []
    screenshot(browser, "order")
    browser.press("#cancel-2", "enter", navigates=True)
    assert "Ce qui va se passer" in browser.text() and "Léa" in browser.text() and "21,00" in browser.text()
    assert [t.state for t in orders.tickets_of(orders.get_order(actor, order.id))] == ["valid", "valid"]
    assert axe_violations(browser) == []
    screenshot(browser, "cancel-ticket")
    browser.press("#confirm-cancel", "enter", navigates=True)
    assert "Le billet est annulé" in browser.text()
    assert [t.state for t in orders.tickets_of(orders.get_order(actor, order.id))] == ["valid", "cancelled"]
    assert not browser.find_all("#cancel-2")  # a cancelled ticket offers nothing more...
    browser.open(f"{app_server.base}/console/orders/{order.id}/tickets/2/cancel")
    assert "Impossible dans l'état actuel" in browser.text()  # ...nor by its address
    browser.back()
    browser.open(f"{app_server.base}/console/orders/{order.id}")
    browser.press("#mark-paid", "enter", navigates=True)
    assert "La commande est marquée payée." in browser.text() and not browser.find_all("#mark-paid")
    assert orders.get_order(actor, order.id).paid


def test_the_order_filters_and_the_jobs_screen(app_server, console_browser, tenant, actor):
    world = build_world(actor)
    cheque, _ = orders.place_order(actor, draft(world, payment_type="cheque"))
    cash, _ = orders.place_order(actor, draft(world, payment_type="cash"))
    ensure_jobs_queue()
    jobs.start_job(actor, "test.console_noop", {})
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/orders?payment_type=cash")
    assert browser.selected("#payment_type option[value=cash]")
    numbers = [browser._session_call("GET", f"/element/{cell}/text") for cell in browser.find_all("tbody th")]
    assert numbers == [str(cash.number)]
    browser.open(f"{app_server.base}/console/orders?status=bogus")
    assert "Saisie à corriger" in browser.text() and "status" in browser.text()  # the API's own schema says no
    browser.open(f"{app_server.base}/console/jobs")
    assert "test.console_noop" in browser.text()
    assert axe_violations(browser) == []
    screenshot(browser, "jobs")


def test_orders_filtered_by_promo_code_ticket_type_and_the_days_they_were_placed(app_server, console_browser,
                                                                                 tenant, actor):
    """The API's other filters, on the list's form: a promo code, a ticket type of the picked show,
    and the days the orders were placed, read on the venue's clock (23:30 UTC on 1 December is
    already 2 December in Lyon)."""
    from datetime import datetime, timezone

    world = build_world(actor)
    clock.set_clock(clock.frozen_at(datetime(2026, 12, 1, 22, 30, tzinfo=timezone.utc)))  # 23:30 in Lyon
    try:
        noel, _ = orders.place_order(actor, draft(world, promo_code="NOEL"))
        clock.set_clock(clock.frozen_at(datetime(2026, 12, 1, 23, 30, tzinfo=timezone.utc)))  # 00:30 on the 2nd
        reduced, _ = orders.place_order(actor, draft(world, line(world, world.reduced)))
    finally:
        clock.set_clock(None)
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/orders")

    def listed() -> list[str]:
        return [browser._session_call("GET", f"/element/{cell}/text") for cell in browser.find_all("tbody th")]

    browser.open(f"{app_server.base}/console/orders?placed_from=2026-12-02&placed_to=2026-12-02")
    assert listed() == [str(reduced.number)]
    browser.open(f"{app_server.base}/console/orders?placed_to=2026-12-01")
    assert listed() == [str(noel.number)]
    browser.open(f"{app_server.base}/console/orders")
    browser.type("#promo_code", "NOEL")
    browser.press("#filter", "enter", navigates=True)
    assert listed() == [str(noel.number)] and browser.attribute("#promo_code", "value") == "NOEL"
    browser.open(f"{app_server.base}/console/orders?product_id={world.show.id}")
    choose_by_typing(browser, "#tariff_id", "Tarif réduit")
    browser.press("#filter", "enter", navigates=True)
    assert listed() == [str(reduced.number)]
    assert axe_violations(browser) == []
    ensure_jobs_queue()
    http = staff_http(app_server, tenant)  # every order matching the days: the export's job gets the same bounds
    listing_page = f"{app_server.base}/console/orders?placed_from=2026-12-02"
    form = re.search(r'name="form" value="([^"]+)"', http.get(listing_page, timeout=30).text).group(1)
    started = http.post(f"{app_server.base}/console/orders/export", allow_redirects=False, timeout=30,
                        data={"form": form, "scope": "matching", "placed_from": "2026-12-02"})
    assert started.status_code == 303, started.text[-600:]
    job = jobs.get_job(actor, started.headers["Location"].rsplit("/", 1)[1])
    assert job.params["filters"]["placed_from"] == "2026-12-01T23:00:00+00:00"  # midnight in Lyon
    browser.open(f"{app_server.base}/console/orders?placed_from=2026-12-32")
    assert "Saisie à corriger" in browser.text() and "from" in browser.text()  # the API's schema says no


def test_list_screens_read_one_page_never_the_table(app_server, tenant, actor, monkeypatch):
    from chalicelib.handlers.console.frame import PAGE_SIZE

    world = build_world(actor, capacity=200)
    for _ in range(PAGE_SIZE + 10):
        orders.place_order(actor, draft(world, payment_type="cash"))
    ensure_jobs_queue()
    for _ in range(PAGE_SIZE + 5):
        jobs.start_job(actor, "test.console_noop", {})
    http = staff_http(app_server, tenant)
    for path in ("/console/orders", "/console/orders?payment_type=cash", "/console/jobs"):
        reads = dynamodb_reads(monkeypatch)
        page = http.get(app_server.base + path, timeout=30)
        assert page.status_code == 200 and 'rel="next"' in page.text, path
        assert page.text.count("<tr>") == PAGE_SIZE + 1, path  # the header's row and one page
        assert reads["items"] <= PAGE_SIZE + 1 and reads["calls"] <= 2, (path, reads)
        assert "Scan" not in reads["operations"]
        monkeypatch.undo()


def test_axe_does_see_a_violation_when_there_is_one(app_server, console_browser, tenant):
    """The check the screens pass is not empty: a field without a label is found on a console page."""
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/jobs")
    browser._session_call("POST", "/execute/sync", {"script": "document.querySelector('main').insertAdjacentHTML("
                                                              "'beforeend', '<input type=text id=unlabelled>')",
                                                    "args": []})
    assert "label" in [violation["id"] for violation in axe_violations(browser)]


def test_a_customer_found_by_phone_and_their_record_read(app_server, console_browser, tenant, actor):
    from chalicelib.services.contacts import contacts

    world = build_world(actor)
    customer = contacts.create_contact(actor, {
        "first_name": "Agnès", "last_name": "Roux", "emails": [{"address": "agnes.roux@exemple.fr"}],
        "phones": [{"number": "06 12 34 56 78"}], "addresses": [{"line1": "3 rue Mercière", "postcode": "69002",
                                                                  "city": "Lyon"}]})
    contacts.create_contact(actor, {"first_name": "Agnès", "last_name": "Rousseau"})
    order = paid_cheque_order(actor, world, buyer={"first_name": "Agnès", "last_name": "Roux",
                                                   "email": "agnes.roux@exemple.fr", "contact_id": customer.id})
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/customers")
    browser.type("#q", "06.12.34.56.78")
    browser.press("#q", "enter", navigates=True)
    names = [browser._session_call("GET", f"/element/{cell}/text") for cell in browser.find_all("tbody th")]
    assert names == ["Agnès Roux"]  # the phone in another writing finds her, and only her
    assert axe_violations(browser) == []
    screenshot(browser, "customers")
    browser.press(f"a[href='/console/customers/{customer.id}']", "enter", navigates=True)
    text = browser.text()
    assert "Agnès Roux" in text and "3 rue Mercière" in text and "06 12 34 56 78" in text
    assert f"{order.number}" in text and "Complète" in text and "32,00" in text  # the booking section
    assert axe_violations(browser) == []
    screenshot(browser, "customer")
    sign_in(browser, app_server, "tenant-elsewhere", next_path=f"/console/customers/{customer.id}")
    assert "Page introuvable" in browser.text() and "Roux" not in browser.text()


def test_a_performance_cancelled_from_the_console_after_saying_what_will_happen(
        app_server, console_browser, tenant, actor, pump):
    from chalicelib.services.catalog import catalog

    world = build_world(actor)
    paid_cheque_order(actor, world, buyer={"first_name": "Élodie", "last_name": "Lefèvre",
                                           "email": "elodie@exemple.fr"})
    ensure_jobs_queue()
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/campaigns")
    browser.press("#new-campaign", "enter", navigates=True)
    option = f"#performance_id option[value='{world.evening.id}']"
    browser._session_call("POST", f"/element/{browser.find(option)}/click", {})
    set_value = "document.getElementById(arguments[0]).value = arguments[1];"
    browser._session_call("POST", "/execute/sync", {"script": set_value, "args": ["refund_deadline",
                                                                                  "2020-01-31T18:00"]})
    browser.press("#review", "enter", navigates=True)  # a deadline in the past: the form again, said why
    assert "refund_deadline" in browser.text() and browser.attribute("#refund_deadline", "aria-invalid") == "true"
    assert browser.selected(option)  # what was typed is kept
    assert axe_violations(browser) == []
    screenshot(browser, "campaign-new")
    browser._session_call("POST", "/execute/sync", {"script": set_value, "args": ["refund_deadline",
                                                                                  "2027-01-31T18:00"]})
    browser.type("#fee_percent", "10,5")
    browser.press("#fee-percent-kind", "space")
    browser.press("#review", "enter", navigates=True)
    assert "sera annulée et retirée de la vente" in browser.text() and "10,50 %" in browser.text()
    assert "Annuler Cyrano — samedi 12 décembre 2026 à 20 h 30" in browser.text()
    assert "31 janvier 2027" in browser.text()  # the deadline typed on the venue's clock, shown on it
    assert catalog.get_performance(actor, world.evening.id).status != "cancelled"  # nothing done yet
    assert axe_violations(browser) == []
    screenshot(browser, "campaign-review")
    browser.press("#confirm", "enter", navigates=True)
    [campaign] = campaigns.list_campaigns(actor, limit=5, cursor=None).items
    assert (campaign.kind, campaign.fee_kind, campaign.fee_percent_bp) == ("cancellation", "percent", 1050)
    assert campaign.refund_deadline.isoformat() == "2027-01-31T17:00:00+00:00"  # 18:00 in Paris, in UTC
    assert catalog.get_performance(actor, world.evening.id).status == "cancelled"
    assert f"/console/campaigns/{campaign.id}" in browser.current_url()
    drive(pump, tenant, campaign.build_job_id)
    browser.open(browser.current_url())
    assert "Lefèvre" in browser.text()


def test_the_customers_on_screen_sorted_by_a_column_and_the_whole_page_ticked(
        app_server, console_browser, tenant, actor, pump):
    world = build_world(actor)
    campaign = _cancelled_performance(actor, world, pump)
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path=f"/console/campaigns/{campaign.id}")

    def names() -> list[str]:
        return [browser._session_call("GET", f"/element/{cell}/text").split("\n")[0]
                for cell in browser.find_all("tbody th[scope=row]")]

    [customer_header] = [cell for cell in browser.find_all("thead th button.sort")
                         if browser._session_call("GET", f"/element/{cell}/text") == "Client"]
    browser._session_call("POST", f"/element/{customer_header}/click", {})
    assert names() == ["Chloé Martin", "Élodie Lefèvre", "Marc Dubois"]  # French order: É with E
    browser._session_call("POST", f"/element/{customer_header}/click", {})
    assert names() == ["Marc Dubois", "Élodie Lefèvre", "Chloé Martin"]
    assert browser.attribute("table[data-sortable] thead th:nth-child(2)", "aria-sort") == "descending"
    browser.press("#select-all", "space")
    assert all(browser._session_call("GET", f"/element/{box}/selected")
               for box in browser.find_all("tbody input[name=order_id]"))
    assert axe_violations(browser) == []
