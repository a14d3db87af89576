"""A refund whose outcome Stripe did not state is never made twice: a 5xx after the money moved
keeps the claim and the next attempt looks at Stripe first; a late charge.refunded of an earlier
attempt is applied, not ignored.

localstripe always answers and ignores idempotency keys, so the 5xx comes from a focused fake
(`StripeSucceedingThen500`) that really makes the refund at localstripe and answers 500, as
Stripe's API may after carrying a request out."""
from __future__ import annotations

import pytest

from chalicelib.adapters import payments
from chalicelib.services.jobs import framework as jobs
from chalicelib.services.ledger import metrics
from chalicelib.services.money import refunds
from chalicelib.services.orders import orders
from tests.api.helpers import call
from tests.job_helpers import drive
from tests.money_helpers import (
    deliver,
    paid_card_order,
    refunds_at_stripe,
    stripe_answering_500_after_success,
    stripe_failing,
)
from tests.orders_world import build_world


@pytest.fixture
def world(actor):
    return build_world(actor)


def _refunded_figures(actor, world) -> int:
    return metrics.figures(actor, "performance", world.evening.id)["refunds_cents"]


def test_a_5xx_after_stripe_refunded_keeps_the_claim_and_the_follow_up_adopts_the_refund(
        actor, world, pump, monkeypatch):
    order = paid_card_order(actor, world)
    monkeypatch.setattr(refunds, "FOLLOW_UP_DELAY_SECONDS", 0)
    with stripe_answering_500_after_success(monkeypatch) as fake:
        refund = refunds.request_refund(actor, order.id, [1])
    assert fake.made == 1 and fake.calls >= 1
    assert refund.state == "requested" and "unknown error" in refund.last_error  # not failed, not undone
    assert orders.get_order(actor, order.id).refunded_cents == 3200
    [job] = [j for j in jobs.list_jobs(actor, limit=10, cursor=None).items if j.kind == refunds.FOLLOW_UP]
    assert drive(pump, actor.tenant_id, job.id).status == "succeeded"

    [at_stripe] = refunds_at_stripe(order.payment_intent_id)  # one refund, not two
    finished = refunds.get_refund(actor, order.id, refund.refund_id)
    assert (finished.state, finished.stripe_refund_id, int(finished.attempt)) == ("succeeded", at_stripe.id, 1)
    assert _refunded_figures(actor, world) == 3200


def test_staff_retrying_a_refund_left_unknown_looks_at_stripe_before_any_new_attempt(
        client, staff_headers, actor, world, monkeypatch):
    order = paid_card_order(actor, world)
    monkeypatch.setattr(refunds, "_follow_up_later", lambda actor, refund, error: refund)  # no follow-up job here
    with stripe_answering_500_after_success(monkeypatch):
        refund = refunds.request_refund(actor, order.id, [1])
    assert refund.state == "requested"
    status, retried, _ = call(client, "POST", f"/orders/{order.id}/refunds/{refund.refund_id}/retry", staff_headers)
    assert status == 200 and retried["state"] == "succeeded" and retried["attempt"] == 1
    assert len(refunds_at_stripe(order.payment_intent_id)) == 1


def _made_at_stripe_after_all(actor, order, refund, attempt: int) -> payments.StripeRefund:
    """Stripe carrying out an attempt we were told had not happened (its late webhook follows)."""
    made = payments._client().v1.refunds.create(params={
        "payment_intent": order.payment_intent_id, "amount": 3200, "metadata": {
            "tenant_id": actor.tenant_id, "order_id": order.id, "refund_id": refund.refund_id,
            "refund_key": f"refund:{actor.tenant_id}:{order.id}:{refund.refund_id}:{attempt}"}})
    return payments.refund_of(made.to_dict())


def test_a_late_charge_refunded_of_an_earlier_attempt_revives_an_undone_refund(client, actor, world, monkeypatch):
    order = paid_card_order(actor, world)
    with stripe_failing(monkeypatch, "card_declined"):
        refund = refunds.request_refund(actor, order.id, [1])
    assert refund.state == "failed" and orders.get_order(actor, order.id).refunded_cents == 0
    _made_at_stripe_after_all(actor, order, refund, attempt=1)

    charge = {"id": "ch_late", "object": "charge", "payment_intent": order.payment_intent_id}
    assert deliver(client, "charge.refunded", charge).status_code == 204
    revived = refunds.get_refund(actor, order.id, refund.refund_id)
    assert revived.state == "succeeded"
    stored = orders.get_order(actor, order.id)
    assert stored.refunded_cents == 3200 and stored.status == "refunded"
    assert [(t.state, t.settlement_id) for t in orders.tickets_of(stored)] == [("refunded", refund.refund_id)]
    assert _refunded_figures(actor, world) == 3200
    assert deliver(client, "charge.refunded", charge).status_code == 204  # again: nothing more
    assert orders.get_order(actor, order.id).refunded_cents == 3200 and _refunded_figures(actor, world) == 3200


def test_money_sent_back_twice_at_stripe_is_noted_on_the_refund(client, actor, world, monkeypatch):
    order = paid_card_order(actor, world)
    with stripe_failing(monkeypatch, "card_declined"):
        refund = refunds.request_refund(actor, order.id, [1])
    retried = refunds.retry(actor, order.id, refund.refund_id)
    assert retried.state == "succeeded" and int(retried.attempt) == 2
    late = _made_at_stripe_after_all(actor, order, refund, attempt=1)

    assert deliver(client, "refund.updated", {**late.__dict__, "object": "refund"}).status_code == 204
    stored = refunds.get_refund(actor, order.id, refund.refund_id)
    assert stored.state == "succeeded" and any("twice" in (step.note or "") for step in stored.steps)
    assert orders.get_order(actor, order.id).refunded_cents == 3200  # our books still say once
