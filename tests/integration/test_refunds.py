"""Refunding tickets: the summary first, then exactly one refund per ticket, by card at
localstripe or offline to an IBAN; states driven by Stripe's answers and webhooks; failures
undone and retried; over-refunds refused. Money is counted at Stripe's side (localstripe's
refund list), not only in our records."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.errors import Conflict
from chalicelib.models.base import tenant_key
from chalicelib.models.catalog import Quota
from chalicelib.models.money import Refund
from chalicelib.services.catalog import organisation
from chalicelib.services.jobs import framework as jobs
from chalicelib.services.ledger import ledger, metrics
from chalicelib.services.mail import notifications
from chalicelib.services.money import refunds
from chalicelib.services.orders import orders
from tests.api.helpers import assert_problem, call
from tests.money_helpers import deliver, paid_card_order, paid_cheque_order, refunds_at_stripe, stripe_failing
from tests.orders_world import build_world, line

IBAN = "FR76 3000 6000 0112 3456 7890 189"


@pytest.fixture
def world(actor):
    return build_world(actor)


def with_fee_policy(actor, **policy):
    organisation.save_profile(actor, {"legal_name": "Les Célestins", "address_line1": "4 rue Charles Dullin",
                                      "postcode": "69002", "city": "Lyon", "siret": "73282932000074",
                                      "vat_number": "FR44732829320", **policy})


def figures(actor, world):
    return metrics.figures(actor, "performance", world.evening.id)


def pick(figures_, names=("refunds_cents", "tickets_cancelled", "tickets_refunded")):
    return {name: figures_[name] for name in names}


def stored_refunds(actor, order_id):
    return list(Refund.query(tenant_key(actor.tenant_id, order_id), consistent_read=True))


def test_the_summary_shows_each_ticket_the_fee_kept_and_the_means_and_writes_nothing(
        client, staff_headers, world, actor):
    with_fee_policy(actor, refund_fee_kind="percent", refund_fee_percent_bp=1000)
    order = paid_cheque_order(actor, world, line(world), line(world, world.reduced), discount_cents=530)
    status, summary, _ = call(client, "POST", f"/orders/{order.id}/refunds/quote", staff_headers, {"positions": [1, 2]})
    assert status == 200, summary
    # 5.30 discount shared by price (32 and 21): 3.20 + 2.10 = 5.30; 10 % kept of what each paid.
    assert [(line_["paid_cents"], line_["fee_kept_cents"], line_["amount_cents"]) for line_ in summary["lines"]] == [
        (2880, 288, 2592), (1890, 189, 1701)]
    assert summary["total_cents"] == 4293 and summary["received_cents"] == 4770
    assert summary["means"] == "offline" and summary["processor_fee_note"] is None
    assert orders.get_order(actor, order.id).refunded_cents == 0 and not stored_refunds(actor, order.id)


def test_an_offline_refund_is_recorded_with_the_iban_the_buyer_told_and_paid_later(
        client, staff_headers, world, actor):
    order = paid_cheque_order(actor, world, line(world), line(world))
    before = figures(actor, world)
    status, refund, _ = call(client, "POST", f"/orders/{order.id}/refunds", staff_headers,
                             {"positions": [2], "bank_account": {"iban": IBAN, "holder": "Élodie Lefèvre"}})
    assert status == 201, refund
    assert refund["state"] == "pending" and refund["means"] == "offline" and refund["amount_cents"] == 3200
    assert refund["iban_masked"] == "FR76 **** **** **** **** ***0 189" and "iban" not in refund
    detail = call(client, "GET", f"/orders/{order.id}/refunds/{refund['refund_id']}", staff_headers)[1]
    assert detail["iban"] == "FR7630006000011234567890189"

    refreshed = orders.get_order(actor, order.id)
    assert refreshed.status == "partially_complete" and refreshed.refunded_cents == 3200
    assert [t.state for t in orders.tickets_of(refreshed)] == ["valid", "refunded"]
    assert Quota.get(actor.tenant_id, world.evening_quota.id, consistent_read=True).remaining == 99
    after = figures(actor, world)
    assert after["refunds_cents"] - before["refunds_cents"] == 3200
    assert after["net_sales_cents"] == 3200 and after["tickets_refunded"] == 1
    [mail] = [m for m in notifications.of_entity(actor, "order", order.id, limit=20, cursor=None).items
              if m.template == "refund_initiated"]
    assert mail.render_context["payment_method"] == "cheque" and mail.render_context["refund_amount"] == "32,00\u00a0€"

    pending = call(client, "GET", "/refunds?state=pending", staff_headers)[1]
    assert [r["refund_id"] for r in pending["items"]] == [refund["refund_id"]]
    status, paid, _ = call(client, "POST", f"/orders/{order.id}/refunds/{refund['refund_id']}/paid", staff_headers,
                           {"reference": "VIR-2026-118"})
    assert status == 200 and paid["state"] == "succeeded" and paid["paid_reference"] == "VIR-2026-118"
    assert not call(client, "GET", "/refunds?state=pending", staff_headers)[1]["items"]


def test_a_wrong_iban_is_refused_with_a_clear_message_and_nothing_is_written(client, staff_headers, world, actor):
    order = paid_cheque_order(actor, world)
    problem = assert_problem(call(client, "POST", f"/orders/{order.id}/refunds", staff_headers, {
        "positions": [1], "bank_account": {"iban": "FR76 3000 6000 0112 3456 7890 188"}}), 422, "bank_account.iban")
    assert "mistyped" in problem["detail"]
    assert orders.get_order(actor, order.id).version == order.version and not stored_refunds(actor, order.id)


def test_an_offline_refund_cancelled_by_staff_is_undone_and_the_ticket_stays_refundable(
        client, staff_headers, world, actor):
    order = paid_cheque_order(actor, world)
    refund = refunds.request_refund(actor, order.id, [1])
    status, cancelled, _ = call(client, "POST", f"/orders/{order.id}/refunds/{refund.refund_id}/cancel",
                                staff_headers, {"reason": "Le client a changé d'avis"})
    assert status == 200 and cancelled["state"] == "canceled"
    refreshed = orders.get_order(actor, order.id)
    assert refreshed.refunded_cents == 0 and refreshed.status == "cancelled"
    assert pick(figures(actor, world)) == {"refunds_cents": 0, "tickets_cancelled": 1, "tickets_refunded": 0}
    assert refunds.request_refund(actor, order.id, [1]).state == "pending"


def test_a_card_refund_goes_back_through_stripe_once_and_the_buyer_is_told(client, staff_headers, world, actor):
    order = paid_card_order(actor, world, line(world), line(world, world.reduced))
    status, summary, _ = call(client, "POST", f"/orders/{order.id}/refunds/quote", staff_headers, {"positions": [1]})
    assert summary["means"] == "card" and "not deducted from the spectator's refund" in summary["processor_fee_note"]
    status, refund, _ = call(client, "POST", f"/orders/{order.id}/refunds", staff_headers, {"positions": [1]})
    assert status == 201, refund
    assert refund["state"] == "succeeded" and refund["stripe_refund_id"].startswith("re_")
    [at_stripe] = refunds_at_stripe(order.payment_intent_id)
    assert at_stripe.amount == 3200 and at_stripe.metadata["refund_id"] == refund["refund_id"]
    assert [m.render_context["payment_method"] for m in notifications.of_entity(
        actor, "order", order.id, limit=20, cursor=None).items if m.template == "refund_initiated"] == ["card"]
    again = assert_problem(call(client, "POST", f"/orders/{order.id}/refunds", staff_headers, {"positions": [1]}), 409)
    assert "already given back" in again["detail"]
    assert len(refunds_at_stripe(order.payment_intent_id)) == 1


def test_twenty_concurrent_refunds_of_one_ticket_make_one_stripe_refund(world, actor):
    order = paid_card_order(actor, world)

    def attempt(_):
        try:
            return refunds.request_refund(actor, order.id, [1]).state
        except Conflict as refused:
            return refused.kind

    with ThreadPoolExecutor(max_workers=20) as pool:
        outcomes = list(pool.map(attempt, range(20)))
    assert outcomes.count("succeeded") == 1, outcomes
    assert set(outcomes) - {"succeeded"} <= {"concurrent-change", "conflict", "action-not-allowed"}
    assert len(refunds_at_stripe(order.payment_intent_id)) == 1
    assert len(stored_refunds(actor, order.id)) == 1
    assert [e.kind for e in ledger.entries_of_order(actor.tenant_id, order.id)].count("refund") == 1
    assert figures(actor, world)["refunds_cents"] == 3200 and figures(actor, world)["tickets_refunded"] == 1
    assert orders.get_order(actor, order.id).refunded_cents == 3200


def test_a_crash_between_stripe_and_our_write_still_refunds_once(world, actor, monkeypatch):
    order = paid_card_order(actor, world)
    real_advance = refunds.advance

    def crash(*args, **kwargs):
        raise RuntimeError("Lambda killed after Stripe answered")

    monkeypatch.setattr(refunds, "advance", crash)
    with pytest.raises(RuntimeError):
        refunds.request_refund(actor, order.id, [1])
    monkeypatch.setattr(refunds, "advance", real_advance)
    [stuck] = stored_refunds(actor, order.id)
    assert stuck.state == "requested" and len(refunds_at_stripe(order.payment_intent_id)) == 1

    # localstripe ignores idempotency keys: only looking at Stripe first keeps this to one refund.
    resumed = refunds.retry(actor, order.id, stuck.refund_id)
    assert resumed.state == "succeeded"
    [at_stripe] = refunds_at_stripe(order.payment_intent_id)
    assert resumed.stripe_refund_id == at_stripe.id
    assert orders.get_order(actor, order.id).refunded_cents == 3200


@pytest.mark.parametrize("mode", ["insufficient_balance", "card_declined"])
def test_a_refund_stripe_refuses_ends_failed_undone_and_can_be_retried(
        client, staff_headers, world, actor, monkeypatch, mode):
    order = paid_card_order(actor, world)
    with stripe_failing(monkeypatch, mode) as fake:
        status, refund, _ = call(client, "POST", f"/orders/{order.id}/refunds", staff_headers, {"positions": [1]})
    assert status == 201 and fake.calls == 1
    assert refund["state"] == "failed" and "Stripe refused" in refund["steps"][-1]["note"]
    refreshed = orders.get_order(actor, order.id)
    assert refreshed.refunded_cents == 0 and refreshed.status == "cancelled"
    assert [(t.state, t.settlement) for t in orders.tickets_of(refreshed)] == [("cancelled", None)]
    assert pick(figures(actor, world)) == {"refunds_cents": 0, "tickets_cancelled": 1, "tickets_refunded": 0}
    assert figures(actor, world)["net_sales_cents"] == 3200
    failed = call(client, "GET", "/refunds?state=failed", staff_headers)[1]["items"]
    assert [r["refund_id"] for r in failed] == [refund["refund_id"]]

    status, retried, _ = call(client, "POST", f"/orders/{order.id}/refunds/{refund['refund_id']}/retry", staff_headers)
    assert status == 200 and retried["state"] == "succeeded" and retried["attempt"] == 2
    assert len(refunds_at_stripe(order.payment_intent_id)) == 1
    assert figures(actor, world)["refunds_cents"] == 3200 and figures(actor, world)["tickets_cancelled"] == 0
    assert orders.get_order(actor, order.id).status == "refunded"


@pytest.mark.parametrize("mode", ["rate_limit", "network"])
def test_a_refund_stripe_cannot_answer_now_waits_and_is_finished_by_its_follow_up(
        world, actor, monkeypatch, pump, mode):
    from tests.job_helpers import drive

    order = paid_card_order(actor, world)
    monkeypatch.setattr(refunds, "FOLLOW_UP_DELAY_SECONDS", 0)
    with stripe_failing(monkeypatch, mode) as fake:
        refund = refunds.request_refund(actor, order.id, [1])
    assert fake.calls >= 1 and refund.state == "requested" and refund.last_error
    assert orders.get_order(actor, order.id).refunded_cents == 3200  # held, not lost, while unknown
    [job] = [j for j in jobs.list_jobs(actor, limit=10, cursor=None).items if j.kind == refunds.FOLLOW_UP]
    finished = drive(pump, actor.tenant_id, job.id)
    assert finished.status == "succeeded"
    assert refunds.get_refund(actor, order.id, refund.refund_id).state == "succeeded"
    assert len(refunds_at_stripe(order.payment_intent_id)) == 1


def test_stripe_webhooks_move_a_refund_forward_only_and_a_late_failure_undoes_it(client, world, actor):
    order = paid_card_order(actor, world)
    refund = refunds.request_refund(actor, order.id, [1])
    subject = {"id": refund.stripe_refund_id, "object": "refund", "amount": 3200, "currency": "eur",
               "payment_intent": order.payment_intent_id, "status": "pending",
               "metadata": {"tenant_id": actor.tenant_id, "order_id": order.id, "refund_id": refund.refund_id,
                            "refund_key": refunds.idempotency_key(refund)}}
    assert deliver(client, "refund.updated", subject).status_code == 204
    assert refunds.get_refund(actor, order.id, refund.refund_id).state == "succeeded"  # no going back

    failed = {**subject, "status": "failed", "failure_reason": "expired_or_canceled_card"}
    assert deliver(client, "refund.failed", failed).status_code == 204
    stored = refunds.get_refund(actor, order.id, refund.refund_id)
    assert stored.state == "failed" and stored.failure_reason == "expired_or_canceled_card"
    assert orders.get_order(actor, order.id).refunded_cents == 0
    assert figures(actor, world)["refunds_cents"] == 0
    assert deliver(client, "refund.failed", failed).status_code == 204  # delivered twice: changes nothing
    assert len(ledger.entries_of_order(actor.tenant_id, order.id)) == 3  # sale, refund, its reversal


def test_refunds_beyond_what_was_paid_are_refused(client, staff_headers, world, actor):
    order = paid_cheque_order(actor, world, line(world), line(world))
    over = assert_problem(call(client, "POST", f"/orders/{order.id}/refunds", staff_headers, {
        "positions": [1], "amounts": [{"position": 1, "amount_cents": 3201}]}), 409, "amounts.1")
    assert over["type"] == "/problems/over-refund"
    refunds.request_refund(actor, order.id, [1], amounts={1: 1000})
    assert_problem(call(client, "POST", f"/orders/{order.id}/refunds", staff_headers, {"positions": [1]}), 409)
    unpaid, _ = orders.place_order(actor, {"kind": "sale", "payment_type": "invoice", "buyer": {"last_name": "Roux"},
                                           "lines": [line(world)]})
    assert_problem(call(client, "POST", f"/orders/{unpaid.id}/refunds", staff_headers, {"positions": [1]}), 409)
    assert orders.get_order(actor, order.id).refunded_cents == 1000


def test_charge_refunded_brings_a_refund_left_unknown_up_to_date(client, world, actor, monkeypatch):
    order = paid_card_order(actor, world)
    monkeypatch.setattr(refunds, "advance", lambda *args, **kwargs: (_ for _ in ()).throw(RuntimeError("killed")))
    with pytest.raises(RuntimeError):
        refunds.request_refund(actor, order.id, [1])
    monkeypatch.undo()
    [stuck] = stored_refunds(actor, order.id)
    assert stuck.state == "requested"
    charge = {"id": "ch_test", "object": "charge", "payment_intent": order.payment_intent_id, "amount_refunded": 3200}
    assert deliver(client, "charge.refunded", charge).status_code == 204
    [settled] = stored_refunds(actor, order.id)
    assert settled.state == "succeeded" and settled.stripe_refund_id == refunds_at_stripe(order.payment_intent_id)[0].id


def test_a_refund_form_sent_twice_refunds_once_and_answers_the_same_refund(world, actor):
    from chalicelib.adapters import ids

    order = paid_card_order(actor, world, line(world), line(world, world.reduced), line(world))
    request_id = ids.new_id()
    first, made = refunds.request_refund_once(actor, order.id, request_id, [1, 2])
    assert made and first.refund_id == request_id and first.amount_cents == 5300
    again, made_again = refunds.request_refund_once(actor, order.id, request_id, [1, 2])
    assert not made_again and again.refund_id == request_id
    assert [r.amount for r in refunds_at_stripe(order.payment_intent_id)] == [5300]
    assert [r.refund_id for r in stored_refunds(actor, order.id)] == [request_id]
    # another form (a new request id) for the same tickets is refused: they are already refunded
    with pytest.raises(Conflict):
        refunds.request_refund_once(actor, order.id, ids.new_id(), [1])
    assert orders.get_order(actor, order.id).refunded_cents == 5300


def test_concurrent_sends_of_one_refund_form_make_one_refund(world, actor):
    from chalicelib.adapters import ids

    order = paid_card_order(actor, world, line(world), line(world))
    request_id = ids.new_id()
    with ThreadPoolExecutor(max_workers=5) as pool:
        answers = list(pool.map(lambda _: refunds.request_refund_once(actor, order.id, request_id, [1]), range(5)))
    assert {refund.refund_id for refund, _ in answers} == {request_id}
    assert [made for _, made in answers].count(True) == 1
    assert len(refunds_at_stripe(order.payment_intent_id)) == 1


def test_a_refund_form_without_a_valid_request_id_is_refused_and_nothing_is_written(world, actor):
    from chalicelib.errors import InvalidInput

    order = paid_cheque_order(actor, world)
    with pytest.raises(InvalidInput):
        refunds.request_refund_once(actor, order.id, "not-an-id", [1])
    assert not stored_refunds(actor, order.id)
