"""The refunds to follow up, in a real browser, used by keyboard as the venue's accountant would:
an offline refund listed with its holder and masked IBAN, opened to read the full IBAN to pay
to, a cancel without a reason refused beside its field, then marked paid with the transfer's
reference (and a second, stale, confirmation refused); a card refund Stripe refused, listed as
failed and sent to Stripe again from its page, once; the list reads one page, never the table.
axe-core checks each screen."""
from __future__ import annotations

from chalicelib.services.money import refunds
from chalicelib.services.money.refunds import BankAccount
from chalicelib.services.orders import orders
from tests.e2e.console_helpers import axe_violations, form_value, screenshot, sign_in, staff_http
from tests.money_helpers import paid_card_order, paid_cheque_order, refunds_at_stripe, stripe_failing
from tests.orders_world import build_world, line

IBAN = "FR7630006000011234567890189"
IBAN_SHOWN = "FR76 3000 6000 0112 3456 7890 189"  # in groups of four, as it is typed into a bank's form


def test_an_offline_refund_paid_by_transfer_after_reading_its_iban(app_server, console_browser, tenant, actor):
    world = build_world(actor)
    order = paid_cheque_order(actor, world, line(world), line(world))
    refund = refunds.request_refund(actor, order.id, [2], bank=BankAccount(iban=IBAN, holder="Paul Martin"))
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/refunds")
    row = browser.text()
    assert f"N° {order.number}" in row and "Paul Martin" in row and "FR76 **** " in row  # masked in the list
    assert IBAN_SHOWN not in row and IBAN not in row
    assert axe_violations(browser) == []
    screenshot(browser, "refunds")
    browser.press("#open-1", "enter", navigates=True)
    assert browser.text().count(IBAN_SHOWN) == 1  # the full IBAN, to pay to, on the refund's own page
    assert axe_violations(browser) == []
    screenshot(browser, "refund-offline")

    browser.press("#cancel-refund", "enter", navigates=True)  # no reason given
    assert browser.attribute("#reason", "aria-invalid") == "true" and "Saisie à corriger" in browser.text()
    assert refunds.get_refund(actor, order.id, refund.refund_id).state == "pending"

    stale = staff_http(app_server, tenant)
    page = f"{app_server.base}/console/refunds/{order.id}/{refund.refund_id}"
    stale_form = form_value(stale, page)
    browser.type("#reference", "VIR-2026-118")
    browser.press("#mark-paid", "enter", navigates=True)
    assert "Le remboursement est marqué payé." in browser.text() and "VIR-2026-118" in browser.text()
    paid = refunds.get_refund(actor, order.id, refund.refund_id)
    assert (paid.state, paid.paid_reference) == ("succeeded", "VIR-2026-118")
    again = stale.post(f"{page}/paid", data={"form": stale_form, "reference": "VIR-2026-119"}, timeout=30)
    assert again.status_code == 409 and "Impossible dans l&#39;état actuel" in again.text
    assert refunds.get_refund(actor, order.id, refund.refund_id).paid_reference == "VIR-2026-118"

    browser.open(f"{app_server.base}/console/refunds")
    assert "Aucun remboursement dans cette vue." in browser.text()  # nothing left to pay
    browser.press("#view-all", "enter", navigates=True)
    assert f"N° {order.number}" in browser.text()


def test_a_refund_stripe_refused_is_sent_again_from_its_page_once(app_server, console_browser, tenant, actor,
                                                                 monkeypatch):
    world = build_world(actor)
    order = paid_card_order(actor, world)
    with stripe_failing(monkeypatch, "insufficient_balance"):
        refund = refunds.request_refund(actor, order.id, [1])
    assert refund.state == "failed"
    browser = console_browser
    sign_in(browser, app_server, tenant, next_path="/console/refunds?view=failed")
    assert f"N° {order.number}" in browser.text() and "Réessayer" in browser.text()
    browser.press("#open-1", "enter", navigates=True)
    page = browser.current_url()
    browser.press("#retry", "enter", navigates=True)
    assert "Le remboursement est relancé auprès de Stripe." in browser.text() and "Effectué" in browser.text()
    assert len(refunds_at_stripe(order.payment_intent_id)) == 1
    assert orders.get_order(actor, order.id).status == "refunded"
    browser.open(page)
    assert not browser.find_all("#retry")  # done: nothing more offered
    http = staff_http(app_server, tenant)
    again = http.post(f"{page}/retry", data={"form": form_value(http, page)}, timeout=30)
    assert again.status_code == 409 and len(refunds_at_stripe(order.payment_intent_id)) == 1


def test_the_list_reads_one_page_never_the_table(app_server, tenant, actor, monkeypatch):
    from chalicelib.handlers.console.frame import PAGE_SIZE
    from tests.e2e.console_helpers import dynamodb_reads

    world = build_world(actor, capacity=200)
    for _ in range(PAGE_SIZE + 5):
        order = paid_cheque_order(actor, world, line(world))
        refunds.request_refund(actor, order.id, [1], bank=BankAccount(iban=IBAN, holder="Paul Martin"))
    http = staff_http(app_server, tenant)
    reads = dynamodb_reads(monkeypatch)
    page = http.get(f"{app_server.base}/console/refunds", timeout=30)
    assert page.status_code == 200 and 'id="next"' in page.text
    assert page.text.count('<tr id="refund-') == PAGE_SIZE
    # one Query of the state's index (a page of keys), one batch read of those refunds
    assert reads["operations"] == ["Query", "BatchGetItem"] and reads["items"] <= 2 * PAGE_SIZE + 1, reads
