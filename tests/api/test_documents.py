"""Order documents through the staff API: the organisation profile they print, each ticket
with its check-in QR code, the receipt and the invoice (numbered without gap, frozen when
issued, its totals per VAT rate adding up to the order), in French and English; each
refused (409) where the order's status does not allow it, and invisible to another tenant."""
from __future__ import annotations

import html
import re

import pytest

from chalicelib.models.base import tenant_key
from chalicelib.models.invoices import Invoice
from chalicelib.models.orders import Counter, Order, Ticket
from chalicelib.services.documents.checkin import read_checkin_value
from chalicelib.values.formatting import money
from tests.api.helpers import assert_problem, call
from tests.orders_world import build_world, draft, line

PROFILE = {"legal_name": "Société des Célestins SAS", "trade_name": "Théâtre des Célestins",
           "legal_form": "SAS au capital de 10 000 €", "address_line1": "4 rue Charles Dullin",
           "postcode": "69002", "city": "Lyon", "siret": "732 829 320 00074", "vat_number": "FR 44 732829320",
           "rcs": "RCS Lyon B 732 829 320", "show_licences": "PLATESV-R-2021-001234",
           "invoice_email": "compta@celestins.example.fr", "payment_terms_days": 30,
           "invoice_footer": "Merci de rappeler le numéro de facture avec votre virement."}
SECURITY_HEADERS = {"Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                                               "frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
                    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}
NBSP = "\u00a0"


@pytest.fixture
def world(actor):
    return build_world(actor)


def place(client, headers, payload) -> dict:
    status, order, _ = call(client, "POST", "/orders", headers, payload)
    assert status == 201, order
    return order


def document(client, headers, path) -> str:
    status, body, response_headers = call(client, "GET", path, headers)
    assert status == 200, body
    assert response_headers["Content-Type"] == "text/html; charset=utf-8"
    for name, value in SECURITY_HEADERS.items():
        assert response_headers[name] == value
    assert body.lstrip().startswith("<!DOCTYPE html>")
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", body), "documents load nothing remote"
    return html.unescape(body)


def fill_profile(client, admin_headers, **changes) -> dict:
    status, profile, _ = call(client, "PUT", "/organisation", admin_headers, {**PROFILE, **changes})
    assert status == 200, profile
    return profile


def text_of(page: str) -> str:
    """The page's visible text on one line (tags dropped, spaces collapsed)."""
    body = re.sub(r"<(style|svg)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", " ", body)).strip()  # no-break spaces kept


# --- organisation profile ---------------------------------------------------------------------


def test_the_profile_is_filled_by_an_admin_checked_normalised_and_audited(client, staff_headers, admin_headers):
    assert_problem(call(client, "GET", "/organisation", staff_headers), 404)
    assert_problem(call(client, "PUT", "/organisation", staff_headers, PROFILE), 403)
    assert_problem(call(client, "PUT", "/organisation", admin_headers, {**PROFILE, "siret": "73282932000075"}),
                   422, "siret")
    assert_problem(call(client, "PUT", "/organisation", admin_headers, {**PROFILE, "vat_number": "FR45732829320"}),
                   422, "vat_number")
    assert_problem(call(client, "PUT", "/organisation", admin_headers, {**PROFILE, "vat_number": "FR03552081317"}),
                   422, "vat_number")
    assert_problem(call(client, "PUT", "/organisation", admin_headers, {**PROFILE, "vat_number": None}),
                   422, "vat_number")
    assert_problem(call(client, "PUT", "/organisation", admin_headers, {**PROFILE, "postcode": "6900"}),
                   422, "postcode")
    assert_problem(call(client, "PUT", "/organisation", admin_headers, {**PROFILE, "payment_terms_days": 90}),
                   422, "payment_terms_days")
    assert_problem(call(client, "PUT", "/organisation", admin_headers, {**PROFILE, "logo": "x"}), 422, "logo")

    created = fill_profile(client, admin_headers)
    assert created["siret"] == "73282932000074" and created["vat_number"] == "FR44732829320"
    assert created["vat_regime"] == "normal" and created["version"] == 1
    franchise = fill_profile(client, admin_headers, vat_regime="franchise", vat_number=None, trade_name=None)
    assert franchise["vat_number"] is None and franchise["trade_name"] is None and franchise["version"] == 2
    status, read, _ = call(client, "GET", "/organisation", staff_headers)
    assert status == 200 and read == franchise
    _, history, _ = call(client, "GET", "/audit/organisation/profile", staff_headers)
    assert [event["action"] for event in history["items"]] == ["create", "update"]
    assert history["items"][1]["before"]["vat_number"] == "FR44732829320"


# --- tickets ----------------------------------------------------------------------------------


def test_a_ticket_shows_its_facts_and_a_verifiable_check_in_code(client, staff_headers, admin_headers, world,
                                                                 tenant):
    fill_profile(client, admin_headers)
    seated = line(world, seat_id=world.seats[0].id, attendee_name="Léa Martin")
    order = place(client, staff_headers, draft(world, seated, line(world, world.reduced)))
    page = document(client, staff_headers, f"/orders/{order['id']}/tickets/1")
    text = text_of(page)
    for fact in ("Cyrano", f"samedi 12 décembre 2026 à 20{NBSP}h{NBSP}30", "Théâtre des Célestins", "Lyon",
                 "Plein tarif", f"32,00{NBSP}€", "Orchestre A 1", "Léa Martin", f"n°{NBSP}{order['number']}",
                 "billet 1 sur 2", "PLATESV-R-2021-001234"):
        assert fact in text, fact

    value = re.search(r'data-checkin="([^"]+)"', page).group(1)
    assert read_checkin_value(value) == (tenant, order["id"], 1)
    import segno

    expected = segno.make(value, error="m", micro=False).svg_inline(scale=1, omitsize=True, dark="#000",
                                                                    light="#fff", border=4)
    path = re.search(r'<path class="qrline"[^>]*>', expected).group(0)
    assert path in page, "the QR code drawn is the one of the check-in value"

    second = text_of(document(client, staff_headers, f"/orders/{order['id']}/tickets/2"))
    assert "Placement libre" in second and "Tarif réduit" in second and "Élodie Lefèvre" in second


def test_a_ticket_is_in_the_buyers_language_unless_asked_otherwise(client, staff_headers, world):
    buyer = {"first_name": "John", "last_name": "Smith", "language": "en"}
    order = place(client, staff_headers, draft(world, buyer=buyer))
    english = text_of(document(client, staff_headers, f"/orders/{order['id']}/tickets/1"))
    assert "Saturday 12 December 2026, 8:30 pm" in english and "€32.00" in english
    assert "Unreserved seating" in english and "ticket 1 of 1" in english
    french = text_of(document(client, staff_headers, f"/orders/{order['id']}/tickets/1?lang=fr"))
    assert "samedi 12 décembre 2026" in french and "Placement libre" in french
    assert_problem(call(client, "GET", f"/orders/{order['id']}/tickets/1?lang=de", staff_headers), 422, "lang")


@pytest.mark.parametrize("position", ["2", "0", "abc", "1.0", "99999"])
def test_a_ticket_that_does_not_exist_is_not_found(client, staff_headers, world, position):
    order = place(client, staff_headers, draft(world))
    assert_problem(call(client, "GET", f"/orders/{order['id']}/tickets/{position}", staff_headers), 404)


def test_what_buyers_type_is_printed_as_text_never_as_markup(client, staff_headers, world):
    order = place(client, staff_headers, draft(world, line(world, attendee_name='<script>alert(1)</script>"'),
                                               buyer={"last_name": "<img src=x onerror=alert(1)>"}))
    _, raw, _ = call(client, "GET", f"/orders/{order['id']}/tickets/1", staff_headers)
    assert "<script>" not in raw and "&lt;script&gt;alert(1)&lt;/script&gt;&#34;" in raw
    _, receipt, _ = call(client, "GET", f"/orders/{order['id']}/receipt", staff_headers)
    assert "<img" not in receipt and "&lt;img src=x onerror=alert(1)&gt;" in receipt


def test_an_unpaid_order_s_ticket_says_so_and_carries_no_check_in_code(client, staff_headers, world):
    order = place(client, staff_headers, draft(world, payment_type="cheque"))
    page = document(client, staff_headers, f"/orders/{order['id']}/tickets/1")
    assert "data-checkin" not in page and "<svg" not in page
    assert "Commande non payée" in text_of(page)
    call(client, "POST", f"/orders/{order['id']}/mark-paid", staff_headers)
    assert "data-checkin" in document(client, staff_headers, f"/orders/{order['id']}/tickets/1")


# --- receipt ----------------------------------------------------------------------------------


def test_a_receipt_itemises_the_order_and_its_payment(client, staff_headers, world):
    order = place(client, staff_headers, draft(world, line(world), line(world, world.reduced),
                                               discount_cents=300, promo_code="NOEL"))
    text = text_of(document(client, staff_headers, f"/orders/{order['id']}/receipt"))
    for fact in ("Reçu", f"Commande n° {order['number']}", "Élodie Lefèvre", "Cyrano", "Plein tarif",
                 "Tarif réduit", f"53,00{NBSP}€", f"-3,00{NBSP}€", "NOEL", f"50,00{NBSP}€",
                 f"dont TVA 2,61{NBSP}€", "espèces", "n'est pas une facture"):
        assert fact in text, fact
    english = text_of(document(client, staff_headers, f"/orders/{order['id']}/receipt?lang=en"))
    assert "Receipt" in english and "€50.00" in english and "Paid on" in english


def test_a_receipt_shows_refunds_and_what_was_paid_net(client, staff_headers, world, actor):
    order = place(client, staff_headers, draft(world, line(world), line(world, world.reduced)))
    stored = Order.get(actor.tenant_id, order["id"])
    stored.update(actions=[Order.refunded_cents.set(2100), Order.refunded_count.set(1),
                           Order.status.set("partially_complete")])
    ticket = Ticket.get(tenant_key(actor.tenant_id, order["id"]), 2)
    ticket.update(actions=[Ticket.state.set("refunded")])
    text = text_of(document(client, staff_headers, f"/orders/{order['id']}/receipt"))
    assert f"Remboursements -21,00{NBSP}€" in text and f"remboursements déduits 32,00{NBSP}€" in text
    assert "remboursé" in text


def test_an_unpaid_order_has_no_receipt(client, staff_headers, world):
    order = place(client, staff_headers, draft(world, payment_type="cheque"))
    refused = assert_problem(call(client, "GET", f"/orders/{order['id']}/receipt", staff_headers), 409)
    assert refused["type"] == "/problems/action-not-allowed"


# --- invoice ----------------------------------------------------------------------------------


def test_an_invoice_needs_the_organisation_profile_first_and_consumes_no_number(client, staff_headers,
                                                                                admin_headers, world):
    order = place(client, staff_headers, draft(world))
    refused = assert_problem(call(client, "GET", f"/orders/{order['id']}/invoice", staff_headers), 409)
    assert refused["type"] == "/problems/organisation-profile-missing" and "PUT /organisation" in refused["detail"]
    fill_profile(client, admin_headers)
    assert "F-000001" in document(client, staff_headers, f"/orders/{order['id']}/invoice")


def test_invoice_numbers_follow_each_other_and_never_change(client, staff_headers, admin_headers, world, actor):
    fill_profile(client, admin_headers)
    first = place(client, staff_headers, draft(world))
    second = place(client, staff_headers, draft(world, payment_type="cheque"))
    page_one = document(client, staff_headers, f"/orders/{first['id']}/invoice")
    assert "F-000001" in page_one
    assert "F-000002" in document(client, staff_headers, f"/orders/{second['id']}/invoice")
    assert document(client, staff_headers, f"/orders/{first['id']}/invoice") == page_one
    assert Counter.get(tenant_key(actor.tenant_id, "invoices")).value == 2
    stored = Order.get(actor.tenant_id, first["id"])
    assert stored.invoice_number == 1 and stored.invoice_issued_at is not None
    _, history, _ = call(client, "GET", f"/audit/order/{first['id']}", staff_headers)
    assert [event["action"] for event in history["items"]] == ["create", "issue-invoice"]


def test_an_invoice_carries_the_french_mentions_and_adds_up(client, staff_headers, admin_headers, world, actor):
    fill_profile(client, admin_headers)
    order = place(client, staff_headers, draft(
        world, line(world), line(world), line(world, world.reduced), line(world, world.other_tariff,
                                                                         world.other_performance),
        payment_type="invoice", discount_cents=700, promo_code="GROUPE",
        buyer={"first_name": "Marc", "last_name": "Durand", "address_line1": "12 rue de la République",
               "postcode": "69001", "city": "Lyon", "email": "marc@exemple.fr"}))
    text = text_of(document(client, staff_headers, f"/orders/{order['id']}/invoice"))
    for fact in ("Facture n° F-000001", "Date d'émission", "Société des Célestins SAS",
                 "SAS au capital de 10 000 €", "4 rue Charles Dullin", "69002 Lyon", "SIRET 732 829 320 00074",
                 "RCS Lyon B 732 829 320",
                 "N° TVA intracommunautaire FR44732829320", "Marc Durand", "12 rue de la République", "69001 Lyon",
                 "Cyrano — Plein tarif", "Tartuffe — Plein tarif", f"5,5{NBSP}%", "Remise (code GROUPE)",
                 "Total HT", "Total TVA", f"Total TTC {money(order['totals']['total_cents'])}",
                 "À régler au plus tard le", "pénalités de retard", f"40{NBSP}€",
                 "frais de recouvrement", "Pas d'escompte", "prestation de services"):
        assert fact in text, fact

    content = Invoice.get(actor.tenant_id, 1).content
    total = order["totals"]["total_cents"]
    assert sum(rate["incl"] for rate in content["rates"]) == total == content["totals"]["incl"]
    assert sum(line["incl"] for line in content["lines"]) == total
    assert content["totals"]["vat"] == order["totals"]["tax_cents"]
    for rate in content["rates"]:
        members = [line for line in content["lines"] if line["rate_bp"] == rate["rate_bp"]]
        assert sum(line["vat"] for line in members) == rate["vat"]
        assert sum(line["excl"] for line in members) == rate["excl"] == rate["incl"] - rate["vat"]
    assert [line["quantity"] for line in content["lines"] if line["kind"] == "tickets"] == [2, 1, 1]


def test_a_paid_invoice_says_so_and_a_franchise_seller_charges_no_vat(client, staff_headers, admin_headers, world):
    fill_profile(client, admin_headers, vat_regime="franchise", vat_number=None)
    order = place(client, staff_headers, draft(world))
    text = text_of(document(client, staff_headers, f"/orders/{order['id']}/invoice"))
    assert "Facture acquittée le" in text and "espèces" in text and "pénalités" not in text
    assert "TVA non applicable, art. 293 B du CGI" in text and "Total TVA" not in text
    assert f"Total à payer 32,00{NBSP}€" in text
    english = text_of(document(client, staff_headers, f"/orders/{order['id']}/invoice?lang=en"))
    assert "Invoice no. F-000001" in english and "VAT not applicable" in english


def test_an_issued_invoice_is_frozen_against_later_edits(client, staff_headers, admin_headers, world):
    fill_profile(client, admin_headers)
    order = place(client, staff_headers, draft(world, payment_type="cheque"))
    before = document(client, staff_headers, f"/orders/{order['id']}/invoice")
    status, _, _ = call(client, "PATCH", f"/orders/{order['id']}/buyer", staff_headers, {"last_name": "Autre"})
    assert status == 200
    fill_profile(client, admin_headers, legal_name="Nouveau Nom SAS")
    assert document(client, staff_headers, f"/orders/{order['id']}/invoice") == before
    call(client, "POST", f"/orders/{order['id']}/mark-paid", staff_headers)
    after_payment = text_of(document(client, staff_headers, f"/orders/{order['id']}/invoice"))
    assert "Facture acquittée" in after_payment and "Lefèvre" in after_payment and "Nouveau Nom" not in after_payment


@pytest.mark.parametrize("status,allowed", [
    ("refunded", {"receipt"}),
    ("cancelled", {"tickets/1", "receipt", "invoice"}),
    ("unpaid", {"tickets/1", "invoice"}),
])
def test_each_document_follows_the_order_status(client, staff_headers, admin_headers, world, actor, status,
                                                 allowed):
    fill_profile(client, admin_headers)
    order = place(client, staff_headers, draft(world))
    Order.get(actor.tenant_id, order["id"]).update(actions=[Order.status.set(status)])
    for name in ("tickets/1", "receipt", "invoice"):
        code, body, _ = call(client, "GET", f"/orders/{order['id']}/{name}", staff_headers)
        if name in allowed:
            assert code == 200, (name, body)
        else:
            assert code == 409 and body["type"] == "/problems/action-not-allowed", (name, body)


def test_a_cancelled_ticket_prints_without_its_check_in_code(client, staff_headers, world, actor):
    order = place(client, staff_headers, draft(world, line(world), line(world)))
    Ticket.get(tenant_key(actor.tenant_id, order["id"]), 1).update(actions=[Ticket.state.set("cancelled")])
    page = document(client, staff_headers, f"/orders/{order['id']}/tickets/1")
    assert "data-checkin" not in page and "Billet annulé" in text_of(page)
    assert "data-checkin" in document(client, staff_headers, f"/orders/{order['id']}/tickets/2")


def test_another_tenant_sees_none_of_these_documents(client, staff_headers, admin_headers, world, signer):
    from tests.conftest import new_tenant_id

    fill_profile(client, admin_headers)
    order = place(client, staff_headers, draft(world))
    other = {"Authorization": f"Bearer {signer.mint(new_tenant_id(), ['admin'], 'intruder')}"}
    call(client, "PUT", "/organisation", other, PROFILE)
    for name in ("tickets/1", "receipt", "invoice"):
        assert_problem(call(client, "GET", f"/orders/{order['id']}/{name}", other), 404)
    assert "F-000001" in document(client, staff_headers, f"/orders/{order['id']}/invoice")
