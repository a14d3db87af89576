"""The order screens' money, papers and bulk work in a real browser, used by keyboard as a box
office would: two tickets of a card order refunded after their summary (at Stripe, in the
ledger, on the order's page) and a second submit of the same form refunding nothing more; a
document printed and a mail resent to a corrected address; the list narrowed to a show's
performance; the matching orders exported as CSV and confirmations resent to ticked ones, each a
job followed on its page. axe-core checks each screen, and each is photographed for
docs/console.md."""
from __future__ import annotations

import csv
import io
import re
import time

import requests

from chalicelib.models.base import tenant_key
from chalicelib.models.money import Refund
from chalicelib.services.catalog import organisation
from chalicelib.services.ledger import ledger, metrics
from chalicelib.services.mail import notifications
from chalicelib.services.orders import orders
from chalicelib.services.shared.form_requests import new_request_id
from tests.e2e.console_helpers import axe_violations, form_value, screenshot, sign_in, staff_http, text_of
from tests.job_helpers import drive, ensure_jobs_queue
from tests.money_helpers import paid_card_order, paid_cheque_order, refunds_at_stripe
from tests.orders_world import build_world, draft, line


def _stored_refunds(actor, order_id) -> list[Refund]:
    return list(Refund.query(tenant_key(actor.tenant_id, order_id), consistent_read=True))


def _mails(actor, order_id) -> list:
    return notifications.of_entity(actor, "order", order_id, limit=20, cursor=None).items


def _texts(browser, css: str) -> list[str]:
    return [browser._session_call("GET", f"/element/{cell}/text") for cell in browser.find_all(css)]


def _wait_for(browser, text: str) -> None:
    deadline = time.monotonic() + 15
    while text not in browser.text():
        assert time.monotonic() < deadline, f"the page never showed {text!r}"
        time.sleep(0.2)


def test_two_tickets_of_a_card_order_refunded_after_their_summary_and_only_once(
        app_server, console_browser, tenant, actor):
    world = build_world(actor)
    order = paid_card_order(actor, world, line(world, attendee_name="Paul"),
                            line(world, tariff=world.reduced, attendee_name="Léa"), line(world, attendee_name="Max"))
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path=f"/console/orders/{order.id}")
    assert "Complète" in browser.text() and not browser.find_all("#refunds")
    browser.press("#refund-pick-1", "space")
    browser.press("#refund-pick-2", "space")
    browser.press("#refund-summary", "enter", navigates=True)

    text = browser.text()
    assert "Ce qui va se passer" in text and "Paul" in text and "Léa" in text and "Max" not in text
    assert _texts(browser, "#refund-total") == ["53,00 €"]
    assert "Sur la carte bancaire (Stripe)" in _texts(browser, "#refund-means")[0]
    assert "ne sont pas déduits du remboursement" in text and "remboursement engagé" in text
    assert orders.get_order(actor, order.id).refunded_cents == 0 and not refunds_at_stripe(order.payment_intent_id)
    assert axe_violations(browser) == []
    screenshot(browser, "order-refund-summary")
    request_id = browser.attribute("input[name=request_id]", "value")
    browser.press("#confirm-refund", "enter", navigates=True)

    assert "Le remboursement est enregistré" in browser.text()
    [row] = _texts(browser, "#refunds tbody tr")
    assert "1, 2" in row and "53,00" in row and "Effectué" in row
    assert axe_violations(browser) == []
    refreshed = orders.get_order(actor, order.id)
    assert refreshed.refunded_cents == 5300 and refreshed.status == "partially_complete"
    assert [t.state for t in orders.tickets_of(refreshed)] == ["refunded", "refunded", "valid"]
    [refund] = _stored_refunds(actor, order.id)
    assert (refund.refund_id, refund.state, refund.means, refund.amount_cents) == (request_id, "succeeded", "card", 5300)
    assert [(r.amount, r.status) for r in refunds_at_stripe(order.payment_intent_id)] == [(5300, "succeeded")]
    assert [e.kind for e in ledger.entries_of_order(tenant, order.id)].count("refund") == 1
    assert metrics.figures(actor, "performance", world.evening.id)["refunds_cents"] == 5300
    assert [m.template for m in _mails(actor, order.id)].count("refund_initiated") == 1
    assert not browser.find_all("#refund-pick-1") and browser.find_all("#refund-pick-3")

    # The same form sent again (a reload of the POST, a double click): the same refund is answered.
    http = staff_http(app_server, tenant)
    again = http.post(f"{app_server.base}/console/orders/{order.id}/refund", allow_redirects=False, timeout=30, data={
        "form": form_value(http, f"{app_server.base}/console/orders/{order.id}"), "request_id": request_id,
        "position": ["1", "2"], "amount_cents_1": "3200", "amount_cents_2": "2100"})
    assert again.status_code == 303 and "done=refunded-before" in again.headers["Location"]
    assert "avait déjà été fait" in http.get(app_server.base + again.headers["Location"], timeout=30).text
    # Back to the summary: its tickets are refunded now, so it offers nothing.
    browser.back()
    browser.open(browser.current_url())
    assert "Impossible dans l'état actuel" in browser.text()
    assert len(_stored_refunds(actor, order.id)) == 1 and len(refunds_at_stripe(order.payment_intent_id)) == 1
    assert orders.get_order(actor, order.id).refunded_cents == 5300
    # A form without the summary's amounts refunds nothing (what nobody was shown)
    incomplete = http.post(f"{app_server.base}/console/orders/{order.id}/refund", timeout=30, data={
        "form": form_value(http, f"{app_server.base}/console/orders/{order.id}"),
        "request_id": new_request_id(), "position": ["3"]})
    assert incomplete.status_code == 422 and "incomplet" in incomplete.text
    assert orders.tickets_of(orders.get_order(actor, order.id))[2].state == "valid"
    # Another venue's staff find nothing at these addresses
    sign_in(browser, app_server, "tenant-elsewhere", next_path=f"/console/orders/{order.id}/refund?position=3")
    assert "Page introuvable" in browser.text() and "Max" not in browser.text()
    browser.open(f"{app_server.base}/console/orders/{order.id}/documents/receipt")
    assert "Page introuvable" in browser.text()


def test_a_summary_with_a_hand_set_amount_and_an_offline_refund_to_an_iban(
        app_server, console_browser, tenant, actor):
    world = build_world(actor)
    order = paid_cheque_order(actor, world, line(world), line(world))
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path=f"/console/orders/{order.id}")
    browser.press("#refund-summary", "enter", navigates=True)  # nothing ticked: said, nothing done
    assert "Cochez au moins un billet" in browser.text()
    browser.open(f"{app_server.base}/console/orders/{order.id}")
    browser.press("#refund-pick-2", "space")
    browser.press("#refund-summary", "enter", navigates=True)
    assert "Hors ligne : virement de la salle" in browser.text()
    browser.type("#amount-2", "25,5")
    browser.press("#amount-2", "enter", navigates=True)  # recomputed: 6,50 kept
    assert _texts(browser, "#refund-total") == ["25,50 €"] and "6,50" in _texts(browser, "tbody tr")[0]
    browser.type("#amount-2", "40")
    browser.press("#amount-2", "enter", navigates=True)  # above what the ticket was paid: the service says no
    assert "Impossible dans l'état actuel" in browser.text() and "3200" in browser.text()
    # the refusal's kind said in French; the service's own words kept, marked as English
    assert "Ce serait rendre plus que ce qui a été payé" in browser.text()
    assert browser.attribute(".refusal-detail span", "lang") == "en" and "3200" in _texts(browser, ".refusal-detail")[0]
    browser.back()
    browser.open(browser.current_url())
    browser.type("#iban", "FR76 3000 6000 0112 3456 7890 189")
    browser.type("#holder", "Élodie Lefèvre")
    assert axe_violations(browser) == []
    browser.press("#confirm-refund", "enter", navigates=True)
    [row] = _texts(browser, "#refunds tbody tr")
    assert "25,50" in row and "6,50" in row and "En attente" in row and "Hors ligne" in row
    [refund] = _stored_refunds(actor, order.id)
    assert (refund.state, refund.amount_cents, refund.iban) == ("pending", 2550, "FR7630006000011234567890189")


def test_tickets_turned_into_credit_after_their_summary_once(app_server, console_browser, tenant, actor):
    from chalicelib.services.money import customer_money

    world = build_world(actor)
    order = paid_cheque_order(actor, world, line(world), line(world, world.reduced))
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path=f"/console/orders/{order.id}")
    browser.press("#refund-pick-2", "space")
    browser.press("#method-credit", "space")
    browser.press("#refund-summary", "enter", navigates=True)
    assert "Passer en avoir" in browser.text() and "compte client" in browser.text()
    assert _texts(browser, "#refund-total") == ["21,00 €"] and not browser.find_all("#amount-2")
    assert orders.get_order(actor, order.id).credited_cents == 0
    assert axe_violations(browser) == []
    form = {"request_id": browser.attribute("input[name=request_id]", "value"), "method": "credit", "position": "2"}
    browser.press("#confirm-refund", "enter", navigates=True)
    assert "passés en avoir" in browser.text() and "en avoir 21,00" in browser.text()
    refreshed = orders.get_order(actor, order.id)
    assert refreshed.credited_cents == 2100 and refreshed.refunded_cents == 0
    assert customer_money.credit_balance(actor, refreshed.buyer.contact_id) == 2100
    http = staff_http(app_server, tenant)
    again = http.post(f"{app_server.base}/console/orders/{order.id}/refund", allow_redirects=False, timeout=30,
                      data={"form": form_value(http, f"{app_server.base}/console/orders/{order.id}"), **form})
    assert again.status_code == 303 and "done=settled-before" in again.headers["Location"]
    assert customer_money.credit_balance(actor, refreshed.buyer.contact_id) == 2100


def test_documents_printed_and_a_mail_resent_to_a_corrected_address(app_server, console_browser, tenant, actor):
    world = build_world(actor)
    organisation.save_profile(actor, {"legal_name": "Les Célestins", "address_line1": "4 rue Charles Dullin",
                                      "postcode": "69002", "city": "Lyon", "siret": "73282932000074",
                                      "vat_number": "FR44732829320"})
    order = paid_cheque_order(actor, world, line(world, attendee_name="Paul"))
    [confirmation] = [m for m in _mails(actor, order.id) if m.template == "order_confirmation"]
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path=f"/console/orders/{order.id}")
    assert browser.find_all("#receipt") and browser.find_all("#invoice") and browser.find_all("#ticket-document-1")
    assert "Confirmation de commande" in browser.text() and "elodie@exemple.fr" in browser.text()
    assert axe_violations(browser) == []
    browser._session_call("POST", "/execute/sync", {"script": "document.getElementById('documents').scrollIntoView()",
                                                    "args": []})
    screenshot(browser, "order-documents")
    browser.press("#invoice", "enter", navigates=True)
    assert "F-" in browser.text() and str(order.number) in browser.text() and "Les Célestins" in browser.text()
    browser.back()
    browser.press("#ticket-document-1", "enter", navigates=True)
    assert "Paul" in browser.text() and "Cyrano" in browser.text()
    browser.back()

    browser.type("#address-1", "elodie.lefevre@exemple.org")
    browser.press("#resend-1", "enter", navigates=True)
    assert "Le mail a été renvoyé." in browser.text() and "elodie.lefevre@exemple.org" in browser.text()
    [resent] = [m for m in _mails(actor, order.id) if m.resent_from == confirmation.id]
    assert resent.recipient == "elodie.lefevre@exemple.org" and resent.template == "order_confirmation"
    assert resent.status not in ("failed", "rejected")
    # A wrong address (the browser's field would not send it; a hand-made form does): the API's refusal
    http = staff_http(app_server, tenant)
    refused = http.post(f"{app_server.base}/console/orders/{order.id}/mails/{confirmation.id}/resend", timeout=30,
                        data={"form": form_value(http, f"{app_server.base}/console/orders/{order.id}"),
                              "address": "pas-une-adresse"})
    assert refused.status_code == 422 and "Saisie à corriger" in refused.text
    assert len(_mails(actor, order.id)) == 2
    # a mail of another order is not this order's to resend
    other = paid_cheque_order(actor, world)
    [elsewhere] = [m for m in _mails(actor, other.id) if m.template == "order_confirmation"]
    assert http.post(f"{app_server.base}/console/orders/{order.id}/mails/{elsewhere.id}/resend", timeout=30, data={
        "form": form_value(http, f"{app_server.base}/console/orders/{order.id}")}).status_code == 404


def test_the_list_narrowed_to_a_performance_then_exported_and_confirmations_resent(
        app_server, console_browser, tenant, actor, pump):
    world = build_world(actor)
    evening = [paid_cheque_order(actor, world, line(world)) for _ in range(2)]
    other, _ = orders.place_order(actor, draft(world, line(world, tariff=world.other_tariff,
                                                           performance=world.other_performance)))
    ensure_jobs_queue()
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/orders")
    browser.press("#pick-show", "enter", navigates=True)
    assert axe_violations(browser) == []
    browser.press(f"a[href='/console/orders/shows/{world.show.id}']", "enter", navigates=True)
    assert axe_violations(browser) == []
    browser.press("#performance-1", "enter", navigates=True)  # the evening, the first by date
    assert "Cyrano" in _texts(browser, "#picked")[0]
    numbers = _texts(browser, "tbody th[scope=row]")
    assert sorted(numbers) == sorted(str(o.number) for o in evening) and str(other.number) not in numbers
    assert axe_violations(browser) == []
    screenshot(browser, "orders-filtered")

    browser.press("#export", "enter", navigates=True)  # every order matching the filters
    job_id = browser.current_url().rsplit("/", 1)[1]
    assert "/console/orders/exports/" in browser.current_url()
    drive(pump, tenant, job_id)
    _wait_for(browser, "Télécharger le fichier")
    assert axe_violations(browser) == []
    screenshot(browser, "orders-export")
    http = staff_http(app_server, tenant)
    link = http.get(f"{app_server.base}/console/jobs/{job_id}/file", allow_redirects=False, timeout=30)
    assert link.status_code == 303
    rows = list(csv.reader(io.StringIO(requests.get(link.headers["Location"], timeout=30).content.decode("utf-8-sig"),
                                       newline=""), delimiter=";"))
    assert rows[0][0] == "N° de commande" and sorted(r[0] for r in rows[1:]) == sorted(str(o.number) for o in evening)

    browser.open(f"{app_server.base}/console/orders?performance_id={world.evening.id}")
    browser.press(f"#pick-{evening[0].id}", "space")
    browser.press("#scope-selected", "space")
    browser.press("#resend-confirmations", "enter", navigates=True)
    job_id = browser.current_url().rsplit("/", 1)[1]
    assert f"/console/jobs/{job_id}" in browser.current_url()
    assert drive(pump, tenant, job_id).done == 1
    _wait_for(browser, "Terminée")
    resent = [m for m in _mails(actor, evening[0].id) if m.template == "order_confirmation"]
    assert len(resent) == 2  # the one when paid, and the one resent
    assert len([m for m in _mails(actor, evening[1].id) if m.template == "order_confirmation"]) == 1

    browser.open(f"{app_server.base}/console/orders?q={evening[0].number}")
    browser.press("#export", "enter", navigates=True)  # a search has no "all matching": tick, or be told
    assert "Cochez au moins une commande" in browser.text()


def test_the_list_of_a_performance_reads_one_page_never_the_table(app_server, tenant, actor, monkeypatch):
    from chalicelib.handlers.console.frame import PAGE_SIZE
    from tests.e2e.console_helpers import dynamodb_reads

    world = build_world(actor, capacity=200)
    for _ in range(PAGE_SIZE + 5):
        orders.place_order(actor, draft(world, payment_type="cash"))
    http = staff_http(app_server, tenant)
    reads = dynamodb_reads(monkeypatch)
    page = http.get(f"{app_server.base}/console/orders?performance_id={world.evening.id}", timeout=30)
    assert page.status_code == 200 and 'rel="next"' in page.text and "Cyrano" in page.text
    assert page.text.count('name="order_id"') == PAGE_SIZE
    # the page's Query, the listing's check of the performance, the performance and show named
    assert reads["calls"] <= 4 and reads["items"] <= PAGE_SIZE + 3, reads
    assert "Scan" not in reads["operations"]


def test_times_are_shown_and_typed_on_the_organisations_clock(app_server, tenant, actor):
    """A venue of La Réunion (UTC+4) reads its order's time on its own clock, not Paris's, and a
    date typed in a form is read on that clock too."""
    from datetime import datetime, timezone

    from chalicelib.adapters import clock
    from chalicelib.handlers.console.frame import Screen
    from chalicelib.services.staff_sessions.sessions import StaffSession

    organisation.save_profile(actor, {"legal_name": "Théâtre Luc Donat", "address_line1": "20 rue de Champ-Fleuri",
                                      "postcode": "97430", "city": "Le Tampon", "siret": "73282932000074",
                                      "vat_number": "FR44732829320", "timezone": "Indian/Reunion"})
    world = build_world(actor)
    clock.set_clock(clock.frozen_at(datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)))
    try:
        order = paid_cheque_order(actor, world, line(world))
    finally:
        clock.set_clock(None)
    page = staff_http(app_server, tenant).get(f"{app_server.base}/console/orders/{order.id}", timeout=30).text
    assert "samedi 5 décembre 2026 à 13 h" in page.replace("\u00a0", " ")  # 09:00 UTC is 13:00 in Saint-Denis (10:00 in Paris)

    session = StaffSession(actor=actor, session_id="s", signed_in_at=0, expires_at=0)
    typed = Screen(request=None, session=session, language="fr", form={"starts_at": ["2027-03-12T20:30"]})
    assert typed.moment("starts_at") == "2027-03-12T20:30:00+04:00"


def test_the_buyer_edited_for_the_invoice_refused_beside_its_field_and_never_over_another_desk(
        app_server, console_browser, tenant, actor):
    world = build_world(actor)
    order = paid_cheque_order(actor, world, line(world))
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path=f"/console/orders/{order.id}")
    browser.press("#edit-buyer", "enter", navigates=True)
    assert browser.attribute("#last_name", "value") == order.buyer.last_name
    assert axe_violations(browser) == []
    screenshot(browser, "order-buyer")

    browser.type("#company_name", "Les Amis du Théâtre")
    browser.type("#company_siret", "732 829 320 00075")  # one digit off
    browser.press("#save-buyer", "enter", navigates=True)
    assert browser.attribute("#company_siret", "aria-invalid") == "true"
    assert "sa clé ne correspond pas" in browser.text()  # said in French, beside the field
    assert browser.attribute("#company_name", "value") == "Les Amis du Théâtre"  # what was typed is kept
    assert orders.get_order(actor, order.id).buyer.company_name is None

    stale = staff_http(app_server, tenant)
    page = f"{app_server.base}/console/orders/{order.id}/buyer"
    shown = stale.get(page, timeout=30).text
    browser.type("#company_siret", "732 829 320 00074")
    browser.type("#company_vat_number", "FR44732829320")
    browser.press("#save-buyer", "enter", navigates=True)
    assert "L'acheteur est modifié." in browser.text() and "Les Amis du Théâtre" in browser.text()
    buyer = orders.get_order(actor, order.id).buyer
    assert (buyer.company_name, buyer.company_siret, buyer.company_vat_number) == (
        "Les Amis du Théâtre", "73282932000074", "FR44732829320")

    form = {name: re.search(rf'name="{name}" value="([^"]*)"', shown).group(1) for name in ("form", "shown")}
    refused = stale.post(page, data={**form, "last_name": "Autre"}, timeout=30)
    assert refused.status_code == 409 and "quelqu" in refused.text and "a modifié l" in refused.text
    assert orders.get_order(actor, order.id).buyer.last_name == order.buyer.last_name  # nothing written


def test_a_ticket_moved_to_another_seat_by_its_place_once(app_server, console_browser, tenant, actor):
    """The new seat typed as on the venue's plan: a place with no seat and a seat sold to another
    order are refused, nothing changed; then the ticket moves, its old seat back on sale; the
    form sent again is the same change."""
    from chalicelib.services.seat_changes import common

    world = build_world(actor)
    order = paid_cheque_order(actor, world, line(world, seat_id=world.seats[0].id))
    paid_cheque_order(actor, world, line(world, seat_id=world.seats[2].id))  # another buyer's seat
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path=f"/console/orders/{order.id}")
    browser.press("#seat-1", "enter", navigates=True)
    assert text_of(browser, "#current-seat") == "Orchestre A 1"
    browser.type("#block", "Orchestre")
    browser.type("#row", "A")
    browser.type("#number", "9")
    browser.press("#change-seat", "enter", navigates=True)
    assert "aucune place de la salle à cet endroit" in browser.text()
    browser.type("#number", "3")
    browser.press("#change-seat", "enter", navigates=True)
    assert browser.find_all("#refused") and orders.tickets_of(orders.get_order(actor, order.id))[0].seat_id == \
        world.seats[0].id
    assert axe_violations(browser) == []
    browser.type("#number", "2")
    form = {name: browser.attribute(f"input[name={name}]", "value") for name in ("form", "change_id")}
    browser.press("#change-seat", "enter", navigates=True)
    assert "La place est changée" in browser.text()
    assert orders.tickets_of(orders.get_order(actor, order.id))[0].seat_id == world.seats[1].id
    assert common.holder_of(tenant, world.evening.id, world.seats[0].id) is None  # back on sale
    screenshot(browser, "order-seat")
    again = staff_http(app_server, tenant)
    page = f"{app_server.base}/console/orders/{order.id}/tickets/1/seat"
    answer = again.post(page, data={"form": form_value(again, page), "change_id": form["change_id"], "block": "Orchestre",
                                    "row": "A", "number": "2", "requested_by": "buyer"}, timeout=30,
                        allow_redirects=False)
    assert answer.status_code == 303  # the same change, answered again
    from chalicelib.models.seat_changes import SeatChange

    assert len(list(SeatChange.query(f"{tenant}#{order.id}"))) == 1
