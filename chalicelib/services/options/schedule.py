"""The follow-up schedule: each venue's policy, and the sweep that finds what is due across venues.

**The policy** (``GET``/``PUT``, admin): remind N days before the deadline, release M days
after it (0 = off), for which kinds (options, reservations), whether the release mails the
buyer, and a quiet window in the venue's zone when no reminder goes out. Saving it re-times
every open option and reservation of the venue (a job), so what is due follows the new policy.

**The sweep** (a schedule every few minutes, and by hand): what each order is owed is kept in
the due-actions index, partitioned by the UTC day it falls due and sorted by venue, action and
time (:mod:`chalicelib.services.orders.follow_up` writes it with the order). The sweep reads the
days from the first one still holding something up to today (a mark remembers where; never a
Scan), and for each venue and action with something due starts **one job**, whose id is derived
from the venue, the action and the sweep's five-minute slot: a sweep run twice in a slot (the
schedule fires at least once) starts nothing more. Reminders wait while the venue's quiet window
lasts, on its local clock, daylight-saving changes included. Expired shop checkouts are due
actions like the others ("expire"), so abandoned carts give their places back.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock, ids
from chalicelib.errors import ConcurrentChange
from chalicelib.models.base import connection, starting_with
from chalicelib.models.options import DueAction, FollowUpPolicy, SweepMark
from chalicelib.services.jobs.framework import start_job, start_once
from chalicelib.services.options import bulk
from chalicelib.services.options import policy as policy_rules
from chalicelib.services.orders import follow_up
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event, snapshot

SWEEP = "follow-up"
SLOT_MINUTES = 5
MAX_DAYS_PER_SWEEP = 400
VENUE_LOOKBACK_DAYS = 62  # the longest a due action can wait for a venue's hand-run: the policy's 60 days, and two
SCHEDULE_SUBJECT = "follow-up-schedule"


# -- the policy ------------------------------------------------------------------------------


def save_policy(actor: Actor, fields: dict, *, retime: bool = True) -> FollowUpPolicy:
    """Replace the venue's policy (audited), then re-time its open holds (a job; ``retime=False``
    when the venue has none yet, as a new venue's set-up)."""
    policy_rules.check_fields(fields)
    current = follow_up.policy_of(actor.tenant_id)
    before = snapshot(current)
    policy = current or FollowUpPolicy(tenant_id=actor.tenant_id)
    for name, value in fields.items():
        setattr(policy, name, set(value) if name == "kinds" else value)
    policy.updated_at, policy.updated_by = clock.now(), actor.subject
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(policy)  # version checked
            transaction.save(audit_event(actor, "follow_up_policy", actor.tenant_id, "update", before,
                                         snapshot(policy)))
    except TransactWriteError as error:
        raise ConcurrentChange("The policy changed meanwhile; reload it and try again.") from error
    if retime and (before is None or policy_rules.timing(before) != policy_rules.timing(snapshot(policy))):
        start_job(actor, bulk.RESCHEDULE, {})
    return policy


# -- the sweep -------------------------------------------------------------------------------


@dataclass
class SweepReport:
    days: list[str]
    due: dict[str, int]  # "tenant action" -> how many actions are due
    started: list[str]  # job ids started now
    waiting: list[str]  # "tenant action" left for later (quiet window)


def _slot(moment: datetime) -> datetime:
    moment = moment.astimezone(timezone.utc)
    return moment.replace(minute=moment.minute - moment.minute % SLOT_MINUTES, second=0, microsecond=0)


def _days(from_day: date, today: date) -> list[str]:
    span = max(0, min((today - from_day).days, MAX_DAYS_PER_SWEEP))
    return [(today - timedelta(days=back)).isoformat() for back in range(span, -1, -1)]


def sweep(moment: datetime | None = None, *, tenant_id: str | None = None) -> SweepReport:
    """Find what is due and start one job per venue and action (module docstring). With
    ``tenant_id``, the same for that venue alone, reading its own part of the last
    ``VENUE_LOOKBACK_DAYS`` days (staff running the schedule by hand)."""
    now = moment or clock.now()
    today = now.astimezone(timezone.utc).date()
    if tenant_id is None:
        mark = _mark()
        days = _days(date.fromisoformat(mark.from_day) if mark else today, today)
    else:
        days = _days(today - timedelta(days=VENUE_LOOKBACK_DAYS), today)
    due: dict[tuple[str, str], list[str]] = {}
    counts: dict[str, int] = {}
    first_pending = None
    for day in days:
        items = (DueAction.query(day, starting_with(DueAction.due_key, f"{tenant_id}#"), consistent_read=True)
                 if tenant_id else DueAction.query(day, consistent_read=True))
        for item in items:
            if item.due_at <= now:
                found = due.setdefault((item.tenant_id, item.action), [])
                if day not in found:
                    found.append(day)
                counts[f"{item.tenant_id} {item.action}"] = counts.get(f"{item.tenant_id} {item.action}", 0) + 1
                first_pending = first_pending or day
    report = SweepReport(days=days, due=counts, started=[], waiting=[])
    for (venue, action), action_days in sorted(due.items()):
        if action == "remind" and policy_rules.quiet_now(venue, now):
            report.waiting.append(f"{venue} {action}")
            continue
        started = _start(venue, action, action_days, now)
        if started:
            report.started.append(started)
    if tenant_id is None:
        _save_mark(first_pending or today.isoformat(), now)
    return report


@dataclass
class VenueRun:
    due: dict[str, int]  # action -> how many are due now
    waiting: list[str]  # actions left for later (the quiet window)
    jobs: list[str]  # the jobs started (none when this slot's were started already)


def run_due_now(actor: Actor) -> VenueRun:
    """The schedule's sweep for the caller's venue, now (the same jobs it would start)."""
    report = sweep(tenant_id=actor.tenant_id)
    return VenueRun(due={key.split(" ", 1)[1]: count for key, count in report.due.items()},
                    waiting=[key.split(" ", 1)[1] for key in report.waiting], jobs=report.started)


def _start(tenant_id: str, action: str, days: list[str], now: datetime) -> str | None:
    actor = Actor.system(tenant_id, SCHEDULE_SUBJECT)
    policy = follow_up.policy_of(tenant_id)
    options = {"mail": bool(policy.release_mail)} if action == "release" and policy is not None else {}
    return start_once(lambda job_id: bulk.start_for_due(actor, action, days=days, before=now, job_id=job_id,
                                                        options=options),
                      ids.derived_id(_slot(now), tenant_id, action), what="follow-up job", tenant_id=tenant_id,
                      action=action).job_id


def _mark() -> SweepMark | None:
    try:
        return SweepMark.get(SWEEP, consistent_read=True)
    except DoesNotExist:
        return None


def _save_mark(from_day: str, now: datetime) -> None:
    SweepMark(sweep=SWEEP, from_day=from_day, swept_at=now).save()
