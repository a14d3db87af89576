"""Credit (avoir) and donations instead of a refund: the tickets' money settled once, landing on
the customer's record with its origin; credit used never below zero and once per purpose."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.errors import Conflict
from chalicelib.services.contacts import contacts
from chalicelib.services.ledger import metrics
from chalicelib.services.money import customer_money, refunds
from chalicelib.services.orders import orders
from tests.api.helpers import assert_problem, call
from tests.money_helpers import paid_card_order, paid_cheque_order, refunds_at_stripe
from tests.orders_world import build_world, line


@pytest.fixture
def world(actor):
    return build_world(actor)


def test_tickets_turned_into_credit_land_on_the_buyers_record_with_their_origin(client, staff_headers, world, actor):
    buyer = contacts.create_contact(actor, {"last_name": "Lefèvre", "first_name": "Élodie"})
    order = paid_cheque_order(actor, world, line(world), line(world, world.reduced),
                              buyer={"contact_id": buyer.id, "last_name": "Lefèvre", "email": "elodie@exemple.fr"})
    status, entry, _ = call(client, "POST", f"/orders/{order.id}/credit", staff_headers, {"positions": [2]})
    assert status == 201, entry
    assert entry["amount_cents"] == 2100 and entry["balance_after_cents"] == 2100
    assert (entry["origin_type"], entry["order_id"], entry["positions"]) == ("staff", order.id, [2])
    account = call(client, "GET", f"/contacts/{buyer.id}/credit", staff_headers)[1]
    assert (account["balance_cents"], account["issued_cents"], account["used_cents"]) == (2100, 2100, 0)

    refreshed = orders.get_order(actor, order.id)
    assert refreshed.credited_cents == 2100 and refreshed.status == "partially_complete"
    assert [(t.state, t.settlement) for t in orders.tickets_of(refreshed)] == [("valid", None), ("cancelled", "credit")]
    figures = metrics.figures(actor, "show", world.show.id)
    assert (figures["credits_issued_cents"], figures["tickets_cancelled"], figures["refunds_cents"]) == (2100, 1, 0)
    # Settled once: neither a refund nor a donation of that ticket now.
    assert_problem(call(client, "POST", f"/orders/{order.id}/refunds", staff_headers, {"positions": [2]}), 409)
    assert_problem(call(client, "POST", f"/orders/{order.id}/donation", staff_headers, {"positions": [2]}), 409)


def test_a_buyer_without_a_customer_record_gets_one_for_their_donation(client, staff_headers, world, actor):
    order = paid_card_order(actor, world)
    status, donation, _ = call(client, "POST", f"/orders/{order.id}/donation", staff_headers, {"positions": [1]})
    assert status == 201, donation
    assert donation["amount_cents"] == 3200 and donation["positions"] == [1]
    contact_id = orders.get_order(actor, order.id).buyer.contact_id
    assert contact_id == donation["contact_id"] and contacts.get_contact(actor, contact_id).last_name == "Lefèvre"
    history = call(client, "GET", f"/contacts/{contact_id}/donations", staff_headers)[1]["items"]
    assert [d["donation_id"] for d in history] == [donation["donation_id"]]
    assert metrics.figures(actor, "tenant", actor.tenant_id)["donations_cents"] == 3200
    assert refunds_at_stripe(order.payment_intent_id) == []  # a donation moves no money at Stripe


def test_credit_is_used_once_per_purpose_and_never_below_zero(client, staff_headers, world, actor):
    buyer = contacts.create_contact(actor, {"last_name": "Martin"})
    order = paid_cheque_order(actor, world, buyer={"contact_id": buyer.id, "last_name": "Martin"})
    customer_money.credit_tickets(actor, order.id, [1])  # 32.00 of credit

    def use(purpose):
        try:
            return customer_money.use_credit(actor, buyer.id, 1200, origin_type="order-payment",
                                             origin_id=purpose).amount_cents
        except Conflict as refused:
            return refused.kind

    with ThreadPoolExecutor(max_workers=8) as pool:
        same_purpose = list(pool.map(use, ["order-A"] * 8))
    assert same_purpose.count(1200) == 1
    assert use("order-B") == 1200
    assert use("order-C") == "not-enough-credit"  # 8.00 left
    account = customer_money.credit_account(actor, buyer.id)
    assert (account.balance_cents, account.used_cents) == (800, 2400)
    entries = call(client, "GET", f"/contacts/{buyer.id}/credit/entries", staff_headers)[1]["items"]
    assert [(e["kind"], e["amount_cents"], e["balance_after_cents"]) for e in entries] == [
        ("used", 1200, 800), ("used", 1200, 2000), ("issued", 3200, 3200)]
    problem = assert_problem(call(client, "POST", f"/contacts/{buyer.id}/credit/use", staff_headers,
                                  {"amount_cents": 900, "origin_id": "desk-1"}), 409)
    assert problem["type"] == "/problems/not-enough-credit"


def test_a_refunded_ticket_cannot_become_credit(world, actor):
    order = paid_cheque_order(actor, world)
    refunds.request_refund(actor, order.id, [1])
    with pytest.raises(Conflict):
        customer_money.credit_tickets(actor, order.id, [1])
    assert orders.get_order(actor, order.id).credited_cents == 0


def test_a_credit_summary_writes_nothing_and_its_form_sent_twice_credits_once(world, actor):
    from chalicelib.adapters import ids

    order = paid_cheque_order(actor, world, line(world), line(world, world.reduced))
    summary = customer_money.settlement_summary(actor, order.id, [1, 2])
    assert [(l.paid_cents, l.fee_kept_cents, l.amount_cents) for l in summary.lines] == [(3200, 0, 3200),
                                                                                          (2100, 0, 2100)]
    assert summary.total_cents == 5300 and orders.get_order(actor, order.id).credited_cents == 0
    request_id = ids.new_id()
    assert customer_money.settle_once(actor, order.id, request_id, [1, 2], settlement="credit") is True
    assert customer_money.settle_once(actor, order.id, request_id, [1, 2], settlement="credit") is False
    refreshed = orders.get_order(actor, order.id)
    assert refreshed.credited_cents == 5300
    assert {t.settlement_id for t in orders.tickets_of(refreshed)} == {request_id}
    assert customer_money.credit_balance(actor, refreshed.buyer.contact_id) == 5300
    with pytest.raises(Conflict):  # another form for the same tickets: settled already
        customer_money.settle_once(actor, order.id, ids.new_id(), [1], settlement="donation")


def test_concurrent_sends_of_one_donation_form_donate_once(world, actor):
    from chalicelib.adapters import ids

    order = paid_cheque_order(actor, world)
    request_id = ids.new_id()
    with ThreadPoolExecutor(max_workers=4) as pool:
        made = list(pool.map(lambda _: customer_money.settle_once(actor, order.id, request_id, [1],
                                                                  settlement="donation"), range(4)))
    assert made.count(True) == 1
    assert orders.get_order(actor, order.id).donated_cents == 3200
    assert metrics.figures(actor, "tenant", actor.tenant_id)["donations_cents"] == 3200
