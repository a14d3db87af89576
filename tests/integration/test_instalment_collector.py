"""The instalment collector end to end: a subscription sold in 3 instalments by SEPA debit,
collected through localstripe (which succeeds a good IBAN's debit at once, and fails a failing
IBAN's a moment later with ``payment_intent.payment_failed``), a debit processing for days as
real Stripe's are (a focused fake: localstripe has no such state for a success), a failing
IBAN retried by the policy then in arrears, and the faults that must never move money twice: a crash after the claim, a crash after Stripe took the money, Stripe
not saying what it did, two runs at once, and staff editing the order while an instalment is
recorded. A SEPA instalment is charged only after its pre-notification
(``test_sepa_prenotification.py``): the first one, due the day of the sale, is pre-notified by
the first run and charged ``SEPA_PRENOTICE_DAYS`` (5) days later, on :data:`DEBIT_AT`."""
from __future__ import annotations

import json
import queue
import threading
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.adapters import clock, payments
from chalicelib.models.money import LedgerEntry
from chalicelib.models.options import SweepMark
from chalicelib.models.subscriptions import InstalmentDue, Subscription
from chalicelib.services.catalog import catalog, team
from chalicelib.services.contacts import contacts
from chalicelib.services.ledger import ledger
from chalicelib.services.mail import notifications
from chalicelib.services.money import saved_means
from chalicelib.services.orders import orders
from chalicelib.services.subscriptions import collector
from tests import money_helpers
from tests.api.helpers import assert_problem, call
from tests.integration.test_checkout import deliver
from tests.job_helpers import drive, stored
from tests.orders_world import build_world

GOOD_IBAN, FAILING_IBAN = "DE89370400440532013000", "DE62370400440532013001"
SOLD_AT = datetime(2027, 1, 2, 10, 0, tzinfo=timezone.utc)  # instalments: 2 January, 5 February, 5 March
DEBIT_AT = datetime(2027, 1, 7, 5, 0, tzinfo=timezone.utc)  # 06:00 in Paris, 5 days after the first run's notice


@pytest.fixture
def frozen():
    clock.set_clock(clock.frozen_at(SOLD_AT))
    yield
    clock.set_clock(None)


def _at(moment: datetime) -> None:
    clock.set_clock(clock.frozen_at(moment))


@pytest.fixture
def offer(actor):
    world = build_world(actor, capacity=20)
    product = catalog.products.create(actor, {"kind": "subscription", "name": "Abonnement Découverte",
                                             "family_id": world.show.family_id, "season_id": world.show.season_id,
                                             "tacit_renewal": True})
    tariff = catalog.tariffs.create(actor, {"product_id": product.id, "name": "Abonné", "price_cents": 10000})
    from chalicelib.services.subscriptions import terms

    terms.set_terms(actor, product.id, {
        "performances": [{"performance_id": world.evening.id, "quota_id": world.evening_quota.id},
                         {"performance_id": world.other_performance.id, "quota_id": world.other_quota.id}],
        "choose": None, "delivery_modes": ["print_at_home"],
        "payment_plans": [{"id": "once", "label": "Comptant", "instalments": 1, "day_of_month": 5,
                           "first_at_purchase": True},
                          {"id": "3x", "label": "En 3 fois", "instalments": 3, "day_of_month": 5,
                           "first_at_purchase": True}]})
    return product, tariff


def _sold(client, staff_headers, actor, offer, *, iban=GOOD_IBAN, plan="3x") -> tuple[dict, object]:
    anne = contacts.create_contact(actor, {"first_name": "Anne", "last_name": "Martin",
                                           "emails": [{"address": "anne.martin@exemple.fr"}]})
    means = saved_means.start_sepa_setup(actor, anne.id, iban=iban, account_holder="Anne Martin",
                                         signed_on=date(2027, 1, 2))
    assert means.status == "active" and means.mandate_reference
    product, tariff = offer
    status, sale, _ = call(client, "POST", "/subscriptions", staff_headers, {
        "product_id": product.id, "tariff_id": tariff.id, "payer_contact_id": anne.id,
        "delivery_mode": "print_at_home", "plan_id": plan, "means": "sepa_debit", "saved_means_id": means.id,
        "subscribers": [{"holder_contact_id": anne.id}]})
    assert status == 201, sale
    return sale, anne


def _subscription(actor, sale) -> Subscription:
    return Subscription.get(actor.tenant_id, sale["subscriptions"][0]["id"], consistent_read=True)


def _collect_now(actor, pump) -> list[str]:
    """Sweep and run every job started; the collection jobs among them (a sweep may also start
    the pre-notices' job of a day ahead)."""
    report = collector.sweep(clock.now(), tenant_id=actor.tenant_id)
    for job_id in report.started:
        assert drive(pump, actor.tenant_id, job_id).status == "succeeded"
    return [job_id for job_id in report.started if stored(actor.tenant_id, job_id).kind == collector.COLLECT]


def _prenotified(actor, sale, number: int = 1) -> None:
    """The sale's first run pre-notifies the SEPA instalment; the clock moves to the day announced."""
    assert collector.collect(actor, sale["subscriptions"][0]["id"], number) == "prenotified"
    assert _subscription(actor, sale).instalments[number - 1]["debit_on"] == DEBIT_AT.date().isoformat()
    _at(DEBIT_AT)


def _settle_by_webhook(client, received: queue.Queue, intent_id: str) -> str:
    """Wait for localstripe's news of this debit and hand it to the app, as Stripe's webhook would."""
    deadline = datetime.now(timezone.utc) + timedelta(seconds=20)
    while datetime.now(timezone.utc) < deadline:
        body, signature = received.get(timeout=20)
        event = json.loads(body)
        if event["data"]["object"].get("id") == intent_id and event["type"].startswith("payment_intent."):
            assert deliver(client, body, signature).status_code == 204
            return event["type"]
    raise AssertionError(f"no news of {intent_id}")


def _ledger(actor, order_id) -> list[LedgerEntry]:
    return ledger.entries_of_order(actor.tenant_id, order_id)


def test_three_sepa_instalments_each_collected_once(client, staff_headers, actor, pump, stripe_webhooks, frozen,
                                                     offer):
    sale, anne = _sold(client, staff_headers, actor, offer)
    subscription = _subscription(actor, sale)
    assert [(item["due_on"], item["amount_cents"], item["state"]) for item in subscription.instalments] == [
        ("2027-01-02", 3333, "scheduled"), ("2027-02-05", 3333, "scheduled"), ("2027-03-05", 3334, "scheduled")]
    order = orders.get_order(actor, sale["order_id"])
    assert not order.paid and order.by_instalments and order.payment_type == "sepa"
    problem = assert_problem(call(client, "POST", f"/orders/{order.id}/mark-paid", staff_headers, {}), 409)
    assert problem["type"].endswith("paid-by-instalments")

    assert len(_collect_now(actor, pump)) == 1  # the first run pre-notifies the first debit, charging nothing
    assert _subscription(actor, sale).instalments[0]["debit_on"] == "2027-01-07"
    assert int(orders.get_order(actor, order.id).paid_cents) == 0
    for number, (moment, paid_so_far) in enumerate(((DEBIT_AT, 3333), (datetime(2027, 2, 5, 9, tzinfo=timezone.utc),
                                                                       6666),
                                                    (datetime(2027, 3, 5, 9, tzinfo=timezone.utc), 10000)), start=1):
        if number > 1:  # pre-notified by the sweep 5 days ahead, at 06:00 in Paris
            _at(moment.replace(hour=5) - timedelta(days=5))
            _collect_now(actor, pump)
            assert _subscription(actor, sale).instalments[number - 1]["prenotified_at"]
        _at(moment)
        assert len(_collect_now(actor, pump)) == 1
        assert _collect_now(actor, pump) == []  # the same hour: no second job
        instalment = _subscription(actor, sale).instalments[number - 1]
        assert instalment["state"] == "paid" and instalment["intent_id"].startswith("pi_")
        assert int(orders.get_order(actor, order.id).paid_cents) == paid_so_far
        # Stripe's webhook of the same debit arrives after its answer: it changes nothing.
        assert _settle_by_webhook(client, stripe_webhooks, instalment["intent_id"]) == "payment_intent.succeeded"
        assert int(orders.get_order(actor, order.id).paid_cents) == paid_so_far
        for day in (instalment["due_on"], instalment["debit_on"]):  # nothing left for the collector that day
            assert not list(InstalmentDue.query(day, InstalmentDue.due_key.startswith(f"{actor.tenant_id}#")))
    order = orders.get_order(actor, order.id)
    assert order.paid and order.status == "complete"
    entries = _ledger(actor, order.id)
    assert [(entry.kind, int(entry.amount_cents)) for entry in entries] == [("sale", 3333), ("payment", 3333),
                                                                             ("payment", 3334)]
    assert sum(int(line.tickets_sold) for entry in entries for line in entry.lines) == 2  # sold once
    payments_made = payments.charges_with(saved_means.payer_account(actor, anne.id).stripe_customer_id,
                                          "subscription", sale["subscriptions"][0]["id"])
    assert len(payments_made) == 3


def test_a_debit_processing_for_days_is_recorded_when_stripe_says_once(client, staff_headers, actor, pump, frozen,
                                                                        offer, monkeypatch):
    """Real Stripe keeps a SEPA debit ``processing`` for days; localstripe succeeds it at once,
    so a focused fake answers ``processing`` and the webhook is Stripe's documented
    PaymentIntent shape, signed as Stripe signs it."""
    sale, _ = _sold(client, staff_headers, actor, offer)
    made = []

    def processing(**kwargs):
        made.append(kwargs)
        return payments.ChargeOutcome(status="processing", payment_intent_id="pi_3QsepaProcessing01",
                                      amount=kwargs["amount_cents"], currency="EUR", metadata=kwargs["metadata"])

    monkeypatch.setattr(payments, "charge_off_session", processing)
    monkeypatch.setattr(payments, "charges_with", lambda *args: [])
    _prenotified(actor, sale)
    assert collector.collect(actor, sale["subscriptions"][0]["id"], 1) == "processing"
    order_id = sale["order_id"]
    assert int(orders.get_order(actor, order_id).paid_cents) == 0
    # The due entry waits a day: the hourly sweep does not ask Stripe again meanwhile.
    _at(DEBIT_AT + timedelta(hours=2))
    assert collector.sweep(clock.now(), tenant_id=actor.tenant_id).due == {}
    subject = {"id": "pi_3QsepaProcessing01", "object": "payment_intent", "amount": 3333, "amount_received": 3333,
               "currency": "eur", "status": "succeeded", "payment_method_types": ["sepa_debit"],
               "metadata": made[0]["metadata"], "last_payment_error": None}
    for _ in range(2):  # Stripe delivers at least once
        assert money_helpers.deliver(client, "payment_intent.succeeded", subject).status_code == 204
    assert _subscription(actor, sale).instalments[0]["state"] == "paid"
    assert int(orders.get_order(actor, order_id).paid_cents) == 3333 and len(_ledger(actor, order_id)) == 1
    # A late failure of an earlier attempt (another charge key) changes nothing.
    stale = {**subject, "status": "requires_payment_method", "last_payment_error": {"code": "insufficient_funds"},
             "metadata": {**made[0]["metadata"], "charge_key": "instalment:other:1:1"}}
    assert money_helpers.deliver(client, "payment_intent.payment_failed", stale).status_code == 204
    assert _subscription(actor, sale).instalments[0]["state"] == "paid"


def test_a_failing_debit_is_retried_by_the_policy_then_in_arrears(client, staff_headers, actor, pump, stripe_webhooks,
                                                                  frozen, offer):
    team.create_rule(actor, {"name": "Compta", "addresses": ["compta@theatre.fr"], "all_tariffs": True})
    sale, anne = _sold(client, staff_headers, actor, offer, iban=FAILING_IBAN, plan="once")
    assert len(_collect_now(actor, pump)) == 1  # the pre-notification; the debit goes on DEBIT_AT
    attempts_at = [DEBIT_AT, DEBIT_AT + timedelta(days=3), DEBIT_AT + timedelta(days=10)]
    for attempt, moment in enumerate(attempts_at, start=1):
        _at(moment)
        assert len(_collect_now(actor, pump)) == 1, attempt
        instalment = _subscription(actor, sale).instalments[0]
        assert instalment["attempts"] == attempt and instalment["state"] == "processing"
        assert _settle_by_webhook(client, stripe_webhooks, instalment["intent_id"]) == \
            "payment_intent.payment_failed"
        _at(moment + timedelta(days=1))
        assert _collect_now(actor, pump) == []  # nothing due before the retry day
        retry_on = _subscription(actor, sale).instalments[0].get("retry_on")
        if retry_on:  # staff see it among the day's failed instalments awaiting their retry
            status, listed, _ = call(client, "GET", f"/subscriptions/instalments?day={retry_on}&state=failed",
                                     staff_headers)
            assert status == 200 and [(item["subscription_id"], item["attempts"]) for item in listed["items"]] == [
                (sale["subscriptions"][0]["id"], attempt)]
    subscription = _subscription(actor, sale)
    assert subscription.state == "in_arrears" and subscription.instalments[0]["state"] == "failed"
    assert "retry_on" not in subscription.instalments[0]
    order = orders.get_order(actor, sale["order_id"])
    assert int(order.paid_cents) == 0 and not _ledger(actor, order.id)  # no money, nothing in the books
    sent = notifications.of_entity(actor, "subscription", subscription.id, limit=50, cursor=None).items
    assert sorted(mail.template for mail in sent) == ["instalment_failed"] * 3 + ["sepa_prenotification",
                                                                                  "team_instalment_arrears"]
    assert {mail.recipient for mail in sent if mail.template == "team_instalment_arrears"} == {"compta@theatre.fr"}


def _one_charge_at_stripe(actor, anne, sale) -> None:
    made = payments.charges_with(saved_means.payer_account(actor, anne.id).stripe_customer_id, "instalment",
                                 f"{sale['subscriptions'][0]['id']}:1")
    assert len(made) == 1, made


def test_a_crash_after_the_claim_charges_once_on_the_next_run(client, staff_headers, actor, frozen, offer,
                                                              monkeypatch):
    sale, anne = _sold(client, staff_headers, actor, offer)
    _prenotified(actor, sale)
    real = saved_means.charge_means

    def dying(*args, **kwargs):
        raise RuntimeError("the Lambda died before calling Stripe")

    monkeypatch.setattr(saved_means, "charge_means", dying)
    with pytest.raises(RuntimeError):
        collector.collect(actor, sale["subscriptions"][0]["id"], 1)
    assert _subscription(actor, sale).instalments[0]["state"] == "processing"
    monkeypatch.setattr(saved_means, "charge_means", real)
    assert collector.collect(actor, sale["subscriptions"][0]["id"], 1) == "busy"  # it may be charging right now
    _at(DEBIT_AT + collector.CLAIM_LEASE)  # the next hourly run
    assert collector.collect(actor, sale["subscriptions"][0]["id"], 1) == "paid"
    _one_charge_at_stripe(actor, anne, sale)


def test_a_crash_after_stripe_took_the_money_adopts_that_charge(client, staff_headers, actor, frozen, offer,
                                                                monkeypatch):
    sale, anne = _sold(client, staff_headers, actor, offer)
    _prenotified(actor, sale)
    real = collector.apply_outcome

    def dying(*args, **kwargs):
        raise RuntimeError("the Lambda died between Stripe's answer and our record")

    monkeypatch.setattr(collector, "apply_outcome", dying)
    with pytest.raises(RuntimeError):
        collector.collect(actor, sale["subscriptions"][0]["id"], 1)
    monkeypatch.setattr(collector, "apply_outcome", real)
    _at(DEBIT_AT + collector.CLAIM_LEASE)  # the next hourly run
    assert collector.collect(actor, sale["subscriptions"][0]["id"], 1) == "paid"
    assert _subscription(actor, sale).instalments[0]["intent_id"].startswith("pi_")
    assert int(orders.get_order(actor, sale["order_id"]).paid_cents) == 3333
    _one_charge_at_stripe(actor, anne, sale)


def test_stripe_not_saying_what_it_did_is_looked_up_before_anything_else(client, staff_headers, actor, frozen, offer,
                                                                          monkeypatch):
    """A focused fake: localstripe always answers, so the answer is dropped after Stripe made
    the charge (as a 5xx or a timeout after the fact would)."""
    sale, anne = _sold(client, staff_headers, actor, offer)
    _prenotified(actor, sale)
    real = payments.charge_off_session

    def silent(**kwargs):
        real(**kwargs)
        return payments.ChargeOutcome(status="unknown", payment_intent_id=None, reason="502 Bad Gateway")

    monkeypatch.setattr(payments, "charge_off_session", silent)
    assert collector.collect(actor, sale["subscriptions"][0]["id"], 1) == "processing"
    assert "intent_id" not in _subscription(actor, sale).instalments[0]
    monkeypatch.setattr(payments, "charge_off_session", real)
    _at(DEBIT_AT + collector.CLAIM_LEASE)  # the next hourly run
    assert collector.collect(actor, sale["subscriptions"][0]["id"], 1) == "paid"
    assert _subscription(actor, sale).instalments[0]["intent_id"].startswith("pi_")
    _one_charge_at_stripe(actor, anne, sale)


def test_two_runs_at_once_charge_once(client, staff_headers, actor, frozen, offer):
    sale, anne = _sold(client, staff_headers, actor, offer)
    _prenotified(actor, sale)
    outcomes, barrier = [], threading.Barrier(2)

    def run():
        barrier.wait()
        outcomes.append(collector.collect(actor, sale["subscriptions"][0]["id"], 1))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) in (["busy", "paid"], ["paid", "settled"])  # one charges, the other stands back
    _one_charge_at_stripe(actor, anne, sale)


def test_staff_editing_the_order_while_an_instalment_is_recorded(client, staff_headers, actor, pump, frozen, offer,
                                                                 monkeypatch):
    sale, _ = _sold(client, staff_headers, actor, offer)
    _prenotified(actor, sale)
    real, edited = orders.receive_instalment, []

    def with_an_edit_meanwhile(actor_, order, **kwargs):
        if not edited:  # staff correct the buyer's name between our read and our write
            orders.edit_buyer(actor_, order.id, {"last_name": "Martin-Durand"})
            edited.append(True)
        return real(actor_, order, **kwargs)

    monkeypatch.setattr(orders, "receive_instalment", with_an_edit_meanwhile)
    _collect_now(actor, pump)
    order = orders.get_order(actor, sale["order_id"])
    assert edited and order.buyer.last_name == "Martin-Durand" and int(order.paid_cents) == 3333
    assert _subscription(actor, sale).instalments[0]["state"] == "paid"
    assert len(_ledger(actor, order.id)) == 1


def test_the_schedule_finds_due_days_across_venues_from_its_mark(client, staff_headers, actor, pump, frozen, offer):
    SweepMark(sweep=collector.SWEEP, from_day="2026-12-20", swept_at=SOLD_AT).save()
    sale, _ = _sold(client, staff_headers, actor, offer)
    report = collector.sweep(SOLD_AT)
    assert report.due.get(actor.tenant_id) == 1 and len(report.started) >= 1
    assert collector.sweep(SOLD_AT).started == []  # the same hour
    mark = SweepMark.get(collector.SWEEP, consistent_read=True)
    assert mark.from_day <= "2027-01-02"
