"""The public shop cannot hold places forever: open checkouts are bounded per buyer and per
client address on each performance, a checkout whose payment cannot start gives its places back
at once, an order that costs nothing completes without Stripe, and anonymous input never names a
customer record."""
from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from chalicelib.adapters import clock
from chalicelib.services.catalog import catalog
from chalicelib.services.money import card_payments
from chalicelib.services.orders import checkout, holds, orders
from tests.api.helpers import assert_problem, call
from tests.money_helpers import card_confirmed, stripe_failing
from tests.orders_world import build_world, line

JSON = {"Content-Type": "application/json"}


@pytest.fixture
def world(actor):
    return build_world(actor, capacity=50)


@pytest.fixture
def tight_bounds(monkeypatch):
    bounded = dataclasses.replace(holds.settings, shop_holds_per_buyer=2, shop_holds_per_client=3)
    monkeypatch.setattr(holds, "settings", bounded)


def _cart(world, email="lea@exemple.fr", *lines):
    return {"buyer": {"last_name": "Martin", "email": email}, "lines": list(lines) or [line(world)]}


def _remaining(actor, world) -> int:
    return int(catalog.quotas.get(actor, world.evening_quota.id).remaining)


def test_a_buyer_holds_at_most_the_bound_per_performance_and_another_performance_is_apart(
        actor, world, tight_bounds):
    for _ in range(2):
        checkout.shop_checkout(actor.tenant_id, _cart(world), client_address="203.0.113.7")
    with pytest.raises(holds.TooManyHolds):
        checkout.shop_checkout(actor.tenant_id, _cart(world), client_address="203.0.113.8")
    assert _remaining(actor, world) == 48  # the refused checkout held nothing
    other = checkout.shop_checkout(actor.tenant_id, _cart(world, "lea@exemple.fr", line(world, None, world.matinee)),
                                   client_address="203.0.113.7")
    assert other.intent is not None


def test_one_connection_holds_at_most_its_bound_whatever_the_addresses_typed(actor, world, tight_bounds):
    for index in range(3):
        checkout.shop_checkout(actor.tenant_id, _cart(world, f"script{index}@exemple.fr"),
                               client_address="198.51.100.20")
    with pytest.raises(holds.TooManyHolds):
        checkout.shop_checkout(actor.tenant_id, _cart(world, "script9@exemple.fr"), client_address="198.51.100.20")
    checkout.shop_checkout(actor.tenant_id, _cart(world, "script9@exemple.fr"), client_address="198.51.100.21")


def test_concurrent_checkouts_cannot_pass_the_bound_together(actor, world, tight_bounds):
    def attempt(index):
        try:
            checkout.shop_checkout(actor.tenant_id, _cart(world, "rush@exemple.fr"),
                                   client_address=f"192.0.2.{index}")
            return "held"
        except holds.TooManyHolds:
            return "refused"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, range(8)))
    assert outcomes.count("held") == 2 and _remaining(actor, world) == 48


def test_a_paid_or_expired_checkout_frees_its_slot(actor, world, tight_bounds):
    first = checkout.shop_checkout(actor.tenant_id, _cart(world), client_address="203.0.113.7")
    checkout.shop_checkout(actor.tenant_id, _cart(world), client_address="203.0.113.7")
    assert card_payments.payment_succeeded(card_confirmed(first.intent.id)) == "paid"
    checkout.shop_checkout(actor.tenant_id, _cart(world), client_address="203.0.113.7")  # the paid one's slot
    with pytest.raises(holds.TooManyHolds):
        checkout.shop_checkout(actor.tenant_id, _cart(world), client_address="203.0.113.7")
    clock.set_clock(clock.frozen_at(clock.now() + checkout.hold_time() + timedelta(seconds=1)))
    try:  # the unpaid holds have expired: their slots are free again
        checkout.shop_checkout(actor.tenant_id, _cart(world), client_address="203.0.113.7")
    finally:
        clock.set_clock(None)


def test_a_checkout_whose_payment_cannot_start_gives_its_places_back_and_hides_stripes_words(
        client, actor, world, monkeypatch):
    with stripe_failing(monkeypatch, "network"):
        status, problem, _ = call(client, "POST", f"/shop/{actor.tenant_id}/checkout", JSON, _cart(world))
    assert status == 503 and problem["type"] == "/problems/payment-unavailable"
    assert "Connection" not in problem["detail"] and "Stripe" not in problem["detail"]
    assert _remaining(actor, world) == 50
    [order] = [row for row in orders_of(actor)]
    assert order.status == "cancelled"
    checkout.shop_checkout(actor.tenant_id, _cart(world), client_address=None)  # the slot was given back too


def orders_of(actor):
    from chalicelib.services.orders.listing import OrderFilters, find_orders

    rows = find_orders(actor, OrderFilters(), limit=50, cursor=None).items
    return [orders.get_order(actor, row.order_id) for row in rows]


def test_an_order_that_costs_nothing_completes_without_stripe(client, actor, world):
    free = catalog.tariffs.create(actor, {"product_id": world.show.id, "name": "Invitation", "price_cents": 0})
    status, made, _ = call(client, "POST", f"/shop/{actor.tenant_id}/checkout", JSON,
                           _cart(world, "invitee@exemple.fr", line(world, free)))
    assert status == 201, made
    assert (made["status"], made["payment_intent_id"], made["client_secret"]) == ("complete", None, None)
    order = orders.get_order(actor, made["order_id"])
    assert order.paid and [p.means for p in orders.payments_of(order)] == ["free"]


def test_anonymous_input_never_names_a_customer_record(client, actor, world):
    cart = _cart(world)
    cart["buyer"]["contact_id"] = "01J0000000000000000000000A"
    assert_problem(call(client, "POST", f"/shop/{actor.tenant_id}/checkout", JSON, cart), 422, "buyer.contact_id")


def test_too_many_holds_is_a_clear_429(client, actor, world, tight_bounds):
    for _ in range(2):
        assert call(client, "POST", f"/shop/{actor.tenant_id}/checkout", JSON, _cart(world))[0] == 201
    problem = assert_problem(call(client, "POST", f"/shop/{actor.tenant_id}/checkout", JSON, _cart(world)), 429)
    assert problem["type"] == "/problems/too-many-holds"
