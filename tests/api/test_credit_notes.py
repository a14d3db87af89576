"""Credit notes (factures d'avoir): a refund of an invoiced order issues one when the money has
gone back, numbered without gaps in its own series, referring to the invoice it corrects, with
the refunded lines and their VAT; never twice for one refund, even when issued concurrently.
B2B invoices carry the late-payment mentions even once paid."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.services.documents import credit_notes
from chalicelib.services.money import refunds
from chalicelib.services.money.quotes import FeePolicy
from tests.api.helpers import assert_problem, call
from tests.api.test_documents import document, fill_profile, text_of
from tests.money_helpers import paid_card_order, paid_cheque_order, stripe_failing
from tests.orders_world import build_world, line

IBAN = refunds.BankAccount("FR7630006000011234567890189", "Élodie Lefèvre")


@pytest.fixture
def world(actor):
    return build_world(actor)


@pytest.fixture
def profile(client, admin_headers):
    return fill_profile(client, admin_headers)


def _invoice(client, headers, order_id) -> str:
    return text_of(document(client, headers, f"/orders/{order_id}/invoice"))


def _notes(client, headers, order_id) -> list[dict]:
    status, page, _ = call(client, "GET", f"/orders/{order_id}/credit-notes", headers)
    assert status == 200, page
    return page["items"]


def test_an_offline_refund_issues_its_credit_note_once_paid(client, staff_headers, actor, world, profile):
    order = paid_cheque_order(actor, world, line(world), line(world, world.reduced))
    assert "F-000001" in _invoice(client, staff_headers, order.id)
    refund = refunds.request_refund(actor, order.id, [2], bank=IBAN)
    assert _notes(client, staff_headers, order.id) == []  # pending: the money has not gone back yet
    refunds.mark_paid(actor, order.id, refund.refund_id, reference="VIR 123")

    [note] = _notes(client, staff_headers, order.id)
    assert (note["number"], note["reference"], note["invoice_number"], note["amount_cents"]) == (
        1, "AV-000001", 1, 2100)
    page = text_of(document(client, staff_headers, f"/orders/{order.id}/credit-notes/1"))
    assert "Facture d'avoir" in page and "Avoir n° AV-000001" in page and "Rectifie la facture n° F-000001" in page
    assert "Tarif réduit" in page and "Plein tarif" not in page  # only what went back
    assert "21,00" in page and "1,09" in page  # 21.00 incl. 5.5 % VAT: 1.09 of VAT
    assert "SIRET 732 829 320 00074" in page and "virement" in page
    english = text_of(document(client, staff_headers, f"/orders/{order.id}/credit-notes/1?lang=en"))
    assert "Credit note no. AV-000001" in english and "Corrects invoice no. F-000001" in english


def test_a_card_refund_issues_it_when_stripe_confirms_and_a_failed_one_issues_none(
        client, staff_headers, actor, world, profile, monkeypatch):
    order = paid_card_order(actor, world, line(world), line(world))
    _invoice(client, staff_headers, order.id)
    with stripe_failing(monkeypatch, "card_declined"):
        failed = refunds.request_refund(actor, order.id, [1])
    assert failed.state == "failed" and _notes(client, staff_headers, order.id) == []
    done = refunds.request_refund(actor, order.id, [2], policy=FeePolicy("fixed", fixed_cents=200))
    [note] = _notes(client, staff_headers, order.id)
    assert (note["refund_id"], note["amount_cents"]) == (done.refund_id, 3000)  # the fee kept is not credited


def test_refunds_made_before_the_invoice_get_their_credit_notes_with_it(client, staff_headers, actor, world, profile):
    order = paid_cheque_order(actor, world, line(world), line(world))
    refund = refunds.request_refund(actor, order.id, [1], bank=IBAN)
    refunds.mark_paid(actor, order.id, refund.refund_id, reference=None)
    _invoice(client, staff_headers, order.id)  # issued after the refund
    assert [n["refund_id"] for n in _notes(client, staff_headers, order.id)] == [refund.refund_id]


def test_credit_notes_of_concurrent_refunds_are_numbered_without_gaps(client, staff_headers, actor, world, profile):
    made = [paid_cheque_order(actor, world) for _ in range(6)]
    for order in made:
        _invoice(client, staff_headers, order.id)
    pending = [refunds.request_refund(actor, order.id, [1], bank=IBAN) for order in made]

    def pay(refund):
        return refunds.mark_paid(actor, refund.order_id, refund.refund_id, reference=None)

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(pay, pending))
    numbers = sorted(note["number"] for order in made for note in _notes(client, staff_headers, order.id))
    assert numbers == [1, 2, 3, 4, 5, 6]


def test_one_refund_never_gets_two_credit_notes_however_often_it_is_issued(actor, world, client, staff_headers,
                                                                             profile):
    order = paid_cheque_order(actor, world)
    _invoice(client, staff_headers, order.id)
    refund = refunds.request_refund(actor, order.id, [1], bank=IBAN)
    paid = refunds.mark_paid(actor, order.id, refund.refund_id, reference=None)
    with ThreadPoolExecutor(max_workers=6) as pool:
        issued = list(pool.map(lambda _: credit_notes.issue_for_refund(actor, paid), range(6)))
    assert {note.number for note in issued} == {1}
    assert len(_notes(client, staff_headers, order.id)) == 1


def test_an_unknown_credit_note_is_a_404(client, staff_headers, actor, world, profile):
    order = paid_cheque_order(actor, world)
    for number in ("1", "x", "99999999999"):
        assert_problem(call(client, "GET", f"/orders/{order.id}/credit-notes/{number}", staff_headers), 404)


def test_a_business_buyer_is_named_and_its_invoice_carries_the_late_payment_mentions(
        client, staff_headers, actor, world, profile):
    business = paid_cheque_order(actor, world, buyer={
        "last_name": "Martin", "first_name": "Paul", "company_name": "Comité d'entreprise Renault",
        "company_siret": "78012998700019", "company_vat_number": "FR40303265045"})
    page = _invoice(client, staff_headers, business.id)
    assert "Comité d'entreprise Renault" in page and "FR40303265045" in page
    assert "pénalités de retard" in page and "acquittée" in page  # paid, and still the mentions
    private = paid_cheque_order(actor, world)
    assert "pénalités de retard" not in _invoice(client, staff_headers, private.id)


def test_a_company_buyer_is_checked(client, staff_headers, world):
    def order_with(**company):
        return call(client, "POST", "/orders", staff_headers, {
            "kind": "sale", "payment_type": "cash", "lines": [line(world)],
            "buyer": {"last_name": "Martin", **company}})

    assert_problem(order_with(company_siret="78012998700013"), 422, "buyer.company_siret")
    assert_problem(order_with(company_vat_number="XX123"), 422, "buyer.company_vat_number")
    assert order_with(company_vat_number="DE 123 456 789")[0] == 201
