"""The follow-up schedule over real tables and the real jobs queue: a venue's policy, the sweep
that finds what is due (reminders, releases, expired shop checkouts) and starts one job per
venue and action, once per slot; the quiet window on the venue's clock across a DST change; an
abandoned checkout's places given back, and a payment racing that expiry."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.adapters import clock
from chalicelib.models.catalog import Quota
from chalicelib.models.options import DueAction
from chalicelib.services.mail import notifications
from chalicelib.services.money import card_payments
from chalicelib.services.options import marks, schedule
from chalicelib.services.orders import checkout, follow_up, orders
from chalicelib.services.shared.actors import Actor
from tests.job_helpers import drain, drive
from tests.money_helpers import card_confirmed
from tests.options_helpers import hold
from tests.orders_world import build_world, draft, line

NO_QUIET = {"quiet_from": "00:00", "quiet_until": "00:00"}


@pytest.fixture
def world(actor):
    return build_world(actor, capacity=20)


@pytest.fixture
def admin(actor):
    return Actor(actor.tenant_id, "admin-1", frozenset({"admin"}))


@pytest.fixture(autouse=True)
def real_clock():
    yield
    clock.set_clock(None)


def policy(admin, pump, **fields):
    saved = schedule.save_policy(admin, {"remind_days_before": 5, "release_days_after": 2,
                                         "kinds": ["option", "reservation"], "timezone": "Europe/Paris",
                                         "release_mail": True, **NO_QUIET, **fields})
    drain(pump)  # the re-timing job the new policy started, run now rather than in the middle of a test
    return saved


def run(pump, tenant_id, moment=None):
    """The venue's sweep at ``moment`` (the clock moved there), and every job it started driven to its end."""
    if moment is not None:
        clock.set_clock(clock.frozen_at(moment))
    report = schedule.sweep(moment, tenant_id=tenant_id)
    return report, [drive(pump, tenant_id, job_id) for job_id in report.started]


def sent(actor, order_id):
    return [n.template for n in notifications.of_entity(actor, "order", order_id, limit=20, cursor=None).items]


def remaining(quota):
    return int(Quota.get(quota.tenant_id, quota.id, consistent_read=True).remaining)


def test_the_schedule_reminds_then_releases_and_respects_marks_and_locks(actor, admin, world, pump):
    policy(admin, pump)
    soon, later, locked, kept = (hold(actor, world, line(world), days=days) for days in (3, 10, 3, 3))
    marks.lock(actor, [f"{locked.id}-001"], "school trip")
    marks.set_mark(actor, [f"{kept.id}-001"], "keep")
    assert remaining(world.evening_quota) == 16

    report, jobs = run(pump, actor.tenant_id)
    assert report.due == {f"{actor.tenant_id} remind": 3}  # later's reminder is due in 5 days
    [reminding] = jobs
    assert reminding.outcomes == {"done": 3} and reminding.status == "succeeded"
    assert [sent(actor, o.id) for o in (soon, later, locked, kept)] == [["options_reminder"], [], ["options_reminder"],
                                                                        ["options_reminder"]]
    again, _ = run(pump, actor.tenant_id)
    assert again.started == [] and again.due == {}  # done: the reminders took themselves off the schedule

    six_days_on = clock.now() + timedelta(days=6)
    clock.set_clock(clock.frozen_at(six_days_on))
    report, jobs = run(pump, actor.tenant_id)
    assert report.due == {f"{actor.tenant_id} release": 3, f"{actor.tenant_id} remind": 1}
    outcomes = {job.kind: job.outcomes for job in jobs}
    assert outcomes == {"options.release": {"done": 1, "skipped_locked": 1, "skipped_kept": 1},
                        "options.remind": {"done": 1}}
    assert orders.get_order(actor, soon.id).status == "cancelled"
    assert "options_released" in sent(actor, soon.id)
    assert orders.get_order(actor, locked.id).status == orders.get_order(actor, kept.id).status == "unpaid"
    assert remaining(world.evening_quota) == 17
    assert schedule.sweep(tenant_id=actor.tenant_id).due == {}  # the skipped lines left the schedule

    marks.unlock(actor, [f"{locked.id}-001"], "the school did not pay")  # releasable again, its time passed
    clock.set_clock(clock.frozen_at(six_days_on + timedelta(minutes=schedule.SLOT_MINUTES)))
    report, jobs = run(pump, actor.tenant_id)
    assert [job.outcomes for job in jobs] == [{"done": 1}]
    assert orders.get_order(actor, locked.id).status == "cancelled" and remaining(world.evening_quota) == 18


def test_a_sweep_run_twice_in_its_slot_starts_nothing_more(actor, admin, world, pump):
    moment = clock.now().replace(minute=(clock.now().minute // 5) * 5, second=10, microsecond=0)
    clock.set_clock(clock.frozen_at(moment))
    policy(admin, pump)
    hold(actor, world, days=1)
    first = schedule.sweep(moment, tenant_id=actor.tenant_id)
    second = schedule.sweep(moment + timedelta(minutes=4), tenant_id=actor.tenant_id)
    assert len(first.started) == 1 and second.started == []
    drive(pump, actor.tenant_id, first.started[0])


def test_the_global_sweep_finds_this_venue_without_a_scan(actor, admin, world, pump):
    policy(admin, pump)
    order = hold(actor, world, days=1)
    report = schedule.sweep()
    mine = [job_id for job_id in report.started if _job_of(actor.tenant_id, job_id)]
    assert report.due[f"{actor.tenant_id} remind"] == 1 and len(mine) == 1
    drive(pump, actor.tenant_id, mine[0])
    assert sent(actor, order.id) == ["options_reminder"]


def _job_of(tenant_id, job_id):
    from chalicelib.models.jobs import Job

    try:
        return Job.get(tenant_id, job_id)
    except Job.DoesNotExist:
        return None


@pytest.mark.parametrize("utc_time, quiet", [("2027-03-28T05:55:00", True), ("2027-03-28T06:05:00", False),
                                            ("2027-03-27T06:55:00", True), ("2027-03-27T07:05:00", False)])
def test_reminders_wait_for_the_end_of_the_quiet_window_on_the_venues_clock(actor, admin, world, pump, utc_time,
                                                                            quiet):
    """08:00 in Paris is 07:00 UTC before the change to summer time (28 March 2027) and 06:00 after."""
    clock.set_clock(clock.frozen_at(datetime(2027, 3, 26, 12, 0, tzinfo=timezone.utc)))
    policy(admin, pump, quiet_from="21:00", quiet_until="08:00")
    order = hold(actor, world, days=4)
    report, jobs = run(pump, actor.tenant_id, datetime.fromisoformat(utc_time).replace(tzinfo=timezone.utc))
    assert (report.waiting == [f"{actor.tenant_id} remind"]) is quiet
    assert sent(actor, order.id) == ([] if quiet else ["options_reminder"])


def test_changing_the_policy_moves_what_is_due(actor, admin, world, pump):
    policy(admin, pump, remind_days_before=0, release_days_after=0)
    order = hold(actor, world, days=10)
    assert orders.get_order(actor, order.id).due_actions is None
    saved = policy(admin, pump, remind_days_before=2, release_days_after=1)
    [job] = [j for j in _jobs(actor) if j.kind == "options.reschedule"][:1]
    drive(pump, actor.tenant_id, job.id)
    due = orders.get_order(actor, order.id).due_actions
    assert set(due) == {"remind", "release"} and saved.version
    deadline = orders.get_order(actor, order.id).deadline
    assert follow_up.parse_stamp(due["release"]["at"]) == deadline + timedelta(days=1)
    items = [item for day in {deadline.date() - timedelta(days=2), deadline.date() + timedelta(days=1)}
             for item in DueAction.query(day.isoformat(), DueAction.due_key.startswith(f"{actor.tenant_id}#"))]
    assert sorted(item.action for item in items) == ["release", "remind"]


def _jobs(actor):
    from chalicelib.services.jobs.framework import list_jobs

    return list_jobs(actor, limit=20, cursor=None).items


def test_an_abandoned_checkout_gives_its_places_back_and_its_card_can_no_longer_pay(actor, world, pump):
    made = checkout.start_checkout(actor, draft(world, line(world), line(world)))
    assert remaining(world.evening_quota) == 18
    assert schedule.sweep(tenant_id=actor.tenant_id).due == {}  # its hold is not over
    later = clock.now() + checkout.hold_time() + timedelta(minutes=1)
    report, [job] = run(pump, actor.tenant_id, later)
    assert job.kind == "options.expire_holds" and job.outcomes == {"done": 1}
    assert orders.get_order(actor, made.order.id).status == "cancelled" and remaining(world.evening_quota) == 20
    from chalicelib.adapters import payments

    assert payments.get_intent(made.intent.id).status == "canceled"


def test_a_card_paid_just_before_the_expiry_keeps_its_places(actor, world, pump):
    """Stripe took the money; its webhook has not arrived when the expiry runs: the hold is kept,
    the webhook then completes the order. Exactly one of paid or released."""
    made = checkout.start_checkout(actor, draft(world, line(world)))
    succeeded = card_confirmed(made.intent.id)
    later = clock.now() + checkout.hold_time() + timedelta(minutes=1)
    report, [job] = run(pump, actor.tenant_id, later)
    assert job.outcomes == {"skipped_payment_under_way": 1}
    assert orders.get_order(actor, made.order.id).status == "unpaid"
    assert card_payments.payment_succeeded(succeeded) == "paid"
    assert orders.get_order(actor, made.order.id).status == "complete" and remaining(world.evening_quota) == 19
    assert schedule.sweep(later + timedelta(minutes=10), tenant_id=actor.tenant_id).due == {}


def test_the_app_sweeps_as_often_as_its_jobs_slots_last(app):
    from chalicelib.handlers.options import SWEEP_EVERY_MINUTES

    [sweep_rule] = [source for source in app.event_sources if source.name == "follow_up_sweep"]
    assert sweep_rule.schedule_expression.to_string() == f"rate({SWEEP_EVERY_MINUTES} minutes)"
    assert SWEEP_EVERY_MINUTES == schedule.SLOT_MINUTES


def test_the_schedule_reminds_of_deadlines_to_come_only(actor, admin, world, pump):
    policy(admin, pump)
    past = hold(actor, world, deadline=clock.now() - timedelta(hours=2))
    coming = hold(actor, world, days=2)
    assert set(orders.get_order(actor, past.id).due_actions) == {"release"}
    assert set(orders.get_order(actor, coming.id).due_actions) == {"remind", "release"}
    three_days_on = clock.now() + timedelta(days=3)  # the sweep came late: the deadline passed meanwhile
    report, jobs = run(pump, actor.tenant_id, three_days_on)
    assert {job.kind: job.outcomes for job in jobs}["options.remind"] == {"skipped_deadline_passed": 1}
    assert "options_reminder" not in sent(actor, coming.id)
