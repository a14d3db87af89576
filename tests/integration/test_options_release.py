"""Releasing, marking, locking, extending and reminding held lines, against real tables: places
back on sale at once, a locked line never released nor cancelled by any path, a payment and a
release ending in exactly one of the two, reminders once per round."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from chalicelib.adapters import clock
from chalicelib.errors import Conflict
from chalicelib.models.catalog import Quota
from chalicelib.services.mail import notifications
from chalicelib.services.options import deadlines, marks, release, reminders
from chalicelib.services.options.outcomes import (
    DONE,
    SKIPPED_ALREADY,
    SKIPPED_GONE,
    SKIPPED_KEPT,
    SKIPPED_LOCKED,
    SKIPPED_PAID,
)
from chalicelib.services.orders import cancellations, follow_up, orders
from tests.options_helpers import all_lines, filters, hold
from tests.orders_world import build_world, draft, line


@pytest.fixture
def world(actor):
    return build_world(actor, capacity=10)


def remaining(world):
    return int(Quota.get(world.evening_quota.tenant_id, world.evening_quota.id, consistent_read=True).remaining)


def templates_sent(actor, order_id):
    return sorted(n.template for n in notifications.of_entity(actor, "order", order_id, limit=50, cursor=None).items)


def test_released_places_are_sellable_at_once_and_the_order_follows(actor, world):
    order = hold(actor, world, line(world), line(world), line(world, world.reduced))
    assert remaining(world) == 7
    outcomes = release.release_by_ids(actor, [f"{order.id}-001", f"{order.id}-003"], mail=True, reason="test")
    assert [o.outcome for o in outcomes] == [DONE, DONE]
    assert remaining(world) == 10
    assert orders.get_order(actor, order.id).status == "cancelled"
    assert all_lines(actor, filters(world))[1][:2] == (0, 0)
    assert follow_up.rows_of(actor.tenant_id, order.id) == []
    assert templates_sent(actor, order.id) == ["options_released"]
    sold, _ = orders.place_order(actor, draft(world, *[line(world)] * 10))  # every place back on sale
    assert sold.status == "complete"
    again = release.release_by_ids(actor, [f"{order.id}-001"], mail=True, reason="twice")
    assert [o.outcome for o in again] == [SKIPPED_GONE]


def test_marked_and_locked_lines_stay_and_say_why(actor, world):
    order = hold(actor, world, line(world), line(world, world.reduced), line(world, performance=world.matinee))
    assert marks.set_mark(actor, [f"{order.id}-002"], "keep")[0].outcome == DONE
    assert marks.lock(actor, [f"{order.id}-003"], "VIP guest")[0].outcome == DONE
    preview = release.preview_ids(actor, [f"{order.id}-{n}" for n in ("001", "002", "003")])
    assert (preview.lines, preview.orders, preview.places, preview.amount_cents) == (1, 1, 1, {"EUR": 3200})
    assert preview.skipped == {SKIPPED_KEPT: 1, SKIPPED_LOCKED: 1}
    outcomes = {o.line_id[-3:]: o.outcome for o in
                release.release_by_ids(actor, [f"{order.id}-{n}" for n in ("001", "002", "003")], mail=False, reason="")}
    assert outcomes == {"001": DONE, "002": SKIPPED_KEPT, "003": SKIPPED_LOCKED}
    rows = {row.line: row for row in follow_up.rows_of(actor.tenant_id, order.id)}
    assert sorted(rows) == ["002", "003"] and rows["003"].locked_by == "staff-1" and rows["003"].lock_reason == "VIP guest"
    assert orders.get_order(actor, order.id).status == "unpaid"


def test_the_preview_of_lines_says_each_lines_fate_and_counts_those_no_longer_held(actor, world):
    order = hold(actor, world, line(world), line(world, world.reduced))
    paid = hold(actor, world, line(world))
    marks.lock(actor, [f"{order.id}-002"], "VIP guest")
    orders.mark_paid(actor, paid.id)
    preview = release.preview_ids(actor, [f"{order.id}-001", f"{order.id}-002", f"{paid.id}-001"])
    assert [(row.line, why) for row, why in preview.decisions] == [("001", None), ("002", SKIPPED_LOCKED)]
    assert (preview.lines, preview.places, preview.skipped) == (1, 1, {SKIPPED_LOCKED: 1, SKIPPED_GONE: 1})
    assert remaining(world) == 7  # nothing written
    assert release.preview_all(actor, filters(world)).decisions is None  # "for all" keeps no lines in memory


def test_a_locked_line_refuses_a_staff_cancel_until_unlocked(actor, world):
    order = hold(actor, world, line(world), line(world, world.reduced))
    marks.lock(actor, [f"{order.id}-002"], "waiting for the school's cheque")
    with pytest.raises(Conflict) as refused:
        cancellations.cancel_tickets(actor, order.id, [1, 2])
    assert refused.value.kind == "line-locked"
    assert remaining(world) == 8 and orders.get_order(actor, order.id).cancelled_count == 0
    cancellations.cancel_tickets(actor, order.id, [1])  # the unlocked line may go
    marks.unlock(actor, [f"{order.id}-002"], "cheque lost")
    cancellations.cancel_tickets(actor, order.id, [2])
    assert remaining(world) == 10


def test_a_lock_landing_during_a_release_wins(actor, world, monkeypatch):
    """The release read the line unlocked; the lock commits before the release's transaction:
    the release's write fails on the line's version, reads again and skips the line."""
    order = hold(actor, world, line(world))
    monkeypatch.setattr(follow_up, "rows_of", _locking_once_after(follow_up.rows_of, actor, f"{order.id}-001"))
    outcomes = release.release_by_ids(actor, [f"{order.id}-001"], mail=False, reason="race")
    assert [o.outcome for o in outcomes] == [SKIPPED_LOCKED]
    assert remaining(world) == 9


def _locking_once_after(read, actor, line_id):
    """``read`` as it is, except that its first call is followed by staff locking ``line_id``."""
    locked_once = []

    def then_lock(*args, **kwargs):
        result = read(*args, **kwargs)
        if not locked_once:
            locked_once.append(True)
            marks.lock(actor, [line_id], "just now")
        return result

    return then_lock


def test_a_payment_and_a_release_at_once_end_in_exactly_one(actor, world):
    paid = 0
    for _ in range(6):
        order = hold(actor, world, line(world))
        barrier = threading.Barrier(2)
        results = {}

        def pay():
            barrier.wait()
            try:
                orders.mark_paid(actor, order.id)
                results["paid"] = True
            except Conflict:
                results["paid"] = False

        def free():
            barrier.wait()
            results["released"] = release.release_by_ids(actor, [f"{order.id}-001"], mail=False, reason="race")

        threads = [threading.Thread(target=pay), threading.Thread(target=free)]
        [thread.start() for thread in threads]
        [thread.join() for thread in threads]
        stored = orders.get_order(actor, order.id)
        released = results["released"][0].outcome == DONE
        assert released != results["paid"], results
        assert stored.status == ("complete" if results["paid"] else "cancelled")
        if results["paid"]:
            assert results["released"][0].outcome in (SKIPPED_PAID, SKIPPED_GONE)
        paid += results["paid"]
    assert remaining(world) == 10 - paid


def test_a_lock_committed_after_the_release_read_its_lines_fails_the_release_on_the_lines_version(
        actor, world, monkeypatch):
    """The lock lands between the release's reading of the rows (for its write) and its transaction:
    the transaction's condition on the row's version fails, nothing is written, and the retry skips."""
    from chalicelib.services.orders import settlements

    order = hold(actor, world, line(world))
    monkeypatch.setattr(settlements, "derived_writes",
                        _locking_once_after(settlements.derived_writes, actor, f"{order.id}-001"))
    outcomes = release.release_by_ids(actor, [f"{order.id}-001"], mail=False, reason="race")
    assert [o.outcome for o in outcomes] == [SKIPPED_LOCKED]
    assert remaining(world) == 9 and orders.get_order(actor, order.id).status == "unpaid"


def test_extending_moves_the_line_and_its_counts(actor, world):
    soon = hold(actor, world, line(world), days=2)
    later = hold(actor, world, line(world), days=20)
    before = (clock.now() + timedelta(days=5)).date()
    assert all_lines(actor, filters(world, before=before))[1][0] == 1
    assert deadlines.extend_by_ids(actor, [f"{soon.id}-001"], clock.now() + timedelta(days=10),
                                   reason="asked by phone")[0].outcome == DONE
    assert all_lines(actor, filters(world, before=before))[1][:2] == (0, 0)
    assert all_lines(actor, filters(world))[1][:2] == (2, 2)
    assert [r.order_id for r in all_lines(actor, filters(world))[0]] == [soon.id, later.id]


def test_a_reminder_goes_once_per_round_and_is_shown_on_the_lines(actor, world):
    order = hold(actor, world, line(world), line(world, world.reduced), buyer={
        "first_name": "Nathalie", "last_name": "Roux", "email": "nathalie@exemple.fr"})
    first = reminders.remind_by_ids(actor, [f"{order.id}-001", f"{order.id}-002"])
    assert [o.outcome for o in first] == [DONE]  # one order, one mail
    assert templates_sent(actor, order.id) == ["options_reminder"]
    rows = follow_up.rows_of(actor.tenant_id, order.id)
    assert {(row.reminders, row.reminded_at is not None) for row in rows} == {(1, True)}
    assert reminders.remind_order(actor, order.id, "job:1").outcome == DONE
    assert reminders.remind_order(actor, order.id, "job:1").outcome == SKIPPED_ALREADY  # a re-run of the same round
    assert templates_sent(actor, order.id) == ["options_reminder", "options_reminder"]
    assert {row.reminders for row in follow_up.rows_of(actor.tenant_id, order.id)} == {2}
    mail = notifications.of_entity(actor, "order", order.id, limit=5, cursor=None).items[0]
    assert mail.render_context["lines"][0].endswith("Plein tarif, 1 place")


def test_a_crash_after_the_reminder_went_and_before_it_was_recorded_sends_nothing_more_on_retry(
        actor, world, monkeypatch):
    order = hold(actor, world, line(world), buyer={"last_name": "Roux", "email": "roux@exemple.fr"})
    real = reminders._record
    crashes = []

    def dies_once(*args, **kwargs):
        if not crashes:
            crashes.append(True)
            raise RuntimeError("Lambda timed out")
        return real(*args, **kwargs)

    monkeypatch.setattr(reminders, "_record", dies_once)
    with pytest.raises(RuntimeError):
        reminders.remind_order(actor, order.id, "job:7")
    assert orders.get_order(actor, order.id).reminders == 0
    assert reminders.remind_order(actor, order.id, "job:7").outcome == DONE  # the chunk's retry
    assert templates_sent(actor, order.id) == ["options_reminder"]  # the mail's key found the one sent
    assert orders.get_order(actor, order.id).reminders == 1


def test_an_option_confirmed_by_card_leaves_the_list_when_stripe_says_paid(actor, world):
    from chalicelib.services.money import card_payments
    from chalicelib.services.orders import checkout
    from tests.money_helpers import card_confirmed

    order = hold(actor, world, line(world), line(world, world.reduced))
    made = checkout.card_payment_for_hold(actor, order.id)
    assert made.intent.amount == 5300 and checkout.card_payment_for_hold(actor, order.id).intent.id == made.intent.id
    assert card_payments.payment_succeeded(card_confirmed(made.intent.id)) == "paid"
    assert orders.get_order(actor, order.id).status == "complete"
    assert follow_up.rows_of(actor.tenant_id, order.id) == [] and all_lines(actor, filters(world))[1][:2] == (0, 0)
    with pytest.raises(Conflict):
        checkout.card_payment_for_hold(actor, order.id)


def test_releasing_an_option_being_paid_by_card_cancels_its_intent_first(actor, world):
    from chalicelib.adapters import payments
    from chalicelib.services.orders import checkout
    from tests.money_helpers import card_confirmed

    waiting = hold(actor, world, line(world))
    started = checkout.card_payment_for_hold(actor, waiting.id)
    assert [o.outcome for o in release.release_by_ids(actor, [f"{waiting.id}-001"], mail=False, reason="")] == [DONE]
    assert payments.get_intent(started.intent.id).status == "canceled"  # the card can no longer pay released places

    paying = hold(actor, world, line(world))
    card_confirmed(checkout.card_payment_for_hold(actor, paying.id).intent.id)  # paid; its webhook not arrived yet
    outcome = release.release_by_ids(actor, [f"{paying.id}-001"], mail=False, reason="")[0]
    assert (outcome.outcome, outcome.detail) == (SKIPPED_PAID, "card payment under way")
    assert orders.get_order(actor, paying.id).status == "unpaid" and remaining(world) == 9


def test_a_release_that_releases_nothing_leaves_a_card_payment_alone(actor, world):
    from chalicelib.adapters import payments
    from chalicelib.services.orders import checkout

    kept = hold(actor, world, line(world))
    marks.lock(actor, [f"{kept.id}-001"], "paying by card at the counter")
    started = checkout.card_payment_for_hold(actor, kept.id)
    assert [o.outcome for o in release.release_by_ids(actor, [f"{kept.id}-001"], mail=False, reason="")] == \
        [SKIPPED_LOCKED]
    assert payments.get_intent(started.intent.id).status != "canceled"  # the buyer can still pay
