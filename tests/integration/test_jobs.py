"""Jobs end to end: chunks on the real jobs queue (moto) fed to the app's handler by the event
pump, the Job item on DynamoDB Local.

The test kind processes ``params["items"]`` numbered items, three per chunk. Each item's
effect is a ``UniqueKey`` claim written only if absent, so "done exactly once" is checked
on the effects (one claim per item) and on the counters, while ``ACTED`` records every time
an item was acted on, repeats included (at-least-once items made safe by idempotence).
"""
from __future__ import annotations

import json

import pytest
from pynamodb.exceptions import PutError

from chalicelib.adapters import queue
from chalicelib.config import settings
from chalicelib.errors import Conflict
from chalicelib.models.base import tenant_key
from chalicelib.models.jobs import CANCELLED, FAILED, RUNNING, SUCCEEDED
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.services.jobs import framework as jobs
from chalicelib.services.jobs.framework import ChunkResult, JobFailed, JobNotQueued, job_kind
from chalicelib.services.shared import audit
from tests.job_helpers import drain, drive, run_until, stored

ITEM = "test_job_item"
ACTED: list[tuple[str, int]] = []
CRASHED: dict[str, int] = {}


def _claim(tenant_id: str, job_id: str, index: int) -> None:
    """The item's effect, idempotent: a second run finds the claim taken and changes nothing."""
    ACTED.append((job_id, index))
    claim = UniqueKey(key=tenant_key(tenant_id, ITEM, job_id, str(index)), entity_type=ITEM, entity_id=job_id,
                      label="item")
    try:
        claim.save(condition=UniqueKey.key.does_not_exist())
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


def _crash_now(params: dict, job_id: str, seq: int) -> bool:
    if seq not in params.get("crash_in_chunks", ()) or CRASHED.get(job_id, 0) >= params.get("crashes", 0):
        return False
    CRASHED[job_id] = CRASHED.get(job_id, 0) + 1
    return True


@job_kind("test.claim_items", max_items=3)
def claim_items(actor, params, cursor, budget):
    start = position = cursor["next"] if cursor else 0
    while position < params["items"] and budget.take():
        _claim(actor.tenant_id, budget.job_id, position)
        position += 1
        if _crash_now(params, budget.job_id, budget.seq):  # after acting on one item: it will be redone
            raise RuntimeError("boom")
        if params.get("cancel_in_chunk") == budget.seq and position == start + 1:  # staff cancel meanwhile
            jobs.cancel_job(actor, budget.job_id)
    finished = position >= params["items"]
    return ChunkResult(done=position - start, total=params["items"], note=f"reached item {position}",
                       cursor=None if finished else {"next": position})


@job_kind("test.printer_on_fire")
def printer_on_fire(actor, params, cursor, budget):
    raise RuntimeError("printer on fire")


@job_kind("test.target_gone")
def target_gone(actor, params, cursor, budget):
    raise JobFailed("the performance was deleted")


@pytest.fixture
def pump(app, monkeypatch):
    """The event pump over the real app, crashed chunks retried at once (not after 10 s)."""
    from devtools.event_pump import EventPump

    monkeypatch.setattr(jobs, "RETRY_DELAYS_SECONDS", (0,))
    feeder = EventPump(app)
    feeder.prepare()  # the jobs queue exists before a job is started
    return feeder


def claimed(tenant_id: str, job_id: str, count: int) -> set[int]:
    """Which of items 0..count (one past the end, to catch extras) have their effect."""
    keys = [tenant_key(tenant_id, ITEM, job_id, str(index)) for index in range(count + 1)]
    return {int(claim.key.rsplit("#", 1)[1]) for claim in UniqueKey.batch_get(keys)}


def acted(job_id: str) -> list[int]:
    return sorted(index for acted_job, index in ACTED if acted_job == job_id)


def test_a_job_does_every_item_once_in_chunks_and_succeeds(actor, pump):
    job = jobs.start_job(actor, "test.claim_items", {"items": 10})
    assert stored(actor.tenant_id, job.id).status == "queued"

    ended = drive(pump, actor.tenant_id, job.id)

    assert ended.status == SUCCEEDED and ended.finished_at >= ended.started_at
    assert (ended.done, ended.failed, ended.skipped, ended.total) == (10, 0, 0, 10)
    assert ended.chunk_seq == 4 and ended.cursor is None and ended.percent == 100.0
    assert claimed(actor.tenant_id, job.id, 10) == set(range(10))
    assert acted(job.id) == list(range(10))
    assert ended.notes[-1].text == "reached item 10"
    [started] = audit.history(actor, "job", job.id, limit=10, cursor=None).items
    assert started.action == "start" and started.actor == "staff-1"


def test_duplicate_chunk_messages_are_neither_run_nor_counted_twice(actor, pump):
    job = jobs.start_job(actor, "test.claim_items", {"items": 9})
    run_until(pump, actor.tenant_id, job.id, lambda current: current.chunk_seq == 1)
    queue.send(settings.jobs_queue, jobs.chunk_message(job, 0))  # a chunk already counted
    queue.send(settings.jobs_queue, jobs.chunk_message(job, 1))  # a second copy of the pending one

    ended = drive(pump, actor.tenant_id, job.id)

    assert ended.status == SUCCEEDED and (ended.done, ended.chunk_seq) == (9, 3)
    assert claimed(actor.tenant_id, job.id, 9) == set(range(9))
    assert acted(job.id) == list(range(9))


def test_a_continuation_lost_after_the_record_is_sent_again_by_the_redelivered_message(actor, pump, monkeypatch):
    real_send = queue.send
    refused = []

    def send_refusing_first_continuation(name, payload, **options):
        if payload["seq"] == 1 and not refused:
            refused.append(payload)
            raise ConnectionError("SQS unreachable")
        return real_send(name, payload, **options)

    monkeypatch.setattr(queue, "send", send_refusing_first_continuation)
    job = jobs.start_job(actor, "test.claim_items", {"items": 6})
    recorded = run_until(pump, actor.tenant_id, job.id, lambda current: current.chunk_seq == 1)
    assert refused and recorded.status == RUNNING and recorded.done == 3

    ended = drive(pump, actor.tenant_id, job.id)

    assert ended.status == SUCCEEDED and ended.done == 6
    assert acted(job.id) == list(range(6)), "chunk 0 was run again instead of only resending its continuation"


def test_a_crashing_chunk_is_retried_from_its_cursor_then_the_job_succeeds(actor, pump):
    job = jobs.start_job(actor, "test.claim_items", {"items": 7, "crash_in_chunks": [1], "crashes": 2})

    ended = drive(pump, actor.tenant_id, job.id)

    assert ended.status == SUCCEEDED and (ended.done, ended.failed, ended.attempts) == (7, 0, 0)
    assert claimed(actor.tenant_id, job.id, 7) == set(range(7))
    assert acted(job.id) == [0, 1, 2, 3, 3, 3, 4, 5, 6], "item 3 is acted on by each run of chunk 1"
    assert ended.last_error == "RuntimeError: boom"
    assert [note.text for note in ended.notes if "attempt" in note.text] == [
        "chunk 1, attempt 1: RuntimeError: boom (will retry)", "chunk 1, attempt 2: RuntimeError: boom (will retry)"]


def test_a_job_that_always_crashes_ends_failed_with_its_error_after_the_attempts_limit(actor, pump, monkeypatch):
    monkeypatch.setattr(jobs, "MAX_CHUNK_ATTEMPTS", 3)
    job = jobs.start_job(actor, "test.printer_on_fire", {})

    ended = drive(pump, actor.tenant_id, job.id)

    assert ended.status == FAILED and ended.attempts == 3 and ended.finished_at is not None
    assert ended.last_error == "RuntimeError: printer on fire"
    assert ended.notes[-1].text.endswith("(giving up)") and ended.chunk_seq == 0


def test_a_kind_that_gives_up_fails_the_job_at_once_without_retries(actor, pump):
    job = jobs.start_job(actor, "test.target_gone", {})

    ended = drive(pump, actor.tenant_id, job.id)

    assert ended.status == FAILED and ended.attempts == 0 and ended.last_error == "the performance was deleted"


def test_deliveries_that_die_without_recording_fail_the_job(actor, pump):
    job = jobs.start_job(actor, "test.claim_items", {"items": 3})
    record = {"messageId": "m-1", "body": json.dumps(jobs.chunk_message(job, 0)),
              "attributes": {"ApproximateReceiveCount": str(jobs.MAX_DELIVERIES + 1)}}

    assert jobs.run_next_chunk(record) == "failed"

    ended = stored(actor.tenant_id, job.id)
    assert ended.status == FAILED and "never completed" in ended.last_error and acted(job.id) == []
    drain(pump)  # the real message now meets an ended job


def test_cancel_stops_the_job_before_its_next_chunk(actor, pump):
    job = jobs.start_job(actor, "test.claim_items", {"items": 9})
    run_until(pump, actor.tenant_id, job.id, lambda current: current.chunk_seq == 1)

    cancelled = jobs.cancel_job(actor, job.id, reason="wrong performance")
    ended = drive(pump, actor.tenant_id, job.id)

    assert cancelled.status == ended.status == CANCELLED and ended.cancelled_by == "staff-1"
    assert ended.done == 3 and claimed(actor.tenant_id, job.id, 9) == {0, 1, 2}
    assert ended.notes[-1].text == "cancelled by staff-1: wrong performance"
    with pytest.raises(Conflict):
        jobs.cancel_job(actor, job.id)
    history = audit.history(actor, "job", job.id, limit=10, cursor=None).items
    assert [event.action for event in history] == ["start", "cancel"]


def test_a_cancel_during_a_chunk_keeps_what_the_chunk_did_and_queues_nothing_more(actor, pump):
    job = jobs.start_job(actor, "test.claim_items", {"items": 9, "cancel_in_chunk": 1})

    ended = drive(pump, actor.tenant_id, job.id)

    assert ended.status == CANCELLED and ended.chunk_seq == 2
    assert ended.done == 6 and claimed(actor.tenant_id, job.id, 9) == set(range(6))


def test_a_job_whose_first_chunk_cannot_be_queued_is_failed_not_left_queued(actor, monkeypatch):
    def unreachable(name, payload, **options):
        raise ConnectionError("SQS unreachable")

    monkeypatch.setattr(queue, "send", unreachable)
    with pytest.raises(JobNotQueued):
        jobs.start_job(actor, "test.claim_items", {"items": 1})

    [job] = jobs.list_jobs(actor, limit=5, cursor=None).items
    assert job.status == FAILED and "SQS unreachable" in job.last_error


def test_unknown_kinds_and_oversized_params_are_refused_before_anything_is_written(actor):
    with pytest.raises(ValueError, match="unknown job kind"):
        jobs.start_job(actor, "test.no_such_kind", {})
    with pytest.raises(ValueError, match="keep ids"):
        jobs.start_job(actor, "test.claim_items", {"items": 1, "blob": "x" * 20_000})
    assert jobs.list_jobs(actor, limit=5, cursor=None).items == []


@pytest.mark.parametrize("record,outcome", [
    ({"messageId": "m", "body": "not json"}, "malformed"),
    ({"messageId": "m", "body": json.dumps({"v": 1, "tenant_id": "../x", "job_id": "y", "seq": 0})}, "malformed"),
    ({"messageId": "m", "body": json.dumps({"v": 1, "tenant_id": "t-1", "job_id": "01J00000000000000000000000",
                                             "seq": 0})}, "missing"),
])
def test_malformed_and_unknown_messages_are_acknowledged(record, outcome):
    assert jobs.run_next_chunk(record) == outcome
