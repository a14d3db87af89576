"""Money Stripe captured is recorded as captured, and what paid for nothing goes back: a card
payment arriving after the order was cancelled, after some of its tickets were, twice, or
racing a cancellation; a card order cannot be marked paid by hand; the team hears of paid
orders, not of holds."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.adapters import clock
from chalicelib.models.base import tenant_key
from chalicelib.models.orders import Payment
from chalicelib.services.catalog import team
from chalicelib.services.ledger import ledger, metrics
from chalicelib.services.mail import notifications
from chalicelib.services.money import card_payments, refunds
from chalicelib.services.orders import cancellations, checkout, orders
from tests.api.helpers import assert_problem, call
from tests.money_helpers import card_confirmed, refunds_at_stripe
from tests.orders_world import build_world, draft, line


@pytest.fixture
def world(actor):
    return build_world(actor)


def _checkout(actor, world, *lines):
    made = checkout.start_checkout(actor, draft(world, *(lines or [line(world)])))
    return made.order, made.intent


def _payments(actor, order) -> list[Payment]:
    return list(Payment.query(tenant_key(actor.tenant_id, order.id)))


def _consistent_with_stripe(actor) -> bool:
    today = clock.now().date()
    return metrics.reconcile(actor, today, today).consistent


def test_a_payment_arriving_after_the_order_was_cancelled_is_recorded_and_refunded(actor, world):
    order, intent = _checkout(actor, world)
    cancellations.cancel_tickets(actor, order.id, [1])  # staff cancel it while the buyer types their card
    succeeded = card_confirmed(intent.id)

    assert card_payments.payment_succeeded(succeeded) == "refunded: nothing valid to pay for"
    [payment] = _payments(actor, order)
    assert (payment.amount_cents, payment.reference) == (3200, intent.id)
    [at_stripe] = refunds_at_stripe(intent.id)
    [refund] = refunds.refunds_of_order(actor, order.id)
    assert (at_stripe.amount, refund.state, refund.origin) == (3200, "succeeded", refunds.UNCLAIMED_ORIGIN)
    stored = orders.get_order(actor, order.id)
    assert not stored.paid and stored.status == "cancelled"
    assert (stored.paid_cents, stored.refunded_cents) == (3200, 3200)
    assert metrics.figures(actor, "performance", world.evening.id)["gross_sales_cents"] == 0  # nothing was sold
    assert _consistent_with_stripe(actor)

    assert card_payments.payment_succeeded(succeeded) == "already recorded"  # Stripe delivers it again
    assert len(refunds_at_stripe(intent.id)) == 1 and len(_payments(actor, order)) == 1


def test_tickets_cancelled_before_the_payment_get_their_money_back_and_the_rest_stays_refundable(actor, world):
    order, intent = _checkout(actor, world, line(world), line(world, world.reduced))
    cancellations.cancel_tickets(actor, order.id, [2])  # the 21 euros ticket, before payment
    assert card_payments.payment_succeeded(card_confirmed(intent.id)) == "paid, difference refunded"

    stored = orders.get_order(actor, order.id)
    assert stored.paid and (stored.paid_cents, stored.refunded_cents) == (5300, 2100)
    assert [r.amount for r in refunds_at_stripe(intent.id)] == [2100]
    assert metrics.figures(actor, "performance", world.evening.id)["gross_sales_cents"] == 3200
    later = refunds.request_refund(actor, order.id, [1])  # the valid ticket can still be refunded in full
    assert later.state == "succeeded" and int(later.amount_cents) == 3200
    assert sorted(r.amount for r in refunds_at_stripe(intent.id)) == [2100, 3200]
    assert _consistent_with_stripe(actor)


def test_a_lambda_dying_before_the_refund_reaches_stripe_is_finished_by_the_next_delivery(
        actor, world, monkeypatch):
    order, intent = _checkout(actor, world)
    cancellations.cancel_tickets(actor, order.id, [1])
    succeeded = card_confirmed(intent.id)
    real_submit = refunds.submit
    monkeypatch.setattr(refunds, "submit", lambda *a, **k: (_ for _ in ()).throw(RuntimeError("timed out")))
    with pytest.raises(RuntimeError):
        card_payments.payment_succeeded(succeeded)
    assert refunds_at_stripe(intent.id) == []
    monkeypatch.setattr(refunds, "submit", real_submit)

    assert card_payments.payment_succeeded(succeeded) == "already recorded"  # Stripe retries the webhook
    [at_stripe] = refunds_at_stripe(intent.id)
    assert at_stripe.amount == 3200
    assert [r.state for r in refunds.refunds_of_order(actor, order.id)] == ["succeeded"]


def test_a_payment_racing_a_cancellation_ends_paid_or_refunded_never_both(actor, world):
    outcomes = []
    for _ in range(4):
        order, intent = _checkout(actor, world)
        succeeded = card_confirmed(intent.id)
        with ThreadPoolExecutor(max_workers=2) as pool:
            paying = pool.submit(card_payments.payment_succeeded, succeeded)
            cancelling = pool.submit(cancellations.cancel_tickets, actor, order.id, [1])
            outcomes.append(paying.result())
            try:
                cancelling.result()
            except Exception:  # noqa: BLE001 - a cancel losing to the payment may be refused; it changes nothing
                pass
        stored = orders.get_order(actor, order.id)
        back = sum(r.amount for r in refunds_at_stripe(intent.id))
        assert int(stored.paid_cents) == 3200
        assert back == int(stored.refunded_cents) == (0 if stored.paid else 3200)
    assert _consistent_with_stripe(actor)
    assert set(outcomes) <= {"paid", "refunded: nothing valid to pay for"}


def test_staff_cannot_mark_a_card_order_paid(client, staff_headers, actor, world):
    order, _ = _checkout(actor, world)
    details = call(client, "GET", f"/orders/{order.id}", staff_headers)[1]
    assert "mark_paid" not in details["actions"]
    problem = assert_problem(call(client, "POST", f"/orders/{order.id}/mark-paid", staff_headers), 409)
    assert problem["type"] == "/problems/paid-by-card-only"
    assert not orders.get_order(actor, order.id).paid and _payments(actor, order) == []


def test_the_team_hears_of_a_card_order_when_it_is_paid_not_when_it_is_held(actor, world):
    team.create_rule(actor, {"name": "Billetterie", "addresses": ["billetterie@celestins.fr"], "all_tariffs": True})
    order, intent = _checkout(actor, world)

    def team_mails():
        return [n for n in notifications.of_entity(actor, "order", order.id, limit=50, cursor=None).items
                if n.template == "team_new_order"]

    assert team_mails() == []
    card_payments.payment_succeeded(card_confirmed(intent.id))
    assert [n.recipient for n in team_mails()] == ["billetterie@celestins.fr"]
    assert [e.kind for e in ledger.entries_of_order(actor.tenant_id, order.id)] == ["sale"]
