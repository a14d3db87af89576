"""The season card screens in a real browser, used by keyboard as a box office would: a card
printed through the console on the venue's real edge agent and its simulated printer (the job's
page follows it to printed and shows the UID the services bound), then revoked after its
confirmation page; uncertain prints decided (printed with the UID read, or printed again); a
mass print started, paused and resumed to its end. axe-core checks each screen, and each is
photographed for docs/console.md. The list screens read one page, never the table."""
from __future__ import annotations

import json
import time

import pytest

from chalicelib.adapters import ids
from chalicelib.models.base import tenant_key
from chalicelib.models.cards import CardPrinter, PrintJob
from chalicelib.services.cards import binding, printing, results
from chalicelib.services.jobs import framework as jobs
from tests.cards_world import CardWorld, SiteAgent
from tests.e2e.card_agent import needs_agent, start_agent, until
from tests.e2e.console_helpers import axe_violations, choose_by_typing, dynamodb_reads, screenshot, sign_in, staff_http
from tests.job_helpers import drive, ensure_jobs_queue

UID = "04A1B2C3D4E5F6"


@pytest.fixture
def cards(actor):
    return CardWorld(actor)


def _stored(actor, job_id: str) -> PrintJob:
    return PrintJob.get(actor.tenant_id, job_id, consistent_read=True)


def _text_of(browser, css: str) -> str | None:
    """An element's text read in one step: the page's script may replace a live region at any time."""
    return browser._session_call("POST", "/execute/sync", {
        "script": "const found = document.querySelector(arguments[0]); return found && found.textContent.trim();",
        "args": [css]})


def _press_live(browser, css: str) -> None:
    """Press a button of a live region, again if the region was refreshed between finding and pressing it."""
    for attempt in range(3):
        try:
            return browser.press(css, "enter", navigates=True)
        except AssertionError as error:
            if "stale element" not in str(error) or attempt == 2:
                raise


@needs_agent
def test_a_card_printed_on_the_simulated_printer_through_the_console_then_revoked_by_keyboard(
        app_server, console_browser, tenant, actor, cards, pump, tmp_path):
    subscription = cards.sell("Jeanne")
    agent = start_agent(actor, cards.site.id, tmp_path)
    try:
        until(pump, lambda: CardPrinter.get(tenant, cards.printer.id, consistent_read=True).state == "ready")
        browser = console_browser
        sign_in(browser, app_server, tenant, next_path="/console/cards")
        assert _text_of(browser, f"#printer-state-{cards.printer.id}") == "Prête"  # the agent's heartbeat
        assert "Primacy 1" in browser.text() and "Billetterie" in browser.text()
        assert axe_violations(browser) == []
        screenshot(browser, "cards")

        browser.press("#print-one", "enter", navigates=True)
        browser.type("#q", "Jeanne Martin")  # the customer who paid it, found as on the customers' screen
        browser.press("#search", "enter", navigates=True)
        assert axe_violations(browser) == []
        screenshot(browser, "card-print")
        browser.press(f"a[href='/console/cards/customers/{subscription.payer_contact_id}']", "enter", navigates=True)
        assert "Abonnement Découverte" in browser.text() and "Nouvelle carte" in browser.text()
        assert axe_violations(browser) == []
        browser.press(f"#subscription-{subscription.id}", "enter", navigates=True)
        assert "Cartes de Jeanne Martin" in browser.text() and "Aucune carte imprimée." in browser.text()
        assert axe_violations(browser) == []
        screenshot(browser, "card-subscription")
        browser.press("#print", "enter", navigates=True)

        job_id = browser.current_url().rsplit("/", 1)[1]
        deadline = time.monotonic() + 60
        while _text_of(browser, "#job-state") != "Imprimée":  # the page follows the job by itself
            assert time.monotonic() < deadline, f"the job's page never showed it printed: {browser.text()}"
            pump.run_once()  # the results queue, fed to the app as Lambda would be
            time.sleep(0.2)
        done = _stored(actor, job_id)
        [card] = binding.cards_of_subscription(actor, subscription.id)
        assert done.state == "printed" and len(done.uid) == 14 and card.uid == done.uid
        assert _text_of(browser, "#job-uid") == done.uid
        assert "oui, l'UID fait entrer le titulaire" in browser.text()
        assert [entry["uid"] for entry in agent.printed()] == [done.uid]  # one card touched by ink
        assert axe_violations(browser) == []
        screenshot(browser, "card-job")
    finally:
        agent.stop()

    browser.open(f"{app_server.base}/console/cards/subscriptions/{subscription.id}")
    assert done.uid in browser.text() and "a déjà une carte active" in browser.text()
    browser.press(f"#revoke-{card.id}", "enter", navigates=True)
    assert "Ce qui va se passer" in browser.text() and done.uid in browser.text()
    assert binding.get_card(actor, card.id).state == "active"  # the confirmation page changes nothing
    assert axe_violations(browser) == []
    screenshot(browser, "card-revoke")
    browser.type("#reason", "Perdue au vestiaire")
    browser.press("#confirm-revoke", "enter", navigates=True)
    assert "La carte est révoquée" in browser.text() and "Perdue au vestiaire" in browser.text()
    revoked = binding.get_card(actor, card.id)
    assert (revoked.state, revoked.revoked_reason) == ("revoked", "Perdue au vestiaire")
    assert "a déjà une carte active" not in browser.text() and browser.find_all("#print")  # a new card, now
    browser.open(f"{app_server.base}/console/cards/cards/{card.id}/revoke")
    assert "Impossible dans l'état actuel" in browser.text()  # revoked once, not offered again


def test_uncertain_prints_decided_printed_with_the_uid_read_or_printed_again_by_keyboard(
        app_server, console_browser, tenant, actor, cards):
    site_agent = SiteAgent(cards.site)
    read = printing.print_card(actor, cards.sell("Ana").id, cards.printer.id)
    unread = printing.print_card(actor, cards.sell("Bea").id, cards.printer.id)
    site_agent.receive()
    results.apply_message(json.dumps(site_agent.result(read, "uncertain", uid=UID,
                                                       reason="interrupted_while_printing")))
    results.apply_message(json.dumps(site_agent.result(unread, "uncertain", reason="interrupted_while_printing")))
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/cards")
    browser.press("#uncertain", "enter", navigates=True)
    assert "Ana Martin" in browser.text() and "Bea Martin" in browser.text() and UID in browser.text()
    assert "L'agent s'est arrêté pendant l'impression" in browser.text()
    assert axe_violations(browser) == []
    screenshot(browser, "card-uncertain")

    browser.press(f"#printed-{read.id}", "enter", navigates=True)
    assert "Ce qui va se passer" in browser.text() and UID in browser.text()
    assert _stored(actor, read.id).state == "uncertain"  # nothing decided yet
    assert axe_violations(browser) == []
    screenshot(browser, "card-resolve")
    browser.press("#confirm-resolve", "enter", navigates=True)
    assert _text_of(browser, "#job-state") == "Imprimée" and "Déclarée imprimée par le personnel" in browser.text()
    decided = _stored(actor, read.id)
    assert (decided.state, decided.uid, decided.card_id) == ("printed", UID, read.id)
    assert binding.card_by_uid(tenant, UID).subscription_ids == [read.subscription_id]
    browser.open(f"{app_server.base}/console/cards/print-jobs/{read.id}/resolve?decision=printed")
    assert "Impossible dans l'état actuel" in browser.text()  # decided once, not offered again

    browser.open(f"{app_server.base}/console/cards/uncertain")
    browser.press(f"#reprint-{unread.id}", "enter", navigates=True)
    assert "Une nouvelle carte est imprimée" in browser.text()
    assert axe_violations(browser) == []
    browser.press("#confirm-resolve", "enter", navigates=True)
    replaced = _stored(actor, unread.id)
    assert replaced.replaced_by and browser.current_url().endswith(f"/console/cards/print-jobs/{replaced.replaced_by}")
    assert _text_of(browser, "#job-state") == "En file d'attente"
    [message] = site_agent.receive()  # the new card went to the site's queue
    assert message["body"]["job_id"] == replaced.replaced_by
    assert message["body"]["card"]["subscription_id"] == unread.subscription_id
    _press_live(browser, "#cancel-job")  # the new card is still queued: it can be stopped
    assert "L'annulation est demandée" in browser.text()
    assert _stored(actor, replaced.replaced_by).cancel_requested_at is not None
    browser.open(f"{app_server.base}/console/cards/subscriptions/{unread.subscription_id}")
    assert browser.find_all("#open-job") and not browser.find_all("#print")  # until the agent answers: one at a time


def test_a_mass_print_started_paused_and_resumed_to_its_end_by_keyboard(
        app_server, console_browser, tenant, actor, cards, pump):
    sold = cards.sell("Abonné", count=3)
    cards.sell("Papier", mode="print_at_home")  # another delivery mode: not printed
    ensure_jobs_queue()
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/cards")
    browser.press("#mass-print", "enter", navigates=True)
    assert browser.selected(f"#product_id option[value='{cards.product.id}']")  # the only subscription product
    assert axe_violations(browser) == []
    screenshot(browser, "card-mass-print")
    browser.press("#start-mass-print", "enter", navigates=True)
    job_id = browser.current_url().rsplit("/", 1)[1]
    assert jobs.get_job(actor, job_id).params["product_id"] == cards.product.id

    _press_live(browser, "#pause")
    assert "Mise en pause" in browser.text() and _text_of(browser, "#mass-status") == "En pause"
    assert jobs.get_job(actor, job_id).status == "paused"
    for _ in range(3):
        pump.run_once()  # a paused job's chunk does nothing
    assert printing.list_jobs(actor, printer_id=cards.printer.id, state="queued", limit=10, cursor=None).items == []
    assert axe_violations(browser) == []
    _press_live(browser, "#resume")
    drive(pump, tenant, job_id)
    deadline = time.monotonic() + 15
    while _text_of(browser, "#mass-status") != "Terminée":  # the page follows the job by itself
        assert time.monotonic() < deadline, "the mass print's page never showed its end"
        time.sleep(0.2)
    assert "Envoyées à l'imprimante" in browser.text() and "Autre mode d'envoi" in browser.text()
    queued = printing.list_jobs(actor, printer_id=cards.printer.id, state="queued", limit=10, cursor=None).items
    assert {job.subscription_id for job in queued} == {subscription.id for subscription in sold}
    assert not browser.find_all("#pause") and not browser.find_all("#cancel-mass-print")
    assert axe_violations(browser) == []
    screenshot(browser, "card-mass")


def test_a_mass_print_cancelled_after_its_confirmation_page(app_server, tenant, actor, cards, pump):
    from tests.e2e.console_helpers import form_value

    cards.sell("Abonné", count=2)
    ensure_jobs_queue()
    http = staff_http(app_server, tenant)
    started = http.post(f"{app_server.base}/console/cards/mass-print", allow_redirects=False, timeout=30, data={
        "form": form_value(http, f"{app_server.base}/console/cards/mass-print"), "product_id": cards.product.id,
        "printer_id": cards.printer.id, "delivery_mode": "new_card"})
    assert started.status_code == 303
    page = started.headers["Location"]
    job_id = page.rsplit("/", 1)[1]
    confirm = http.get(f"{app_server.base}{page}/cancel", timeout=30)
    assert "Ce qui va se passer" in confirm.text and jobs.get_job(actor, job_id).status == "queued"
    answer = http.post(f"{app_server.base}{page}/cancel", data={"form": form_value(http, app_server.base + page)},
                       timeout=30)
    assert "Annulée : les cartes encore en file ne seront pas imprimées." in answer.text
    assert jobs.get_job(actor, job_id).status == "cancelled"
    drive(pump, tenant, job_id)
    assert printing.list_jobs(actor, printer_id=cards.printer.id, state="queued", limit=10, cursor=None).items == []
    other = http.get(f"{app_server.base}/console/cards/mass-prints/{job_id}/cancel", timeout=30)
    assert other.status_code == 409  # ended: nothing more to cancel


def test_bad_input_is_a_clear_page_and_nothing_is_written(app_server, tenant, actor, cards):
    from tests.e2e.console_helpers import form_value

    subscription = cards.sell("Jeanne")
    http = staff_http(app_server, tenant)
    base = app_server.base
    assert http.get(f"{base}/console/cards?state=lost", timeout=30).status_code == 422  # the API's own schema
    assert http.get(f"{base}/console/cards/print?subscription_id=nope", timeout=30).status_code == 404
    by_number = http.get(f"{base}/console/cards/print?subscription_id={subscription.id}", allow_redirects=False,
                         timeout=30)
    assert by_number.headers["Location"] == f"/console/cards/subscriptions/{subscription.id}"
    assert http.get(f"{base}/console/cards/print?q=", timeout=30).status_code == 200  # nothing asked: the form
    printed = http.post(f"{base}/console/cards/subscriptions/{subscription.id}/print", timeout=30, data={
        "form": form_value(http, f"{base}/console/cards/subscriptions/{subscription.id}"), "printer_id": "x"})
    assert printed.status_code == 422 and "printer_id" in printed.text
    assert printing.jobs_of_subscription(actor, subscription.id) == []


def _queued_jobs(actor, cards, count: int) -> None:
    """Print jobs as recorded before their message (their faces are not what this test reads)."""
    subscription = cards.sell("File")
    for _ in range(count):
        job = PrintJob(tenant_id=actor.tenant_id, id=ids.new_id(), site_id=cards.site.id,
                       printer_id=cards.printer.id, subscription_id=subscription.id,
                       holder_contact_id=subscription.holder_contact_id, encode=True, state="queued",
                       created_by=actor.subject)
        job.set_index_keys()
        job.save()
    assert job.printer_key == tenant_key(actor.tenant_id, cards.printer.id)


def test_the_card_lists_read_one_page_never_the_table(app_server, tenant, actor, cards, monkeypatch):
    from chalicelib.handlers.console.frame import PAGE_SIZE

    _queued_jobs(actor, cards, PAGE_SIZE + 5)
    http = staff_http(app_server, tenant)
    reads = dynamodb_reads(monkeypatch)
    page = http.get(f"{app_server.base}/console/cards", timeout=30)
    assert page.status_code == 200 and 'rel="next"' in page.text
    assert page.text.count("/console/cards/print-jobs/") == PAGE_SIZE
    # the sites, the printers (and each one's queue length: two counts), one page of jobs, their holders
    assert reads["calls"] <= 8 and reads["items"] <= 2 * PAGE_SIZE + 5, reads
    assert "Scan" not in reads["operations"]
    monkeypatch.undo()
    reads = dynamodb_reads(monkeypatch)
    assert http.get(f"{app_server.base}/console/cards/uncertain", timeout=30).status_code == 200
    assert reads["calls"] <= 5 and "Scan" not in reads["operations"], reads
    monkeypatch.undo()
    english = http.get(f"{app_server.base}/console/cards?lang=en", timeout=30).text
    assert "Print queue" in english and "Not heard from its agent yet" in english and "File d'impression" not in english


def test_an_administrator_registers_a_site_and_its_printer_then_takes_its_agent_configuration(
        app_server, console_browser, tenant, actor):
    """A site registered by keyboard (its print queue made), a printer with an encoder registered
    on it, put out of service and back, the agent's configuration downloaded (it holds the agent
    key: audited, never cached); a staff session, not admin, is refused all of it."""
    from chalicelib.adapters.aws import client
    from chalicelib.config import settings
    from chalicelib.models.cards import CardSite
    from chalicelib.services.catalog import catalog
    from chalicelib.services.shared.audit import history

    client("sqs").create_queue(QueueName=settings.card_results_queue)  # the stack's, where agents report
    catalog.venues.create(actor, {"name": "Théâtre des Célestins", "city": "Lyon"})
    browser = console_browser
    sign_in(browser, app_server, tenant, role="admin", subject="direction", next_path="/console/cards")
    browser.press("#sites", "enter", navigates=True)
    browser.press("#register-site", "enter", navigates=True)  # no name: refused beside it
    assert browser.attribute("#name", "aria-invalid") == "true"
    browser.type("#name", "Guichet des Célestins")
    choose_by_typing(browser, "#venue_id", "Théâtre")
    browser.press("#register-site", "enter", navigates=True)
    assert "Le site est enregistré" in browser.text()
    [site] = list(CardSite.query(tenant))
    assert site.name == "Guichet des Célestins" and site.venue_id and site.queue_name.endswith(".fifo")
    browser.type("#name", "Primacy du hall")
    browser.type("#model", "Evolis Primacy 2")
    browser.press("#encoder", "space")
    browser.press("#register-printer", "enter", navigates=True)
    assert "L'imprimante est enregistrée." in browser.text()
    [printer] = list(CardPrinter.query(tenant))
    assert (printer.site_id, printer.model, printer.encoder, printer.active) == (site.id, "Evolis Primacy 2", True, True)
    assert axe_violations(browser) == []
    screenshot(browser, "card-site")
    browser.press("#service-1", "enter", navigates=True)
    assert "hors service" in browser.text() and not CardPrinter.get(tenant, printer.id).active
    browser.press("#service-1", "enter", navigates=True)
    assert CardPrinter.get(tenant, printer.id).active

    admin = staff_http(app_server, tenant, role="admin")
    config = admin.get(f"{app_server.base}/console/cards/sites/{site.id}/agent-config", timeout=30)
    assert config.status_code == 200 and 'filename="agent.toml"' in config.headers["Content-Disposition"]
    assert config.headers["Cache-Control"] == "no-store" and site.id in config.text and printer.id in config.text
    assert any(event.action == "agent-config" for event in history(actor, "card_site", site.id, limit=20,
                                                                         cursor=None).items)
    staff = staff_http(app_server, tenant)
    for path in ("/console/cards/sites", f"/console/cards/sites/{site.id}", f"/console/cards/sites/{site.id}/agent-config"):
        assert staff.get(f"{app_server.base}{path}", timeout=30).status_code == 403, path
