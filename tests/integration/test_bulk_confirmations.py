"""Resending confirmations in bulk, as a job through the real jobs queue: every complete order
of the selection (or of the filters) gets one mail, others are skipped, a re-run chunk mails
nobody twice, and there is no 100-order limit."""
from __future__ import annotations

from chalicelib.services.mail import notifications
from chalicelib.services.orders import orders
from tests.api.helpers import assert_problem, call
from tests.job_helpers import drive
from tests.orders_world import build_world, draft, line


def resent(actor, order_id) -> list:
    """The confirmations mailed after the first one (the one the sale itself sent)."""
    mails = notifications.of_entity(actor, "order", order_id, limit=50, cursor=None).items
    confirmations = sorted((m for m in mails if m.template == "order_confirmation"), key=lambda m: m.id)
    return confirmations[1:]


def test_resend_to_every_matching_order_beyond_a_hundred(client, staff_headers, actor, pump):
    world = build_world(actor, capacity=500)
    placed = [orders.place_order(actor, draft(world, buyer={"last_name": f"Spectateur {n}",
                                                            "email": f"s{n}@exemple.fr"}))[0]
              for n in range(120)]
    unpaid, _ = orders.place_order(actor, draft(world, payment_type="cheque"))
    other, _ = orders.place_order(actor, draft(world, line(world, world.other_tariff, world.other_performance)))

    status, job, _ = call(client, "POST", "/orders/resend-confirmations", staff_headers,
                          {"filters": {"product_id": world.show.id}})
    assert status == 202, job
    finished = drive(pump, actor.tenant_id, job["id"])
    assert finished.status == "succeeded"
    assert (finished.done, finished.skipped, finished.failed) == (120, 1, 0)
    assert all(len(resent(actor, order.id)) == 1 for order in placed)
    assert resent(actor, unpaid.id) == [] and resent(actor, other.id) == []


def test_resend_to_selected_orders_and_progress_is_visible(client, staff_headers, actor, pump):
    world = build_world(actor)
    chosen = [orders.place_order(actor, draft(world))[0] for _ in range(3)]
    _, job, _ = call(client, "POST", "/orders/resend-confirmations", staff_headers,
                     {"order_ids": [order.id for order in chosen]})
    drive(pump, actor.tenant_id, job["id"])
    status, progress, _ = call(client, "GET", f"/jobs/{job['id']}", staff_headers)
    assert status == 200 and progress["status"] == "succeeded" and progress["done"] == 3
    assert all(len(resent(actor, order.id)) == 1 for order in chosen)


def test_a_bulk_request_must_say_what_it_selects(client, staff_headers, actor):
    assert_problem(call(client, "POST", "/orders/resend-confirmations", staff_headers, {}), 422)
    assert_problem(call(client, "POST", "/orders/resend-confirmations", staff_headers,
                        {"order_ids": [], "filters": {}}), 422)
    assert_problem(call(client, "POST", "/orders/resend-confirmations", staff_headers,
                        {"filters": {"product_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}}), 422, "product_id")
