"""Metrics are reconcilable: after any sequence of sales, payments, cancellations, refunds,
credit and donations, the stored figures equal both a model kept by the test and the
recomputation from the ledger; and reconciliation finds what does not add up (a metric row
changed behind our back, a refund made in Stripe's dashboard)."""
from __future__ import annotations

from collections import defaultdict
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.adapters import clock, payments
from chalicelib.models.money import MetricRow
from chalicelib.services.ledger import ledger, metrics
from chalicelib.services.money import customer_money, refunds
from chalicelib.services.money.quotes import FeePolicy
from chalicelib.services.orders import cancellations, orders
from chalicelib.services.shared.actors import Actor
from tests.api.helpers import call
from tests.money_helpers import paid_card_order
from tests.orders_world import build_world, draft, line

OPERATIONS = st.one_of(
    st.tuples(st.just("sell"), st.integers(0, 2), st.integers(0, 1), st.integers(1, 3),
              st.sampled_from(["cash", "cheque", "invoice"])),
    st.tuples(st.just("pay"), st.integers(0, 50)),
    st.tuples(st.just("cancel"), st.integers(0, 50)),
    st.tuples(st.just("refund"), st.integers(0, 50), st.sampled_from([0, 500, 1000])),
    st.tuples(st.just("undo_refund"), st.integers(0, 50)),
    st.tuples(st.just("credit"), st.integers(0, 50)),
    st.tuples(st.just("donate"), st.integers(0, 50)),
)


class Expected:
    """What the figures must be, from what the test did (one performance's figures per key)."""

    def __init__(self) -> None:
        self.figures = defaultdict(lambda: defaultdict(int))
        self.tickets: list[dict] = []  # {order, position, performance, price, state, paid, settled}
        self.pending_refunds: list[tuple[str, str, list[dict]]] = []

    def add(self, ticket: dict, **deltas: int) -> None:
        for name, delta in deltas.items():
            self.figures[ticket["performance"]][name] += delta

    def pick(self, index: int, accept) -> dict | None:
        candidates = [ticket for ticket in self.tickets if accept(ticket)]
        return candidates[index % len(candidates)] if candidates else None


def _sell(actor, world, model, performance_index, tariff_index, count, means):
    performance = (world.evening, world.matinee, world.other_performance)[performance_index]
    tariff = world.other_tariff if performance is world.other_performance else (world.full_price, world.reduced)[
        tariff_index]
    order, tickets = orders.place_order(actor, draft(world, *[line(world, tariff, performance)] * count,
                                                     payment_type=means))
    if means == "cheque":
        orders.mark_paid(actor, order.id)
    for ticket in tickets:
        entry = {"order": order.id, "position": int(ticket.position), "performance": performance.id,
                 "price": int(ticket.price_cents), "state": "valid", "paid": means != "invoice", "settled": False}
        model.tickets.append(entry)
        if entry["paid"]:
            model.add(entry, tickets_sold=1, gross_sales_cents=entry["price"])


def _pay(actor, model, index):
    ticket = model.pick(index, lambda t: not t["paid"] and t["state"] == "valid")
    if ticket is None:
        return
    orders.mark_paid(actor, ticket["order"])
    for other in model.tickets:
        if other["order"] == ticket["order"]:
            other["paid"] = True
            if other["state"] == "valid":
                model.add(other, tickets_sold=1, gross_sales_cents=other["price"])
            else:
                other["never_paid"] = True


def _cancel(actor, model, index):
    ticket = model.pick(index, lambda t: t["state"] == "valid")
    if ticket is None:
        return
    cancellations.cancel_tickets(actor, ticket["order"], [ticket["position"]])
    ticket["state"] = "cancelled"
    if ticket["paid"]:
        model.add(ticket, tickets_cancelled=1)


def _settleable(ticket):
    return ticket["paid"] and not ticket["settled"] and not ticket.get("never_paid")


def _refund(actor, model, index, percent_bp):
    ticket = model.pick(index, _settleable)
    if ticket is None:
        return
    refund = refunds.request_refund(actor, ticket["order"], [ticket["position"]],
                                    policy=FeePolicy("percent", percent_bp=percent_bp))
    amount = ticket["price"] - (ticket["price"] * percent_bp + 5_000) // 10_000
    assert refund.amount_cents == amount
    model.add(ticket, tickets_refunded=1, refunds_cents=amount, tickets_cancelled=-1 if ticket["state"] != "valid" else 0)
    ticket.update(state="refunded", settled=True, refund=(refund.refund_id, amount))


def _undo_refund(actor, model, index):
    ticket = model.pick(index, lambda t: t["state"] == "refunded")
    if ticket is None:
        return
    refund_id, amount = ticket["refund"]
    refunds.cancel_offline(actor, ticket["order"], refund_id, reason="test")
    model.add(ticket, tickets_refunded=-1, refunds_cents=-amount, tickets_cancelled=1)
    ticket.update(state="cancelled", settled=False)


def _give_up(actor, model, index, kind):
    ticket = model.pick(index, _settleable)
    if ticket is None:
        return
    if kind == "credit":
        customer_money.credit_tickets(actor, ticket["order"], [ticket["position"]])
        model.add(ticket, credits_issued_cents=ticket["price"])
    else:
        customer_money.donate_tickets(actor, ticket["order"], [ticket["position"]])
        model.add(ticket, donations_cents=ticket["price"])
    if ticket["state"] == "valid":
        model.add(ticket, tickets_cancelled=1)
    ticket.update(state="cancelled", settled=True)


def today(tenant_id: str) -> date:
    return date.fromisoformat(ledger.business_day(tenant_id, clock.now()))


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(OPERATIONS, min_size=1, max_size=14))
def test_after_any_sequence_stored_metrics_equal_the_model_and_the_ledger(steps):
    from tests.conftest import new_tenant_id

    actor = Actor(new_tenant_id(), "staff-1", frozenset({"staff"}))
    world = build_world(actor)
    model = Expected()
    for step in steps:
        kind, *args = step
        if kind == "sell":
            _sell(actor, world, model, *args)
        elif kind == "pay":
            _pay(actor, model, *args)
        elif kind == "cancel":
            _cancel(actor, model, *args)
        elif kind == "refund":
            _refund(actor, model, *args)
        elif kind == "undo_refund":
            _undo_refund(actor, model, *args)
        else:
            _give_up(actor, model, args[0], kind)

    names = ("gross_sales_cents", "refunds_cents", "credits_issued_cents", "donations_cents", "tickets_sold",
             "tickets_cancelled", "tickets_refunded")
    total = defaultdict(int)
    for performance in (world.evening, world.matinee, world.other_performance):
        stored = metrics.figures(actor, "performance", performance.id)
        expected = {name: model.figures[performance.id][name] for name in names}
        assert {name: stored[name] for name in names} == expected, performance.id
        for name in names:
            total[name] += expected[name]
    tenant = metrics.figures(actor, "tenant", actor.tenant_id)
    assert {name: tenant[name] for name in names} == dict(total)
    assert tenant["net_sales_cents"] == total["gross_sales_cents"] - total["refunds_cents"]
    report = metrics.reconcile(actor, today(actor.tenant_id), today(actor.tenant_id))
    assert report.consistent, report.differences


@pytest.fixture
def world(actor):
    return build_world(actor)


def test_reconciliation_agrees_with_stripe_then_lists_what_was_changed_behind_its_back(
        client, admin_headers, world, actor):
    card = paid_card_order(actor, world, line(world), line(world))
    refunds.request_refund(actor, card.id, [1])
    day = today(actor.tenant_id).isoformat()
    status, report, _ = call(client, "POST", "/metrics/reconciliation", admin_headers, {"since": day, "until": day})
    assert status == 200, report
    assert report["consistent"], report["differences"]
    assert report["card_orders_checked"] == 1 and report["ledger_entries"] == 2

    payments._client().v1.refunds.create(params={"payment_intent": card.payment_intent_id, "amount": 500})
    row = next(iter(MetricRow.query(ledger.scope_key(actor.tenant_id, "performance", world.evening.id))))
    row.update(actions=[MetricRow.gross_sales_cents.add(100)])
    report = call(client, "POST", "/metrics/reconciliation", admin_headers, {"since": day, "until": day})[1]
    found = {(d["check"], d["figure"]): (d["expected"], d["found"]) for d in report["differences"]}
    assert not report["consistent"]
    assert found[("metrics", "gross_sales_cents")] == (6400, 6500)
    assert found[("stripe-refunds", "refunded_cents")] == (3200, 3700)
    assert found[("stripe-unknown-refund", "refund_cents")] == (0, 500)
    assert len(report["differences"]) == 3


def test_a_period_too_long_is_refused(client, admin_headers, staff_headers):
    status, problem, _ = call(client, "POST", "/metrics/reconciliation", admin_headers,
                              {"since": "2026-01-01", "until": "2026-12-31"})
    assert status == 422 and problem["errors"][0]["field"] == "until"
    assert call(client, "POST", "/metrics/reconciliation", staff_headers,
                {"since": "2026-11-01", "until": "2026-11-02"})[0] == 403
