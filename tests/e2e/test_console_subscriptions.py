"""The subscription screens in a real browser, used by keyboard as a box office would: the
products and their payment plans; a renewal prepared with its parameter form, its dry run
followed to its report (what a real run would renew, with which seats, which delivery modes
fall back, which are refused and why, the revenue it projects) with nothing written, then the
real run started from that report after its confirmation page, and the subscriptions renewed;
an instalment whose card is declined, shown failed with its reason after the collector ran.
A staff (not admin) session is refused what the API keeps for admins. axe-core checks each
screen; the lists read one page."""
from __future__ import annotations

import re
from datetime import date

import pytest

from chalicelib.adapters import clock
from chalicelib.handlers.console.frame import PAGE_SIZE
from chalicelib.models.jobs import Job
from chalicelib.models.subscriptions import Subscription
from chalicelib.services.catalog import catalog
from chalicelib.services.jobs import framework as jobs
from chalicelib.services.subscriptions import renewal, selling
from tests.e2e.console_helpers import (
    axe_violations,
    choose_by_typing,
    dynamodb_reads,
    form_value,
    job_ended_on_screen,
    screenshot,
    sign_in,
    staff_http,
    text_of,
)
from tests.job_helpers import drive, ensure_jobs_queue
from tests.renewals_world import RENEWED_AT, SOLD_AT, Seasons, contact_named, renewals_of_three, saved_card

DECLINED_CARD = "4000000000000341"  # localstripe: attaches, then every charge is declined


@pytest.fixture(autouse=True)
def frozen():
    clock.set_clock(clock.frozen_at(SOLD_AT))
    yield
    clock.set_clock(None)


def _scroll(browser, script: str) -> None:
    browser._session_call("POST", "/execute/sync", {"script": script, "args": []})


def test_a_renewal_dry_run_then_the_real_run_by_keyboard(app_server, console_browser, tenant, actor, pump):
    seasons, sold = renewals_of_three(actor)
    ensure_jobs_queue()
    clock.set_clock(clock.frozen_at(RENEWED_AT))
    browser = console_browser
    sign_in(browser, app_server, tenant, role="admin", subject="direction", next_path="/console/subscriptions")
    assert "Abonnement 26-27" in browser.text() and "En 3 fois" in browser.text()
    assert axe_violations(browser) == []
    screenshot(browser, "subscriptions")

    browser.press("a[href='/console/subscriptions/renewals']", "enter", navigates=True)
    assert "Aucun renouvellement" in browser.text()
    assert axe_violations(browser) == []
    browser.press("#new-run", "enter", navigates=True)
    choose_by_typing(browser, "#source_product_id", "Abonnement 26-27")
    choose_by_typing(browser, "#target_product_id", "Abonnement 27-28")
    browser.press("#choose-products", "enter", navigates=True)
    # The new product offers new card and print at home; box office pick-up falls back to print at home.
    assert browser.selected("#mode-new_card") and browser.selected("#mode-print_at_home")
    choose_by_typing(browser, "#fallback_mode", "E-billet")
    browser.type("#opt_out_criterion", "arret du renouvellement AUTOMATIQUE")  # accents and case ignored
    assert axe_violations(browser) == []
    _scroll(browser, "window.scrollTo(0, 0)")
    screenshot(browser, "renewal-form")
    browser.press("#start-dry-run", "enter", navigates=True)

    dry_id = browser.current_url().rsplit("/", 1)[1]
    job_ended_on_screen(browser, pump, tenant, dry_id)
    text = browser.text()
    assert "Simulation : rien n'a été écrit" in text
    assert browser._session_call("GET", f"/element/{browser.find('#count-sale')}/text") == "1"
    assert browser._session_call("GET", f"/element/{browser.find('#count-error-no_means')}/text") == "1"
    assert browser._session_call("GET", f"/element/{browser.find('#count-skip-opt_out_payer')}/text") == "1"
    rows = [browser._session_call("GET", f"/element/{row}/text") for row in browser.find_all("#progress tbody tr")]
    [anne_row] = [row for row in rows if row.startswith("Anne Martin")]
    assert "Vente payée automatiquement" in anne_row and "Parterre B 1" in anne_row
    assert "E-billet à imprimer (au lieu de Retrait au guichet)" in anne_row
    assert "pas de moyen de paiement enregistré" in text and "le payeur a demandé l'arrêt" in text
    assert "120,00" in browser._session_call("GET", f"/element/{browser.find('#projected-total')}/text")
    assert axe_violations(browser) == []
    _scroll(browser, "document.getElementById('progress').scrollIntoView()")
    screenshot(browser, "renewal-report")
    # The dry run wrote nothing: no subscription of the new season, none marked renewed.
    assert list(Subscription.by_product.query(f"{tenant}#{seasons.target.id}")) == []
    assert all(Subscription.get(tenant, sale.subscriptions[0].id).renewed_into is None for sale in sold.values())

    browser.press("#real-run", "enter", navigates=True)
    assert "Ce qui va se passer" in browser.text()
    assert axe_violations(browser) == []
    browser.press("#confirm-real-run", "enter", navigates=True)
    real_id = browser.current_url().rsplit("/", 1)[1]
    assert real_id != dry_id
    job_ended_on_screen(browser, pump, tenant, real_id)
    assert browser._session_call("GET", f"/element/{browser.find('#count-sale')}/text") == "1"
    assert "Simulation" not in browser.text()
    assert axe_violations(browser) == []

    real = Job.get(tenant, real_id)
    assert real.params["dry_run"] is False and real.created_by == "direction"
    anne_source = Subscription.get(tenant, sold["anne"].subscriptions[0].id, consistent_read=True)
    renewed = Subscription.get(tenant, anne_source.renewed_into, consistent_read=True)
    assert renewed.product_id == seasons.target.id and renewed.delivery_mode == "print_at_home"
    assert renewed.means == "card_alias" and renewed.renewed_from == anne_source.id
    for name in ("paul", "lea"):
        assert Subscription.get(tenant, sold[name].subscriptions[0].id).renewed_into is None

    browser.press("#renewed-list", "enter", navigates=True)
    assert "la saison passée" in browser.text() and "Anne Martin" in browser.text()
    assert axe_violations(browser) == []
    browser.press(f"a[href='/console/subscriptions/{renewed.id}']", "enter", navigates=True)
    assert "Carte enregistrée" in browser.text() and "Prévue" in browser.text()
    assert axe_violations(browser) == []
    browser.open(f"{app_server.base}/console/subscriptions/renewals")
    assert "Simulation" in browser.text() and "Réel" in browser.text()


def test_a_declined_instalment_is_shown_failed_with_its_reason(app_server, console_browser, tenant, actor, pump):
    seasons = Seasons(actor)
    eve = contact_named(actor, "Eve", "Bernard")
    card = saved_card(actor, eve, DECLINED_CARD)
    sale = seasons.sell(actor, eve, means="card_alias", plan="3x", saved_means_id=card.id)
    ensure_jobs_queue()
    browser = console_browser
    sign_in(browser, app_server, tenant, role="admin", subject="direction",
            next_path="/console/subscriptions/instalments")
    assert "jeudi 1er octobre 2026" in browser.text() and "Prévue" in browser.text()  # the first: the sale's day
    browser.press("#run-collector", "enter", navigates=True)  # as the hourly collector would
    job_id = browser.current_url().rsplit("/", 1)[1]
    drive(pump, tenant, job_id)
    instalment = Subscription.get(tenant, sale.subscriptions[0].id, consistent_read=True).instalments[0]
    assert instalment["state"] == "failed" and instalment["retry_on"] == "2026-10-04", instalment

    browser.open(f"{app_server.base}/console/subscriptions/instalments")
    choose_by_typing(browser, "#state", "Échouée")
    browser.type("#day", "10042026")  # typed in the date field (the browser is in US English: mm/dd/yyyy)
    browser.press("#filter", "enter", navigates=True)
    assert "day=2026-10-04" in browser.current_url() and "state=failed" in browser.current_url()
    [reason] = browser.find_all("td.failure")
    assert "carte refusée (card_declined)" in browser._session_call("GET", f"/element/{reason}/text")
    assert "Eve Bernard" in browser.text()
    assert "Échouée" in browser.text() and "30,00" in browser.text()  # 90,00 € in 3
    assert axe_violations(browser) == []
    screenshot(browser, "instalments")
    browser.press(f"a[href='/console/subscriptions/{sale.subscriptions[0].id}']", "enter", navigates=True)
    assert "card_declined" in browser.text()
    assert axe_violations(browser) == []


def test_staff_are_refused_what_the_api_keeps_for_admins(app_server, console_browser, tenant, actor):
    seasons = Seasons(actor)
    ensure_jobs_queue()
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/subscriptions/renewals")
    assert not browser.find_all("#new-run")
    browser.open(f"{app_server.base}/console/subscriptions/instalments")
    assert not browser.find_all("#run-collector")
    browser.open(f"{app_server.base}/console/subscriptions/renewals/new")
    assert "Action refusée" in browser.text()
    assert axe_violations(browser) == []

    http = staff_http(app_server, tenant)
    value = form_value(http, f"{app_server.base}/console/subscriptions")
    fields = {"form": value, "source_product_id": seasons.source.id, "target_product_id": seasons.target.id,
              "delivery_modes": "new_card", "on_error": "nothing", "keep_seats": "1"}
    for path, data in (("/console/subscriptions/renewals", fields),
                       ("/console/subscriptions/instalments/run", {"form": value})):
        refused = http.post(app_server.base + path, data=data, allow_redirects=False, timeout=30)
        assert refused.status_code == 403 and "Action refusée" in refused.text, path
    assert list(Job.query(tenant)) == []  # nothing started

    admin = staff_http(app_server, tenant, role="admin")
    value = form_value(admin, f"{app_server.base}/console/subscriptions")
    started = admin.post(app_server.base + "/console/subscriptions/renewals", data={**fields, "form": value},
                         allow_redirects=False, timeout=30)
    assert started.status_code == 303, started.text  # the same form, from an admin, starts the dry run
    [job] = list(Job.query(tenant))
    assert job.kind == renewal.RENEW and job.params["dry_run"] is True
    for path in (f"/console/subscriptions/renewals/{job.id}/run",):
        assert http.get(app_server.base + path, timeout=30).status_code == 403


def test_a_wrong_parameter_is_a_page_naming_the_field_and_nothing_starts(app_server, tenant, actor):
    seasons = Seasons(actor)
    ensure_jobs_queue()
    admin = staff_http(app_server, tenant, role="admin")
    value = form_value(admin, f"{app_server.base}/console/subscriptions")
    base = {"form": value, "source_product_id": seasons.source.id, "target_product_id": seasons.target.id,
            "delivery_modes": "new_card", "on_error": "nothing", "keep_seats": "1"}
    for changes, field in (({"fallback_mode": "box_office"}, "fallback_mode"),
                           ({"on_error": "reservation"}, "reservation_deadline"),
                           ({"reservation_deadline": "demain"}, "reservation_deadline"),
                           ({"opt_out_criterion": "Arret du renouvelement"}, "opt_out_criterion")):
        answer = admin.post(app_server.base + "/console/subscriptions/renewals", data={**base, **changes},
                            allow_redirects=False, timeout=30)
        assert answer.status_code == 422 and field in answer.text, (changes, answer.status_code)
    assert list(Job.query(tenant)) == []
    future = admin.post(app_server.base + "/console/subscriptions/renewals",
                        data={**base, "on_error": "reservation", "reservation_deadline": "2026-12-01T18:00"},
                        allow_redirects=False, timeout=30)
    assert future.status_code == 303
    [job] = list(Job.query(tenant))  # the deadline typed on the venue's clock (Paris, winter: UTC+1)
    assert job.params["reservation_deadline"] == "2026-12-01T18:00:00+01:00"


def test_list_screens_read_one_page(app_server, tenant, actor, monkeypatch):
    seasons = Seasons(actor)
    family = seasons.source.family_id
    for number in range(PAGE_SIZE + 5):
        catalog.products.create(actor, {"kind": "subscription", "name": f"Abonnement {number}", "family_id": family,
                                        "season_id": seasons.source.season_id})
    ensure_jobs_queue()
    params = {"source_product_id": seasons.source.id, "target_product_id": seasons.target.id, "dry_run": True}
    for _ in range(PAGE_SIZE + 5):
        jobs.start_job(actor, renewal.RENEW, params)
    http = staff_http(app_server, tenant)
    for path in ("/console/subscriptions", "/console/subscriptions/renewals"):
        reads = dynamodb_reads(monkeypatch)
        page = http.get(app_server.base + path, timeout=30)
        assert page.status_code == 200 and 'rel="next"' in page.text, path
        assert PAGE_SIZE - 5 < page.text.count("<tr>") <= PAGE_SIZE + 1, path  # the header's row and one page
        assert reads["items"] <= 2 * PAGE_SIZE + 10 and reads["calls"] <= 3, (path, reads)
        assert "Scan" not in reads["operations"]
        monkeypatch.undo()


def test_a_days_instalments_read_one_page(app_server, tenant, actor, monkeypatch):
    """30 instalments due the day of their sale (three households of ten, paid in 3 by a saved
    card): the screen shows 25, reading one page of due entries, their subscriptions and names."""
    seasons = Seasons(actor)
    payer = contact_named(actor, "Anne")
    card = saved_card(actor, payer)
    for number, product, tariff in ((0, seasons.source, seasons.source_tariff), (1, seasons.source, seasons.source_tariff),
                                    (2, seasons.target, seasons.target_tariff)):
        holders = [contact_named(actor, f"Holder{number}x{n}") for n in range(10)]
        selling.sell(actor, {"product_id": product.id, "tariff_id": tariff.id, "payer_contact_id": payer.id,
                             "delivery_mode": "new_card", "plan_id": "3x", "means": "card_alias",
                             "saved_means_id": card.id, "subscribers": [{"holder_contact_id": h.id} for h in holders]})
    http = staff_http(app_server, tenant)
    reads = dynamodb_reads(monkeypatch)
    day = http.get(app_server.base + f"/console/subscriptions/instalments?day={date(2026, 10, 1)}", timeout=30)
    assert day.status_code == 200 and day.text.count("<tr>") == PAGE_SIZE + 1
    # a page of due entries, their subscriptions, and the names of their holders and payer
    assert reads["calls"] <= 3 and reads["items"] <= 3 * PAGE_SIZE + 1 and "Scan" not in reads["operations"], reads
    monkeypatch.undo()
    following = re.search(r'<a href="([^"]+)">Page suivante</a>', day.text).group(1).replace("&amp;", "&")
    rest = http.get(app_server.base + following, timeout=30)
    assert rest.status_code == 200 and rest.text.count("<tr>") == 30 - PAGE_SIZE + 1


def test_a_products_terms_edited_by_keyboard_and_a_wrong_plan_refused(app_server, console_browser, tenant, actor):
    from chalicelib.services.subscriptions import terms

    seasons = Seasons(actor)
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path=f"/console/subscriptions/products/{seasons.target.id}")
    browser.press("#edit-terms", "enter", navigates=True)
    # The terms as they are: both new performances ticked with their quota, the two plans.
    assert all(browser.selected(f"#performance-{p.id}") for p in seasons.new_performances)
    assert browser.attribute("#plan_id_1", "value") == "3x"
    assert axe_violations(browser) == []
    screenshot(browser, "subscription-terms")
    browser.press(f"#performance-{seasons.new_performances[1].id}", "space")  # no longer offered
    browser.press("#mode-box_office", "space")
    for field, typed in (("id", "10x"), ("label", "En 10 fois"), ("instalments", "10"), ("day", "10")):
        browser.type(f"#plan_{field}_2", typed)
    browser.press("#save-terms", "enter", navigates=True)
    assert "Les conditions sont enregistrées." in browser.text(), browser.text()[:1500]
    saved = terms.get_terms(actor, seasons.target.id)
    assert saved.performance_ids == [seasons.new_performances[0].id]
    assert saved.delivery_modes == ["new_card", "print_at_home", "box_office"]
    assert saved.payment_plans[-1] == {"id": "10x", "label": "En 10 fois", "instalments": 10, "day_of_month": 10,
                                       "first_at_purchase": True}

    browser.open(f"{app_server.base}/console/subscriptions/products/{seasons.target.id}/terms")
    browser.type("#plan_id_2", "3x")  # the id of another plan
    browser.press("#save-terms", "enter", navigates=True)
    assert "Saisie à corriger" in browser.text() and "each plan has its own id" in browser.text()
    assert terms.get_terms(actor, seasons.target.id).payment_plans == saved.payment_plans  # nothing written

    http = staff_http(app_server, tenant)
    url = f"{app_server.base}/console/subscriptions/products/{seasons.target.id}/terms"
    typed = {"form": form_value(http, url), "performance_ids": seasons.new_performances[0].id,
             f"quota_{seasons.new_performances[0].id}": saved.quotas[seasons.new_performances[0].id],
             "delivery_modes": "new_card", "plan_id_0": "once", "plan_label_0": "Comptant",
             "plan_instalments_0": "un", "plan_day_0": "5"}
    refused = http.post(url, data=typed, allow_redirects=False, timeout=30)
    assert refused.status_code == 422 and "payment_plans.0.instalments" in refused.text
    assert terms.get_terms(actor, seasons.target.id).payment_plans == saved.payment_plans


def test_a_dry_runs_detail_one_page_after_the_other_and_the_screens_in_english(app_server, tenant, actor, pump, monkeypatch):
    """Pages of one subscription: each page's link carries the walk's state, and every source
    subscription is on one page, once. Then every subscription screen answers in English."""
    from chalicelib.handlers.console import subscriptions as screens

    seasons, sold = renewals_of_three(actor)
    ensure_jobs_queue()
    clock.set_clock(clock.frozen_at(RENEWED_AT))
    job = renewal.start_run(actor, {
        "source_product_id": seasons.source.id, "target_product_id": seasons.target.id,
        "delivery_modes": ["new_card", "print_at_home"], "fallback_mode": "print_at_home", "on_error": "nothing",
        "keep_seats": True, "dry_run": True})
    drive(pump, tenant, job.id)
    monkeypatch.setattr(screens, "PAGE_SIZE", 1)
    http = staff_http(app_server, tenant)
    url, holders = f"/console/subscriptions/renewals/{job.id}", []
    while url:
        page = http.get(app_server.base + url, timeout=30)
        assert page.status_code == 200, page.text
        holders += re.findall(r'<th scope="row"><a href="/console/subscriptions/[0-9A-Z]+">([^<]+)</a></th>', page.text)
        found = re.search(r'<a href="([^"]+)" rel="next">', page.text)
        url = found.group(1).replace("&amp;", "&") if found else None
        assert len(holders) <= 3
    assert sorted(holders) == ["Anne Martin", "Léa Petit", "Paul Durand"]  # each once (sold in one frozen instant)
    forged = http.get(app_server.base + f"/console/subscriptions/renewals/{job.id}?cursor=" + "x" * 300, timeout=30)
    assert forged.status_code == 422 and "cursor" in forged.text
    # Every screen in English too.
    admin = staff_http(app_server, tenant, role="admin")
    renewed_source = sold["anne"].subscriptions[0].id
    for path in ("/console/subscriptions", f"/console/subscriptions/products/{seasons.source.id}",
                 f"/console/subscriptions/products/{seasons.target.id}/terms", f"/console/subscriptions/{renewed_source}",
                 "/console/subscriptions/renewals", f"/console/subscriptions/renewals/{job.id}",
                 f"/console/subscriptions/renewals/{job.id}/run", "/console/subscriptions/instalments",
                 f"/console/subscriptions/renewals/new?source_product_id={seasons.source.id}"
                 f"&target_product_id={seasons.target.id}"):
        english = admin.get(app_server.base + path + ("&" if "?" in path else "?") + "lang=en", timeout=30)
        assert english.status_code == 200 and '<html lang="en">' in english.text, path
        assert "Simulation" not in english.text and "Échéances" not in english.text, path  # French words, none


def test_a_subscription_sold_at_the_box_office_by_keyboard_once(app_server, console_browser, tenant, actor):
    """The payer found by the search box, another customer and the payer as holders (two
    subscriptions, one order), three instalments on the payer's saved card: the summary says what will be collected and when, the sale makes one
    order; the confirming form sent again sells nothing more. Instalments in cash are refused
    beside the plan, nothing sold."""
    seasons = Seasons(actor)
    anne, paul = contact_named(actor, "Anne", "Lefort"), contact_named(actor, "Paul", "Garnier")
    card = saved_card(actor, anne)
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path=f"/console/subscriptions/products/{seasons.source.id}")
    browser.press("#sell", "enter", navigates=True)
    browser.type("#payer_q", "lefort")
    browser.press("#find-payer", "enter", navigates=True)
    browser.press("#pick-payer-1", "enter", navigates=True)
    browser.type("#holder_q", "garnier")
    browser.press("#find-holder", "enter", navigates=True)
    browser.press("#pick-holder-1", "enter", navigates=True)
    assert "Lefort" in text_of(browser, "#payer") and "Garnier" in text_of(browser, "#holder-1")
    browser.press("#add-payer", "enter", navigates=True)  # the payer holds one too: two in one order
    assert "Lefort" in text_of(browser, "#holder-2")
    assert axe_violations(browser) == []
    screenshot(browser, "subscription-sell")

    choose_by_typing(browser, "#plan_id", "En 3")
    browser.press("#sale-summary", "enter", navigates=True)  # cash, the first means: not in instalments
    assert browser.attribute("#plan_id", "aria-invalid") == "true" and "instalments" in text_of(browser, "#plan_id-error")
    assert list(Subscription.by_payer.query(f"{tenant}#{anne.id}")) == []

    choose_by_typing(browser, "#plan_id", "En 3")
    choose_by_typing(browser, "#means", "Carte")
    browser.press("#sale-summary", "enter", navigates=True)
    assert len(browser.find_all("#instalments tbody tr")) == 3
    assert "Garnier" in text_of(browser, "#summary-holders") and "Lefort" in text_of(browser, "#summary-holders")
    assert axe_violations(browser) == []
    screenshot(browser, "subscription-sell-summary")
    browser.press("#confirm-sale", "enter", navigates=True)
    assert "L'abonnement est vendu" in browser.text()
    sold = [Subscription.get(tenant, entry.id) for entry in Subscription.by_payer.query(f"{tenant}#{anne.id}")]
    assert {s.holder_contact_id for s in sold} == {paul.id, anne.id} and len({s.order_id for s in sold}) == 1
    assert {(s.means, s.saved_means_id, len(s.instalments)) for s in sold} == {("card_alias", card.id, 3)}

    http = staff_http(app_server, tenant)  # a second sale, its confirming form sent twice (a double click)
    sell_url = f"{app_server.base}/console/subscriptions/products/{seasons.source.id}/sell"
    typed = {"payer": anne.id, "holder": anne.id, "tariff_id": seasons.source_tariff.id, "delivery_mode": "new_card",
             "plan_id": "once", "means": "cheque"}
    summary = http.post(sell_url, data={"form": form_value(http, f"{sell_url}?payer={anne.id}"), "step": "summary",
                                        **typed}, timeout=30).text
    confirm = {name: re.search(rf'name="{name}" value="([^"]*)"', summary).group(1) for name in ("form", "request_id")}
    first = http.post(sell_url, data={**typed, **confirm, "step": "confirm"}, timeout=30)
    second = http.post(sell_url, data={**typed, **confirm, "step": "confirm"}, timeout=30)
    assert "L&#39;abonnement est vendu" in first.text and "rien n&#39;a été vendu deux fois" in second.text
    assert len(list(Subscription.by_payer.query(f"{tenant}#{anne.id}"))) == 3  # the browser's two and this one


def test_a_subscriber_put_on_sabbatical_after_seeing_the_seats_kept(app_server, console_browser, tenant, actor):
    seasons = Seasons(actor)
    anne = contact_named(actor, "Anne", "Lefort")
    [source] = seasons.sell(actor, anne, seats={seasons.world.evening.id: seasons.seats[0].id}).subscriptions
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path=f"/console/subscriptions/{source.id}")
    browser.press("#sabbatical", "enter", navigates=True)
    choose_by_typing(browser, "#target", "Abonnement 27")
    browser.press("#sabbatical-summary", "enter", navigates=True)
    kept = [text_of(browser, f"#kept-seats tbody tr:nth-child({row}) td") for row in (1, 2)]
    assert kept == ["Parterre B 1", "Parterre B 1"]  # the same seat at each new performance
    assert Subscription.get(tenant, source.id).renewed_into is None  # nothing written yet
    assert axe_violations(browser) == []
    screenshot(browser, "subscription-sabbatical")
    summary = browser.current_url()
    browser.press("#confirm-sabbatical", "enter", navigates=True)
    assert "L'abonné est en année sabbatique" in browser.text() and "Année sabbatique" in text_of(
        browser, "#subscription-state")
    placeholder = Subscription.get(tenant, Subscription.get(tenant, source.id).renewed_into)
    assert placeholder.state == "sabbatical" and set(dict(placeholder.held_seats).values()) == {seasons.seats[0].id}
    browser.open(f"{app_server.base}/console/subscriptions/{source.id}")
    assert not browser.find_all("#sabbatical")  # renewed into its placeholder: not offered again
    http = staff_http(app_server, tenant)
    again = http.post(summary.split("?")[0], data={"form": form_value(http, summary), "target": seasons.target.id},
                      timeout=30)
    assert again.status_code == 409


def test_a_subscriptions_seat_changed_for_every_performance_to_come(app_server, console_browser, tenant, actor):
    """A seat taken at one performance blocks the whole change and the page names it; a free one
    moves every ticket still to come, once, whatever the sends."""
    from chalicelib.services.orders import orders

    seasons = Seasons(actor)
    anne, paul = contact_named(actor, "Anne", "Lefort"), contact_named(actor, "Paul", "Garnier")
    [mine] = seasons.sell(actor, anne, seats={seasons.world.evening.id: seasons.seats[0].id}).subscriptions
    seasons.sell(actor, paul, seats={seasons.world.evening.id: seasons.seats[2].id})
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path=f"/console/subscriptions/{mine.id}")
    browser.press("#change-seat-link", "enter", navigates=True)
    for field, value in (("#block", "Parterre"), ("#row", "B"), ("#number", "3")):
        browser.type(field, value)
    browser.press("#change-seat", "enter", navigates=True)
    assert browser.find_all("#refused")  # Paul's seat at the evening: nothing changes
    assert [t.seat_id for t in orders.tickets_of(orders.get_order(actor, mine.order_id))] == [seasons.seats[0].id]
    assert axe_violations(browser) == []
    browser.type("#number", "2")
    browser.press("#change-seat", "enter", navigates=True)
    assert "La place est changée pour toutes les séances à venir." in browser.text()
    assert [t.seat_id for t in orders.tickets_of(orders.get_order(actor, mine.order_id))] == [seasons.seats[1].id]
