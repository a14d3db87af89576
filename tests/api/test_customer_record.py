"""The customer record through the API: its sections read together, the bookings sorted by each
column either way and paged, credit and donations from a settlement, the change history."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.services.catalog import catalog
from chalicelib.services.contacts import contacts
from chalicelib.services.money import customer_money
from chalicelib.services.orders import orders
from tests.api.helpers import assert_problem, call
from tests.orders_world import build_world, draft, line


@pytest.fixture
def world(actor):
    return build_world(actor, capacity=50)


@pytest.fixture
def customer(actor):
    return contacts.create_contact(actor, {"first_name": "Claire", "last_name": "Petit",
                                           "emails": [{"address": "claire@exemple.fr"}]})


def _buy(actor, world, customer, *lines, **fields):
    buyer = {"contact_id": customer.id, "first_name": "Claire", "last_name": "Petit", "email": "claire@exemple.fr"}
    order, _ = orders.place_order(actor, draft(world, *lines, buyer=buyer, **fields))
    return order


def test_the_record_shows_every_section(client, staff_headers, actor, world, customer):
    paid = _buy(actor, world, customer, line(world), line(world, world.reduced), payment_type="cheque")
    orders.mark_paid(actor, paid.id)
    unpaid = _buy(actor, world, customer, line(world, world.other_tariff, world.other_performance),
                  payment_type="invoice")
    customer_money.credit_tickets(actor, paid.id, [1])
    customer_money.donate_tickets(actor, paid.id, [2])
    contacts.update_contact(actor, customer.id, {"language": "en"})
    status, record, _ = call(client, "GET", f"/contacts/{customer.id}/record", staff_headers)
    assert status == 200, record
    assert record["contact"]["last_name"] == "Petit" and record["contact"]["language"] == "en"
    assert record["other_information"] == {"system_fields": {}, "criteria": {}}
    rows = {row["order_id"]: row for row in record["bookings"]["items"]}
    assert set(rows) == {paid.id, unpaid.id}
    assert rows[unpaid.id]["balance_due_cents"] == 2800 and rows[unpaid.id]["show"] == "Tartuffe"
    assert rows[paid.id]["balance_due_cents"] == 0 and rows[paid.id]["show"] == "Cyrano"
    assert rows[paid.id]["performance_date"].startswith("2026-12-12")
    assert record["credit"]["account"]["balance_cents"] == 3200
    assert [entry["kind"] for entry in record["credit"]["entries"]] == ["issued"]
    assert [d["amount_cents"] for d in record["donations"]["items"]] == [2100]
    assert [change["action"] for change in record["changes"]["items"]] == ["create", "update"]
    assert call(client, "GET", "/contacts/01ARZ3NDEKTSV4RRFFQ69G5FAV/record", staff_headers)[0] == 404


def test_bookings_sort_by_each_column_either_way_and_page(client, staff_headers, actor, world, customer):
    late = catalog.create_performance(actor, {"product_id": world.show.id, "venue_id": world.venue.id,
                                              "starts_at": datetime(2027, 3, 1, 19, 0, tzinfo=timezone.utc)})
    late_quota = catalog.quotas.create(actor, {"performance_id": late.id, "name": "Tout public", "capacity": 20})
    made = [_buy(actor, world, customer, *[line(world)] * count, payment_type=kind)
            for count, kind in ((3, "cash"), (1, "invoice"), (2, "cheque"))]
    made.append(_buy(actor, world, customer, line(world, world.other_tariff, world.other_performance),
                     payment_type="invoice"))
    made.append(_buy(actor, world, customer, line(world, performance=late, quota=late_quota), payment_type="cash"))
    orders.mark_paid(actor, made[2].id)
    rows = _all(client, staff_headers, customer.id, "date", "desc")
    assert [row["order_id"] for row in rows] == [order.id for order in reversed(made)]
    for sort, value in (("number", lambda r: r["number"]), ("total", lambda r: r["total_cents"]),
                        ("balance_due", lambda r: r["balance_due_cents"]), ("status", lambda r: r["status"]),
                        ("show", lambda r: r["show"].casefold()), ("performance_date", lambda r: r["performance_date"])):
        for direction in ("asc", "desc"):
            rows = _all(client, staff_headers, customer.id, sort, direction, limit=2)
            assert len(rows) == 5 and len({row["order_id"] for row in rows}) == 5, (sort, direction)
            values = [value(row) for row in rows]
            assert values == sorted(values, reverse=direction == "desc"), (sort, direction, values)
    assert_problem(call(client, "GET", f"/contacts/{customer.id}/orders?sort=price", staff_headers), 422, "sort")
    assert call(client, "GET", "/contacts/01ARZ3NDEKTSV4RRFFQ69G5FAV/orders", staff_headers)[0] == 404


def _all(client, headers, contact_id, sort, direction, *, limit=50):
    rows, cursor = [], None
    while True:
        path = f"/contacts/{contact_id}/orders?sort={sort}&direction={direction}&limit={limit}"
        status, page, _ = call(client, "GET", path + (f"&cursor={cursor}" if cursor else ""), headers)
        assert status == 200, page
        rows += page["items"]
        if not page["next_cursor"]:
            return rows
        cursor = page["next_cursor"]


def test_older_orders_are_listed_under_their_buyer_once_by_the_job(client, admin_headers, actor, world, customer, pump):
    from chalicelib.models.base import tenant_key
    from chalicelib.models.orders import OrderListing
    from tests.job_helpers import drive

    order = _buy(actor, world, customer, line(world), payment_type="cash")
    OrderListing(facet_key=tenant_key(actor.tenant_id, "contact", customer.id),
                 sort_key=next(OrderListing.query(tenant_key(actor.tenant_id, "contact", customer.id))).sort_key).delete()
    assert _all(client, admin_headers, customer.id, "date", "desc") == []  # as an order placed before the history
    status, job, _ = call(client, "POST", "/orders/list-by-contact", admin_headers, {})
    assert status == 202
    assert drive(pump, actor.tenant_id, job["id"]).done == 1
    assert [row["order_id"] for row in _all(client, admin_headers, customer.id, "date", "desc")] == [order.id]
    again = call(client, "POST", "/orders/list-by-contact", admin_headers, {})[1]
    assert (drive(pump, actor.tenant_id, again["id"]).done, drive(pump, actor.tenant_id, again["id"]).skipped) == (0, 1)
