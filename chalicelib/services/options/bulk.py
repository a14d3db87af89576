"""The follow-up's work on many lines, as jobs with progress: remind, release or extend every
line matching the list's filters (displayed or not), and what the schedule found due (remind,
release, expire shop checkouts and carts); plus re-timing every open hold after a policy change.

Each job walks its lines page by page (:func:`~.listing.lines_matching`, or the due actions of
its venue and action) and acts **per order** through the same functions as a single request
(:mod:`.release`, :mod:`.reminders`, :mod:`.deadlines`), so the rules are the same whoever
asks. Every item is safe to run twice (a re-run chunk, two jobs at once, the schedule and
staff together): an order is written under its version and a released line cannot be released
again; a reminder's mail is keyed by its round. The job's summary counts each outcome
(released, skipped locked, skipped kept, skipped paid, failed...).
"""
from __future__ import annotations

import json
from collections import defaultdict
from datetime import datetime
from typing import Callable

from chalicelib.adapters import clock, ids
from chalicelib.models.options import DueAction, HoldLine
from chalicelib.services.jobs.framework import ChunkBudget, ChunkResult, job_kind, start_job
from chalicelib.services.options import deadlines, policy, release, reminders
from chalicelib.services.options.listing import LineFilters, lines_matching
from chalicelib.services.options.outcomes import (
    DONE,
    FAILED,
    SKIPPED_QUIET,
    LineOutcome,
    tally,
)
from chalicelib.services.shared.actors import Actor

REMIND = "options.remind"
RELEASE = "options.release"
EXTEND = "options.extend"
EXPIRE = "options.expire_holds"
EXPIRE_CARTS = "options.expire_carts"
RESCHEDULE = "options.reschedule"
KIND_OF_ACTION = {"remind": REMIND, "release": RELEASE, "expire": EXPIRE, "expire-cart": EXPIRE_CARTS}
PAGE = 25  # lines (or due actions) per Query; a chunk takes pages while its budget lasts
PAGES_PER_CHUNK = 20

OrderAct = Callable[[Actor, str, set[str]], list[LineOutcome]]


def _start_for_filters(actor: Actor, kind: str, filters: LineFilters, **options) -> "object":
    """A job doing ``kind`` for every line matching ``filters`` (``options``: the action's own)."""
    from chalicelib.services.options.listing import check_filters, venue_zone

    check_filters(actor, filters)
    job_id = ids.new_id()
    return start_job(actor, kind, {"filters": filters.as_params(), "zone": venue_zone(actor.tenant_id),
                                   "round": f"job:{job_id}", **options}, job_id=job_id)


def release_all(actor: Actor, filters: LineFilters, *, mail: bool, reason: str | None):
    """Run release for every line matching the filters, displayed or not (a job)."""
    return _start_for_filters(actor, RELEASE, filters, mail=mail, reason=reason or "release for all")


def remind_all(actor: Actor, filters: LineFilters):
    """Remind the buyer of every order with a line matching the filters, once each (a job)."""
    return _start_for_filters(actor, REMIND, filters)


def extend_all(actor: Actor, filters: LineFilters, deadline: datetime, *, reason: str | None):
    """Extend the deadline of every order with a line matching the filters (a job)."""
    return _start_for_filters(actor, EXTEND, filters, deadline=deadline.isoformat(), reason=reason)


def start_for_due(actor: Actor, action: str, *, days: list[str], before: datetime, job_id: str,
                  options: dict) -> "object":
    """The schedule's job for one venue and due action: the due actions of ``days`` up to ``before``."""
    from chalicelib.services.orders.listing import stamp

    return start_job(actor, KIND_OF_ACTION[action], {"due": {"days": days, "before": stamp(before)}, **options},
                     job_id=job_id)


# -- walking the lines -----------------------------------------------------------------------


def _walk(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget, act: OrderAct,
          *, due_action: str | None = None) -> ChunkResult:
    outcomes: list[LineOutcome] = []
    place = cursor or {}
    while budget.take():
        if "filters" in params:
            page, place = _filtered_page(actor, params, place)
            for order_id, lines in _by_order(page).items():
                outcomes += act(actor, order_id, lines)
        else:
            page, place = _due_page(actor, params, place, due_action)
            for item in page:
                done = act(actor, item.order_id, set())
                outcomes += done
                if all(outcome.outcome != FAILED for outcome in done) and _settled(item, done):
                    item.delete()
        if place is None:
            return _result(outcomes, cursor=None)
    return _result(outcomes, cursor=place)


def _by_order(rows: list[HoldLine]) -> dict[str, set[str]]:
    grouped: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        grouped[row.order_id].add(row.line)
    return grouped


def _filtered_page(actor: Actor, params: dict, place: dict) -> tuple[list[HoldLine], dict | None]:
    filters = LineFilters.from_params(params["filters"])
    start = json.loads(place["k"]) if place.get("k") else None
    rows, last = lines_matching(actor, filters, params["zone"], limit=PAGE, start=start)
    return rows, ({"k": json.dumps(last, sort_keys=True)} if last else None)


def _due_page(actor: Actor, params: dict, place: dict, action: str) -> tuple[list[DueAction], dict | None]:
    """A page of this venue's due actions of one kind, day after day, up to the job's time."""
    days, before = params["due"]["days"], params["due"]["before"]
    day_index = int(place.get("d", 0))
    prefix = f"{actor.tenant_id}#{action}#"
    start = json.loads(place["k"]) if place.get("k") else None
    results = DueAction.query(days[day_index], DueAction.due_key.between(prefix, f"{prefix}{before}~"),
                              limit=PAGE, last_evaluated_key=start, consistent_read=True)
    items = list(results)
    last = results.last_evaluated_key
    if last:
        return items, {"d": day_index, "k": json.dumps(last, sort_keys=True)}
    if day_index + 1 < len(days):
        return items, {"d": day_index + 1}
    return items, None


def _settled(item: DueAction, outcomes: list[LineOutcome]) -> bool:
    """Whether the due action is done with (kept when the payment of an expiring hold is under way)."""
    from chalicelib.services.orders.checkout import PAYMENT_UNDER_WAY

    return not (item.action == "expire" and any(outcome.detail == PAYMENT_UNDER_WAY for outcome in outcomes))


def _result(outcomes: list[LineOutcome], *, cursor: dict | None, note: str | None = None) -> ChunkResult:
    counts = tally(outcomes)
    done = counts.get(DONE, 0)
    failed = counts.get(FAILED, 0)
    skipped = sum(count for name, count in counts.items() if name not in (DONE, FAILED))
    last_failure = next((outcome for outcome in reversed(outcomes) if outcome.outcome == FAILED), None)
    if last_failure is not None and note is None:
        note = f"{last_failure.line_id}: {last_failure.detail}"
    return ChunkResult(cursor=cursor, done=done, failed=failed, skipped=skipped, outcomes=counts, note=note)


# -- the kinds -------------------------------------------------------------------------------


@job_kind(RELEASE, max_items=PAGES_PER_CHUNK)
def release_chunk(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    reason = params.get("reason") or ("schedule: deadline passed" if "due" in params else "release for all")

    def act(run_actor: Actor, order_id: str, lines: set[str]) -> list[LineOutcome]:
        return release.release_lines(run_actor, order_id, lines or None, mail=bool(params.get("mail")), reason=reason)

    return _walk(actor, params, cursor, budget, act, due_action="release")


@job_kind(REMIND, max_items=PAGES_PER_CHUNK)
def remind_chunk(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    if "due" in params and policy.quiet_now(actor.tenant_id, clock.now()):
        return _result([LineOutcome("-", SKIPPED_QUIET)], cursor=None,
                       note="the venue's quiet window began: the rest is reminded after it")
    round_id = params.get("round")

    def act(run_actor: Actor, order_id: str, lines: set[str]) -> list[LineOutcome]:
        return [reminders.remind_order(run_actor, order_id, round_id)]

    return _walk(actor, params, cursor, budget, act, due_action="remind")


@job_kind(EXTEND, max_items=PAGES_PER_CHUNK)
def extend_chunk(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    deadline = datetime.fromisoformat(params["deadline"])

    def act(run_actor: Actor, order_id: str, lines: set[str]) -> list[LineOutcome]:
        return [deadlines.extend_deadline(run_actor, order_id, deadline, reason=params.get("reason"))]

    return _walk(actor, params, cursor, budget, act)


@job_kind(EXPIRE, max_items=PAGES_PER_CHUNK)
def expire_chunk(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    from chalicelib.services.orders import checkout

    def act(run_actor: Actor, order_id: str, lines: set[str]) -> list[LineOutcome]:
        what = checkout.expire_hold(run_actor, order_id)
        return [LineOutcome(order_id, DONE if what == checkout.EXPIRED else "skipped_" + what.replace(" ", "_"),
                            what)]

    return _walk(actor, params, cursor, budget, act, due_action="expire")


@job_kind(RESCHEDULE, max_items=PAGES_PER_CHUNK)
def reschedule_chunk(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    """Every open option and reservation of the venue re-timed on its policy of now."""
    outcomes: list[LineOutcome] = []
    place = cursor or {}
    while budget.take():
        order_ids, place = policy.open_holds_page(actor, place, limit=PAGE)
        outcomes += [policy.retime_order(actor, order_id) for order_id in order_ids]
        if place is None:
            return _result(outcomes, cursor=None)
    return _result(outcomes, cursor=place)


@job_kind(EXPIRE_CARTS, max_items=PAGES_PER_CHUNK)
def expire_carts_chunk(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    """The shop's carts whose hold is over give their places back (the due action's id is the cart's)."""
    from chalicelib.services.shop import carts

    def act(run_actor: Actor, cart_id: str, lines: set[str]) -> list[LineOutcome]:
        what = carts.expire_cart(run_actor, cart_id)
        return [LineOutcome(cart_id, DONE if what == carts.EXPIRED else "skipped_" + what.replace(" ", "_"), what)]

    return _walk(actor, params, cursor, budget, act, due_action="expire-cart")
