"""Cancelling tickets: final, places and seats back on sale, check-in refused, the buyer told
with the ticket type's message; refused (409, nothing changed) when not allowed."""
from __future__ import annotations

import pytest

from chalicelib.models.catalog import Quota
from chalicelib.services.catalog import catalog
from chalicelib.services.documents import checkin
from chalicelib.services.mail import notifications
from chalicelib.services.orders import orders
from tests.api.helpers import assert_problem, call
from tests.orders_world import build_world, draft, line


@pytest.fixture
def world(actor):
    return build_world(actor)


def remaining(actor, quota):
    return Quota.get(actor.tenant_id, quota.id, consistent_read=True).remaining


def test_cancelling_one_ticket_frees_its_place_and_seat_stops_check_in_and_tells_the_buyer(
        client, staff_headers, world, actor):
    catalog.tariffs.update(actor, world.reduced.id, {"messages": {"cancellation": "Votre place est remise en vente."}})
    seat = world.seats[0]
    order, tickets = orders.place_order(actor, draft(world, line(world), line(world, world.reduced, seat_id=seat.id)))
    value = checkin.checkin_value(tickets[1])
    assert remaining(actor, world.evening_quota) == 98

    status, cancelled, _ = call(client, "POST", f"/orders/{order.id}/cancel", staff_headers, {"positions": [2]})
    assert status == 200, cancelled
    assert cancelled["status"] == "partially_complete" and cancelled["status_label"] == "1/2 complète"
    assert [t["state"] for t in cancelled["tickets"]] == ["valid", "cancelled"]
    assert cancelled["tickets"][1]["actions"] == ["refund"]
    assert remaining(actor, world.evening_quota) == 99
    with pytest.raises(checkin.CheckinRefused):
        checkin.check_in(actor, value)
    orders.place_order(actor, draft(world, line(world, seat_id=seat.id)))  # the seat is on sale again

    mails = notifications.of_entity(actor, "order", order.id, limit=10, cursor=None).items
    [notice] = [m for m in mails if m.template == "order_cancellation"]
    assert notice.custom_message == "Votre place est remise en vente."
    assert notice.render_context["cancelled_ticket_count"] == 1
    _, history, _ = call(client, "GET", f"/audit/order/{order.id}", staff_headers)
    assert history["items"][-1]["action"] == "cancel-tickets"
    assert history["items"][-1]["after"]["cancelled_positions"] == [2]


def test_cancelling_is_final_and_refused_when_not_allowed(client, staff_headers, world, actor):
    order, _ = orders.place_order(actor, draft(world, line(world), line(world)))
    call(client, "POST", f"/orders/{order.id}/cancel", staff_headers, {"positions": [1]})
    again = assert_problem(call(client, "POST", f"/orders/{order.id}/cancel", staff_headers, {"positions": [1, 2]}),
                           409, "positions")
    assert "already cancelled" in again["detail"]
    assert [t.state for t in orders.tickets_of(orders.get_order(actor, order.id))] == ["cancelled", "valid"]
    call(client, "POST", f"/orders/{order.id}/cancel", staff_headers, {"positions": [2]})
    assert orders.get_order(actor, order.id).status == "cancelled"
    refused = assert_problem(call(client, "POST", f"/orders/{order.id}/cancel", staff_headers, {"positions": [2]}),
                             409)
    assert refused["type"] == "/problems/action-not-allowed"
    assert remaining(actor, world.evening_quota) == 100


def test_an_unpaid_order_can_be_cancelled_whole(client, staff_headers, world, actor):
    order, _ = orders.place_order(actor, draft(world, payment_type="cheque"))
    status, cancelled, _ = call(client, "POST", f"/orders/{order.id}/cancel", staff_headers, {"positions": [1]})
    assert status == 200 and cancelled["status"] == "cancelled" and cancelled["actions"] == ["view_ticket",
                                                                                           "view_receipt",
                                                                                           "view_invoice"]


@pytest.mark.parametrize("payload,field", [({"positions": []}, "positions"), ({"positions": [0]}, "positions.0"),
                                           ({"positions": [3]}, "positions"), ({"positions": ["1"]}, "positions.0"),
                                           ({}, "positions")])
def test_bad_cancellations_change_nothing(client, staff_headers, world, actor, payload, field):
    order, _ = orders.place_order(actor, draft(world, line(world), line(world)))
    assert_problem(call(client, "POST", f"/orders/{order.id}/cancel", staff_headers, payload), 422, field)
    assert [t.state for t in orders.tickets_of(orders.get_order(actor, order.id))] == ["valid", "valid"]
