"""A transaction that meets another one in flight on the same item.

Real DynamoDB cancels such a transaction with the reason ``TransactionConflict`` and writes
nothing; on an on-sale evening every sale of a quota updates the same quota item, so this is
what busy performances look like. DynamoDB Local runs transactions one at a time and never
answers it, so these tests put DynamoDB's answer (its recorded ``TransactionCanceledException``
body, one reason per item) on the conflicting item at the client, then let the real call
through. What they assert is what a buyer sees: an order placed once, or "try again", never
"sold out" while places remain.
"""
from __future__ import annotations

from contextlib import contextmanager

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from chalicelib.errors import ServiceUnavailable
from chalicelib.models.base import tenant_key
from chalicelib.models.catalog import Quota
from chalicelib.models.orders import OrderListing
from chalicelib.models.transactions import RACE_ATTEMPTS
from chalicelib.services.orders import orders
from tests.api.helpers import assert_problem, call
from tests.orders_world import build_world, draft, line


def _cancelled(items: list[dict], *, conflicting_table: str, code: str) -> ClientError:
    """DynamoDB's answer to a cancelled TransactWriteItems, as it sends it: one reason per
    item, in the order sent, ``None`` for the items not at fault."""
    reasons = [{"Code": code, "Message": "Transaction is ongoing for the item"}
               if next(iter(item.values()))["TableName"].endswith(conflicting_table) else {"Code": "None"}
               for item in items]
    codes = ", ".join(reason["Code"] for reason in reasons)
    return ClientError({"Error": {"Code": "TransactionCanceledException",
                                  "Message": f"Transaction cancelled, please refer cancellation reasons for "
                                             f"specific reasons [{codes}]"},
                        "CancellationReasons": reasons}, "TransactWriteItems")


@contextmanager
def racing_on(monkeypatch, table: str, *, times: int, code: str = "TransactionConflict"):
    """The next ``times`` transactions touching ``table`` are cancelled as DynamoDB cancels a
    transaction meeting another one on that table's item; yields the attempts seen."""
    real = BaseClient._make_api_call
    attempts: list[int] = []

    def answer(client, operation_name, params):
        if operation_name == "TransactWriteItems":
            items = params["TransactItems"]
            touching = any(next(iter(item.values()))["TableName"].endswith(table) for item in items)
            if touching:
                attempts.append(len(items))
                if len(attempts) <= times:
                    raise _cancelled(items, conflicting_table=table, code=code)
        return real(client, operation_name, params)

    monkeypatch.setattr(BaseClient, "_make_api_call", answer)
    yield attempts
    monkeypatch.setattr(BaseClient, "_make_api_call", real)


def _sold(actor, world) -> tuple[int, int]:
    quota = Quota.get(actor.tenant_id, world.evening_quota.id, consistent_read=True)
    placed = list(OrderListing.query(tenant_key(actor.tenant_id, "performance", world.evening.id)))
    return quota.remaining, len(placed)


def test_an_order_meeting_other_sales_on_its_quota_is_placed_once(actor, monkeypatch):
    world = build_world(actor, capacity=10)
    with racing_on(monkeypatch, "quotas", times=RACE_ATTEMPTS - 1) as attempts:
        order, tickets = orders.place_order(actor, draft(world, line(world), line(world)))
    assert len(attempts) == RACE_ATTEMPTS  # lost the race three times, then written
    assert _sold(actor, world) == (8, 1) and len(tickets) == 2
    assert orders.get_order(actor, order.id).total_cents == order.total_cents


def test_an_order_that_keeps_losing_the_race_says_try_again_not_sold_out(actor, client, staff_headers,
                                                                          monkeypatch):
    world = build_world(actor, capacity=10)
    with racing_on(monkeypatch, "quotas", times=10 * RACE_ATTEMPTS) as attempts:
        with pytest.raises(ServiceUnavailable):
            orders.place_order(actor, draft(world, line(world)))
        assert len(attempts) == RACE_ATTEMPTS
        problem = assert_problem(call(client, "POST", "/orders", staff_headers, draft(world, line(world))), 503)
    assert "try again" in problem["detail"]
    assert _sold(actor, world) == (10, 0)  # nothing kept, nothing charged


def test_dynamodb_throttling_a_sale_is_not_sold_out_either(actor, monkeypatch):
    world = build_world(actor, capacity=10)
    with racing_on(monkeypatch, "quotas", times=1, code="ThrottlingError") as attempts:
        with pytest.raises(ServiceUnavailable):
            orders.place_order(actor, draft(world, line(world)))
    assert len(attempts) == 1  # not a race: not sent again here (the buyer is told to retry)
    assert _sold(actor, world) == (10, 0)
    orders.place_order(actor, draft(world, line(world)))
    assert _sold(actor, world) == (9, 1)


def test_the_last_places_are_still_sold_out_when_a_race_was_lost_on_the_way(actor, monkeypatch):
    world = build_world(actor, capacity=1)
    orders.place_order(actor, draft(world, line(world)))
    with racing_on(monkeypatch, "quotas", times=1) as attempts:
        with pytest.raises(orders.SoldOut):
            orders.place_order(actor, draft(world, line(world)))
    assert len(attempts) == 2  # the race retried, then the quota's condition refused
    assert _sold(actor, world) == (0, 1)
