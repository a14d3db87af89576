"""Orders through the staff API: placing, status and actions, the list with every filter and
search, buyer edits, mark as paid; bad input refused with nothing written."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from urllib.parse import urlencode

import pytest

from chalicelib.models.catalog import Quota
from tests.api.helpers import assert_problem, call
from tests.orders_world import build_world, draft, line


@pytest.fixture
def world(actor):
    return build_world(actor)


def place(client, headers, payload):
    status, order, _ = call(client, "POST", "/orders", headers, payload)
    assert status == 201, order
    return order


def remaining(actor, quota):
    return Quota.get(actor.tenant_id, quota.id, consistent_read=True).remaining


def listing(client, headers, **query) -> list[dict]:
    rows, cursor = [], None
    while True:
        params = {**query, "limit": 3, **({"cursor": cursor} if cursor else {})}
        status, page, _ = call(client, "GET", f"/orders?{urlencode(params)}", headers)
        assert status == 200, page
        rows += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return rows


def test_a_cash_sale_is_complete_priced_from_the_catalog_and_takes_its_places(client, staff_headers, world, actor):
    order = place(client, staff_headers, draft(world, line(world), line(world, world.reduced),
                                               discount_cents=300, promo_code="noel"))
    assert order["status"] == "complete" and order["paid"] is True and order["number"] >= 1
    assert order["totals"] == {"tickets_cents": 5300, "discount_cents": 300, "fees_cents": 0, "tax_cents": 261,
                               "refunded_cents": 0, "total_cents": 5000, "currency": "EUR"}
    assert [t["tariff_name"] for t in order["tickets"]] == ["Plein tarif", "Tarif réduit"]
    assert order["tickets"][0]["actions"] == ["view_ticket", "cancel", "refund", "resend_confirmation"]
    assert set(order["actions"]) == {"resend_confirmation", "view_ticket", "view_receipt", "view_invoice",
                                     "refund", "cancel"}
    assert remaining(actor, world.evening_quota) == 98
    status, read, _ = call(client, "GET", f"/orders/{order['id']}", staff_headers)
    assert status == 200 and read["buyer"]["last_name"] == "Lefèvre" and read["promo_code"] == "noel"
    [payment] = read["payments"]
    assert (payment["amount_cents"], payment["means"], payment["recorded_by"]) == (5000, "cash", "staff-1")


def test_a_cheque_order_is_unpaid_until_marked_paid_and_only_once(client, staff_headers, world):
    order = place(client, staff_headers, draft(world, payment_type="cheque"))
    assert order["status"] == "unpaid" and order["status_label"] == "Non payée"
    assert "mark_paid" in order["actions"] and "refund" not in order["actions"]
    assert order["tickets"][0]["actions"] == ["view_ticket", "cancel"]
    assert order["payments"] == []
    status, paid, _ = call(client, "POST", f"/orders/{order['id']}/mark-paid", staff_headers)
    assert status == 200 and paid["status"] == "complete" and paid["paid_at"]
    assert [(p["amount_cents"], p["means"]) for p in paid["payments"]] == [(3200, "cheque")]
    again = assert_problem(call(client, "POST", f"/orders/{order['id']}/mark-paid", staff_headers), 409)
    assert again["type"] == "/problems/action-not-allowed"
    _, unchanged, _ = call(client, "GET", f"/orders/{order['id']}", staff_headers)
    assert unchanged["version"] == paid["version"]
    _, history, _ = call(client, "GET", f"/audit/order/{order['id']}", staff_headers)
    assert [event["action"] for event in history["items"]] == ["create", "mark-paid"]


def test_an_option_needs_a_deadline_and_is_held_unpaid(client, staff_headers, world):
    assert_problem(call(client, "POST", "/orders", staff_headers, draft(world, kind="option", payment_type="invoice")),
                   422, "deadline")
    deadline = (datetime.now(timezone.utc) + timedelta(days=5)).isoformat()
    option = place(client, staff_headers, draft(world, kind="option", payment_type="invoice", deadline=deadline))
    assert option["kind"] == "option" and option["status"] == "unpaid" and option["deadline"]


def test_every_filter_and_search_finds_exactly_its_orders(client, staff_headers, world):
    cash = place(client, staff_headers, draft(world, line(world), promo_code="NOEL",
                                              buyer={"first_name": "Élodie", "last_name": "Lefèvre"}))
    cheque = place(client, staff_headers, draft(world, line(world, world.reduced, world.matinee),
                                                payment_type="cheque", buyer={"first_name": "Marc",
                                                                              "last_name": "Lefebvre"}))
    other = place(client, staff_headers, draft(world, line(world, world.other_tariff, world.other_performance),
                                               payment_type="invoice", buyer={"first_name": "Léa",
                                                                              "last_name": "Martin"}))

    def ids(**query):
        return {row["id"] for row in listing(client, staff_headers, **query)}

    assert ids() == {cash["id"], cheque["id"], other["id"]}
    assert ids(status="unpaid") == {cheque["id"], other["id"]}
    assert ids(status="complete") == {cash["id"]}
    assert ids(payment_type="cheque") == {cheque["id"]}
    assert ids(promo_code="noel") == {cash["id"]}
    assert ids(tariff_id=world.reduced.id) == {cheque["id"]}
    assert ids(product_id=world.show.id) == {cash["id"], cheque["id"]}
    assert ids(performance_id=world.other_performance.id) == {other["id"]}
    assert ids(kind="sale") == {cash["id"], cheque["id"], other["id"]}
    assert ids(product_id=world.show.id, status="unpaid") == {cheque["id"]}
    assert ids(product_id=world.show.id, payment_type="cash", promo_code="NOEL") == {cash["id"]}
    now = datetime.now(timezone.utc)
    assert ids(**{"from": (now - timedelta(minutes=5)).isoformat()}) == {cash["id"], cheque["id"], other["id"]}
    assert ids(to=(now - timedelta(minutes=5)).isoformat()) == set()

    assert ids(q="elodie") == {cash["id"]}
    assert ids(q="LEFE") == {cash["id"], cheque["id"]}
    assert ids(q="lefevre e") == {cash["id"]}
    assert ids(q=str(other["number"])) == {other["id"]}
    rows = listing(client, staff_headers)
    assert [row["number"] for row in rows] == sorted((row["number"] for row in rows), reverse=True)


def test_editing_the_buyer_is_audited_and_the_list_follows(client, staff_headers, world):
    order = place(client, staff_headers, draft(world))
    status, edited, _ = call(client, "PATCH", f"/orders/{order['id']}/buyer", staff_headers,
                             {"last_name": "Dupont", "email": "e.dupont@exemple.fr", "city": "Villeurbanne"})
    assert status == 200 and edited["buyer"]["last_name"] == "Dupont" and edited["buyer"]["first_name"] == "Élodie"
    assert {row["id"] for row in listing(client, staff_headers, q="dupont")} == {order["id"]}
    assert listing(client, staff_headers, q="lefevre") == []
    _, history, _ = call(client, "GET", f"/audit/order/{order['id']}", staff_headers)
    last = history["items"][-1]
    assert last["action"] == "edit-buyer" and last["before"]["buyer"]["last_name"] == "Lefèvre"
    assert last["after"]["buyer"]["city"] == "Villeurbanne"


BAD_ORDERS = [
    (lambda w: draft(w, payment_type="bitcoin"), "payment_type"),
    (lambda w: draft(w, discount_cents=-1), "discount_cents"),
    (lambda w: draft(w, discount_cents="3"), "discount_cents"),
    (lambda w: {**draft(w), "lines": []}, "lines"),
    (lambda w: draft(w, *[line(w)] * 41), "lines"),
    (lambda w: draft(w, buyer={"first_name": "Sans nom"}), "buyer.last_name"),
    (lambda w: draft(w, buyer={"last_name": "X", "email": "pas-une-adresse"}), "buyer.email"),
    (lambda w: draft(w, line(w, extra="?")), "lines.0.extra"),
    (lambda w: draft(w, {**line(w), "tariff_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}), "lines.0.tariff_id"),
    (lambda w: draft(w, line(w, w.other_tariff)), "lines.0.tariff_id"),
    (lambda w: draft(w, line(w, quota=w.matinee_quota)), "lines.0.quota_id"),
    (lambda w: draft(w, line(w, seat_id=w.seats[0].id), line(w, seat_id=w.seats[0].id)), "lines"),
    (lambda w: draft(w, channel_id="01ARZ3NDEKTSV4RRFFQ69G5FAV"), "channel_id"),
    (lambda w: draft(w, kind="reservation"), "deadline"),
    (lambda w: draft(w, deadline="2026-12-01T10:00:00"), "deadline"),
]


@pytest.mark.parametrize("bad,field", BAD_ORDERS)
def test_bad_orders_are_refused_and_nothing_is_written(client, staff_headers, world, actor, bad, field):
    assert_problem(call(client, "POST", "/orders", staff_headers, bad(world)), 422, field)
    assert listing(client, staff_headers) == []
    assert remaining(actor, world.evening_quota) == 100


def test_sold_out_is_a_clear_409(client, staff_headers, actor):
    small = build_world(actor, capacity=1)
    place(client, staff_headers, draft(small))
    refused = assert_problem(call(client, "POST", "/orders", staff_headers, draft(small)), 409)
    assert refused["type"] == "/problems/sold-out"


def test_a_rare_combination_reads_one_page_per_request_and_still_finds_everything(client, staff_headers, world, actor):
    from chalicelib.services.orders import orders as order_service

    for n in range(12):
        order_service.place_order(actor, draft(world, buyer={"last_name": f"Client {n}"}))
    unpaid, _ = order_service.place_order(actor, draft(world, payment_type="cheque"))
    query = f"/orders?product_id={world.show.id}&status=unpaid&limit=5"
    status, first, _ = call(client, "GET", query, staff_headers)
    assert status == 200 and len(first["items"]) <= 5 and first["next_cursor"]
    found = listing(client, staff_headers, product_id=world.show.id, status="unpaid")
    assert [row["id"] for row in found] == [unpaid.id]


def test_a_buyer_matched_by_both_names_is_listed_once(client, staff_headers, world):
    order = place(client, staff_headers, draft(world, buyer={"first_name": "Marie", "last_name": "Martin"}))
    assert [row["id"] for row in listing(client, staff_headers, q="mar")] == [order["id"]]


@pytest.mark.parametrize("patch,field", [
    ({"email": "pas-une-adresse"}, "email"), ({"last_name": None}, "last_name"), ({"last_name": ""}, "last_name"),
    ({"nickname": "x"}, "nickname"), ({"country": "France"}, "country"), ({"postcode": "6" * 17}, "postcode"),
])
def test_bad_buyer_edits_are_refused_and_change_nothing(client, staff_headers, world, patch, field):
    order = place(client, staff_headers, draft(world))
    assert_problem(call(client, "PATCH", f"/orders/{order['id']}/buyer", staff_headers, patch), 422, field)
    _, unchanged, _ = call(client, "GET", f"/orders/{order['id']}", staff_headers)
    assert unchanged["buyer"] == order["buyer"] and unchanged["version"] == order["version"]
