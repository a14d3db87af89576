"""The tacit-renewal notice (Code de la consommation, L215-1): told no earlier than three months
and no later than one month before the refusal deadline, on the venue's clock (the window opens
in winter time and closes in summer time), once per payer's order whatever re-runs, and a
renewal without it may be left at any time."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from chalicelib.adapters import clock
from chalicelib.models.options import SweepMark
from chalicelib.models.subscriptions import RenewalNoticeDue
from chalicelib.services.mail import notifications
from chalicelib.services.subscriptions import renewal_notice, terms
from tests.job_helpers import drive
from tests.renewals_world import PLANS, Seasons, contact_named, renewal_of, saved_card

DEADLINE = date(2027, 5, 31)
OPENS = datetime(2027, 2, 27, 23, 0, tzinfo=timezone.utc)  # 28 February 2027, 00:00 in Paris (winter time)
CLOSES = datetime(2027, 4, 30, 22, 0, tzinfo=timezone.utc)  # 1 May 2027, 00:00 in Paris (summer time)


@pytest.fixture(autouse=True)
def clock_back():
    yield
    clock.set_clock(None)


def _with_deadline(actor, seasons, deadline=DEADLINE):
    world = seasons.world
    terms.set_terms(actor, seasons.source.id, {
        "performances": [{"performance_id": world.evening.id, "quota_id": world.evening_quota.id}],
        "choose": None, "delivery_modes": ["new_card", "print_at_home", "box_office"], "payment_plans": PLANS,
        "refusal_deadline": deadline})


def _sweep_and_run(actor, pump, moment) -> list[str]:
    report = renewal_notice.sweep(moment)
    for job_id in report.started:
        assert drive(pump, actor.tenant_id, job_id).status == "succeeded"
    return report.started


def _notices(actor, subscription) -> list:
    return [mail for mail in notifications.of_entity(actor, "subscription", subscription.id, limit=20,
                                                     cursor=None).items if mail.template == "renewal_notice"]


def test_payers_are_told_once_inside_the_window(actor, pump):
    seasons = Seasons(actor)
    _with_deadline(actor, seasons)
    anne, paul, lea = contact_named(actor, "Anne"), contact_named(actor, "Paul"), contact_named(actor, "Lea")
    for_two = seasons.sell(actor, anne, anne, paul)
    alone = seasons.sell(actor, lea)
    SweepMark(sweep=renewal_notice.SWEEP, from_day="2027-02-01", swept_at=OPENS).save()
    entries = [entry for entry in RenewalNoticeDue.query("2027-02-28") if entry.product_id == seasons.source.id]
    assert [(entry.opens_at, entry.closes_at) for entry in entries] == [(OPENS, CLOSES)]

    def started_for_us(moment) -> bool:
        clock.set_clock(clock.frozen_at(moment))  # the schedule fires, and its jobs run, then
        ours = [job_id for job_id in renewal_notice.sweep(moment).started if _ours(actor, job_id)]
        return all(drive(pump, actor.tenant_id, job_id).status == "succeeded" for job_id in ours) and bool(ours)

    assert not started_for_us(datetime(2027, 2, 27, 22, 59, tzinfo=timezone.utc))  # 23:59 on the 27th in Paris
    assert started_for_us(OPENS)
    first, second = for_two.subscriptions
    sent = _notices(actor, first) + _notices(actor, second)
    assert len(sent) == 1  # one mail for the payer's order, naming both holders
    mail = sent[0]
    assert mail.recipient == "anne@exemple.fr" and "31 mai 2027" in mail.subject
    assert "Paul Martin" in mail.render_context["holder_names"]
    assert len(_notices(actor, alone.subscriptions[0])) == 1
    for sub in (first, second, alone.subscriptions[0]):
        sub.refresh(consistent_read=True)
        assert sub.renewal_notice_at == OPENS
    assert not started_for_us(OPENS)  # the same day: no second job
    assert started_for_us(datetime(2027, 3, 15, 9, tzinfo=timezone.utc))  # another day: a job that tells nobody
    assert len(_notices(actor, first) + _notices(actor, second)) == 1
    assert len(_notices(actor, alone.subscriptions[0])) == 1


def _ours(actor, job_id) -> bool:
    from chalicelib.models.jobs import Job

    try:
        Job.get(actor.tenant_id, job_id)
        return True
    except Job.DoesNotExist:
        return False


def test_a_renewal_without_the_notice_may_be_left_at_any_time(actor, pump):
    seasons = Seasons(actor)
    _with_deadline(actor, seasons)
    told, untold = contact_named(actor, "Anne"), contact_named(actor, "Paul")
    for person in (told, untold):
        saved_card(actor, person)
    told_sale = seasons.sell(actor, told)
    renewal_notice.tell(actor, seasons.source, terms.get_terms(actor, seasons.source.id), told_sale.subscriptions[0])
    untold_sale = seasons.sell(actor, untold)  # sold after the window closed: never told
    assert renewal_notice.sweep(datetime(2027, 5, 2, tzinfo=timezone.utc)).closed >= 1
    assert not [entry for entry in RenewalNoticeDue.query("2027-02-28") if entry.product_id == seasons.source.id]
    seasons.run(actor, pump)
    assert renewal_of(actor, told_sale.subscriptions[0]).may_leave_anytime is False
    assert renewal_of(actor, untold_sale.subscriptions[0]).may_leave_anytime is True


def test_a_new_deadline_files_a_new_window_and_forgets_the_old(actor):
    seasons = Seasons(actor)
    _with_deadline(actor, seasons)
    _with_deadline(actor, seasons, date(2027, 6, 30))
    assert not [e for e in RenewalNoticeDue.query("2027-02-28") if e.product_id == seasons.source.id]
    moved = [e for e in RenewalNoticeDue.query("2027-03-30") if e.product_id == seasons.source.id]
    assert len(moved) == 1 and moved[0].opens_at == datetime(2027, 3, 29, 22, 0, tzinfo=timezone.utc)  # summer time
