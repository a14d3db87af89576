"""A locked line is never released, whoever runs the release and however many run at once.

Property-style, over seeded random venues: options of one to three lines, each line randomly
left as is, marked *do not release* or locked; then, all at the same time, two "release for
all" jobs, the schedule's release job, and staff trying to cancel the locked lines. After:
no locked or kept line lost a place, every other due line is released exactly once, the
quota's places add up, and the counters agree with the list."""
from __future__ import annotations

import random
import threading
from datetime import timedelta

import pytest

from chalicelib.adapters import clock
from chalicelib.errors import Conflict
from chalicelib.models.catalog import Quota
from chalicelib.models.options import DueAction
from chalicelib.services.jobs.framework import ChunkBudget
from chalicelib.services.options import bulk, marks, schedule
from chalicelib.services.orders import cancellations, follow_up, orders
from chalicelib.services.shared.actors import Actor
from tests.options_helpers import all_lines, filters, hold
from tests.orders_world import build_world, line


@pytest.fixture(autouse=True)
def real_clock():
    yield
    clock.set_clock(None)


def _run_kind(run_chunk, actor, params):
    cursor, seq = None, 0
    while True:
        result = run_chunk(actor, params, cursor, ChunkBudget(job_id=f"prop-{id(params)}", seq=seq, max_items=3,
                                                              seconds=60))
        if result.cursor is None:
            return
        cursor, seq = result.cursor, seq + 1


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_no_locked_or_kept_line_is_released_by_any_path_at_once(seed, tenant, pump):
    rng = random.Random(seed)
    actor = Actor(tenant, "staff-1", frozenset({"staff"}))
    admin = Actor(tenant, "admin-1", frozenset({"admin"}))
    world = build_world(actor, capacity=200)
    schedule.save_policy(admin, {"remind_days_before": 0, "release_days_after": 1, "kinds": ["option"],
                                 "quiet_from": "00:00", "quiet_until": "00:00", "timezone": "Europe/Paris",
                                 "release_mail": False})
    choices = [line(world), line(world, world.reduced), line(world, performance=world.matinee)]
    state = {}
    for _ in range(18):
        order = hold(actor, world, *rng.sample(choices, rng.randint(1, 3)) * rng.randint(1, 2), days=1)
        for row in follow_up.rows_of(actor.tenant_id, order.id):
            fate = rng.choice(["release", "release", "keep", "lock"])
            line_id = f"{order.id}-{row.line}"
            if fate == "keep":
                marks.set_mark(actor, [line_id], "keep")
            elif fate == "lock":
                marks.lock(actor, [line_id], "property")
            state[line_id] = (fate, sorted(int(p) for p in row.positions))
    places_before = _remaining(world)
    clock.set_clock(clock.frozen_at(clock.now() + timedelta(days=3)))

    chosen = filters(world, before=(clock.now() + timedelta(days=1)).date())
    filter_params = {"filters": chosen.as_params(), "zone": "Europe/Paris", "mail": False}
    due_days = [(clock.now() - timedelta(days=d)).date().isoformat() for d in range(3, -1, -1)]
    owed = [item for day in due_days for item in DueAction.query(day, DueAction.due_key.startswith(f"{tenant}#"))]
    assert sorted(item.order_id for item in owed) == sorted({line_id.split("-")[0] for line_id in state})
    due_params = {"due": {"days": due_days, "before": follow_up.stamp(clock.now())}, "mail": False}
    locked = [line_id for line_id, (fate, _) in state.items() if fate == "lock"]

    def staff_cancels():
        for line_id in locked:
            order_id = line_id.split("-")[0]
            with pytest.raises(Conflict):
                cancellations.cancel_tickets(actor, order_id, state[line_id][1])

    runners = [threading.Thread(target=_run_kind, args=(bulk.release_chunk, actor, filter_params)),
               threading.Thread(target=_run_kind, args=(bulk.release_chunk, actor, dict(filter_params))),
               threading.Thread(target=_run_kind, args=(bulk.release_chunk, Actor.system(tenant, "schedule"),
                                                        due_params)),
               threading.Thread(target=staff_cancels)]
    errors = []
    for runner in runners:
        runner.run = _catching(runner.run, errors)
        runner.start()
    for runner in runners:
        runner.join()
    assert errors == []

    freed = 0
    for line_id, (fate, positions) in state.items():
        order_id, number = line_id.split("-")
        tickets = {int(t.position): t for t in orders.tickets_of(orders.get_order(actor, order_id))}
        states = {tickets[position].state for position in positions}
        rows = {row.line: row for row in follow_up.rows_of(tenant, order_id)}
        if fate == "release":
            assert states == {"cancelled"} and number not in rows, (seed, line_id)
            freed += len(positions)
        else:
            assert states == {"valid"} and sorted(rows[number].positions) == positions, (seed, line_id, fate)
    assert sum(_remaining(world).values()) - sum(places_before.values()) == freed  # each place freed once
    rows, (count, places, _) = all_lines(actor, filters(world))
    kept = [line_id for line_id, (fate, _) in state.items() if fate != "release"]
    assert sorted(f"{row.order_id}-{row.line}" for row in rows) == sorted(kept)
    assert (count, places) == (len(kept), sum(len(state[line_id][1]) for line_id in kept))


def _remaining(world):
    return {quota.id: int(Quota.get(quota.tenant_id, quota.id, consistent_read=True).remaining)
            for quota in (world.evening_quota, world.matinee_quota)}


def _catching(run, errors):
    def wrapped():
        try:
            run()
        except BaseException as error:  # noqa: BLE001 - reported by the test's own assertion
            errors.append(repr(error))
    return wrapped
