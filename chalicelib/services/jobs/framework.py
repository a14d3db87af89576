"""The job framework: starting, reading, listing and cancelling jobs, and running their chunks
exactly once (the design is in the package's docstring, :mod:`chalicelib.services.jobs`)."""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Callable

from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.adapters import clock, ids, queue
from chalicelib.config import settings
from chalicelib.errors import ConcurrentChange, Conflict, DomainError, Duplicate
from chalicelib.models.base import TENANT_ID_PATTERN
from chalicelib.models.jobs import CANCELLED, FAILED, PAUSED, QUEUED, RUNNING, SUCCEEDED, Job, JobNote
from chalicelib.observability import logger
from chalicelib.services.jobs.wiring import import_kind_modules
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import snapshot, write_audited
from chalicelib.services.shared.paging import Page, paged
from chalicelib.services.shared.records import get_record

MAX_CHUNK_ATTEMPTS = 5
# Backstop for deliveries that die before recording anything (time limit, memory). Higher than
# the attempts: Lambda throttling also returns messages to the queue, raising their receive count.
MAX_DELIVERIES = 10
RETRY_DELAYS_SECONDS = (10, 60, 300, 900)  # before the 2nd, 3rd, 4th... attempt of a chunk
SAFETY_MARGIN_SECONDS = 60
DEFAULT_MAX_ITEMS = 500
SECONDS_WITHOUT_CONTEXT = 60  # a chunk run outside Lambda (a script) gets a Lambda's default minute
MAX_NOTES = 20
MAX_NOTE_CHARS = 500
MAX_ERROR_CHARS = 2000
MAX_STATE_CHARS = 16_000  # params and cursor, as JSON: the item and the message stay small
MESSAGE_VERSION = 1
UPDATE_ATTEMPTS = 8
CANCEL_ATTEMPTS = 5
_KIND_NAME = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


class JobFailed(Exception):
    """Raised by a kind to end its job as failed now, without retries (e.g. the performance
    its params name was deleted). The message is shown to staff as the job's error."""


class JobNotQueued(DomainError):
    status = 503
    kind = "job-not-queued"
    title = "The job could not be queued; please retry"
    title_fr = "La tâche n'a pas pu être mise en file ; réessayez"


# -- what a kind gets and returns ------------------------------------------------------------


class ChunkBudget:
    """How much one chunk may do, and which chunk it is.

    ``take()`` before each item: ``False`` means stop here and return a cursor to the next
    item. The first item is always granted, so every chunk makes progress. ``items_left``
    sizes a page query. ``job_id`` (and ``seq``) key the items' idempotency.
    """

    def __init__(self, *, job_id: str, seq: int, max_items: int, seconds: float,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.job_id = job_id
        self.seq = seq
        self.max_items = max_items
        self.taken = 0
        self._monotonic = monotonic
        self._deadline = monotonic() + seconds

    @classmethod
    def for_lambda(cls, context: Any, *, job_id: str, seq: int, max_items: int) -> "ChunkBudget":
        """The budget of a chunk run by a Lambda with ``context`` (its remaining time)."""
        remaining = _remaining_seconds(context)
        margin = min(SAFETY_MARGIN_SECONDS, remaining / 2)
        return cls(job_id=job_id, seq=seq, max_items=max_items, seconds=remaining - margin)

    @property
    def items_left(self) -> int:
        return max(0, self.max_items - self.taken)

    @property
    def seconds_left(self) -> float:
        return max(0.0, self._deadline - self._monotonic())

    def take(self) -> bool:
        """May the chunk start one more item? If so it is counted against the budget."""
        if self.taken and (self.taken >= self.max_items or self._monotonic() >= self._deadline):
            return False
        self.taken += 1
        return True


def _remaining_seconds(context: Any) -> float:
    remaining = getattr(context, "get_remaining_time_in_millis", None)
    return remaining() / 1000.0 if callable(remaining) else float(SECONDS_WITHOUT_CONTEXT)


@dataclass(frozen=True, kw_only=True)
class ChunkResult:
    """What one chunk did. ``cursor`` is required: ``None`` says the job is finished."""

    cursor: dict | None
    done: int = 0
    failed: int = 0
    skipped: int = 0
    total: int | None = None
    note: str | None = None
    outcomes: dict[str, int] = field(default_factory=dict)  # the kind's own finer counts, added up

    def __post_init__(self) -> None:
        counts = (self.done, self.failed, self.skipped, *self.outcomes.values()) + (
            () if self.total is None else (self.total,))
        if any(not isinstance(count, int) or count < 0 for count in counts):
            raise ValueError(f"chunk counts must be non-negative integers: {self}")
        if self.cursor is not None and not isinstance(self.cursor, dict):
            raise ValueError("a chunk cursor is a dict (or None when finished)")

    @property
    def processed(self) -> int:
        return self.done + self.failed + self.skipped


RunChunk = Callable[[Actor, dict, "dict | None", ChunkBudget], ChunkResult]
OnEnd = Callable[[Job], None]


@dataclass(frozen=True)
class JobKind:
    name: str
    run_chunk: RunChunk
    max_items: int
    on_end: OnEnd | None = None


KINDS: dict[str, JobKind] = {}


def job_kind(name: str, *, max_items: int = DEFAULT_MAX_ITEMS,
             on_end: OnEnd | None = None) -> Callable[[RunChunk], RunChunk]:
    """Register ``run_chunk(actor, params, cursor, budget) -> ChunkResult`` as the kind ``name``
    (dotted, e.g. ``"mail.resend_confirmations"``); a chunk takes at most ``max_items`` items.

    ``on_end(job)``, if given, is called when a job of this kind ends unfinished (failed or
    cancelled), with the job as recorded then (its last cursor): it releases what the chunks
    hold (an unfinished upload). Best effort: it must tolerate running twice or too late, and
    its errors are only logged."""
    if not _KIND_NAME.match(name) or len(name) > 80:
        raise ValueError(f"a job kind is named like 'area.action': {name!r}")
    if max_items < 1:
        raise ValueError("max_items must be at least 1")

    def register(run_chunk: RunChunk) -> RunChunk:
        known = KINDS.get(name)
        if known is not None and _origin(known.run_chunk) != _origin(run_chunk):
            raise ValueError(f"job kind {name!r} is already defined by {_origin(known.run_chunk)}")
        KINDS[name] = JobKind(name, run_chunk, max_items, on_end)
        return run_chunk

    return register


def walk_pages(budget: ChunkBudget, cursor: dict | None, run_query: Callable[[dict | None], Any],
               handle: Callable[[list], None]) -> dict | None:
    """A chunk over a Query's pages: ``handle(items)`` on each page of ``run_query(start_key)``
    (a PynamoDB result iterator) while the budget grants an item per page; the cursor to resume
    from, or ``None`` when the Query is done."""
    start = json.loads(cursor["k"]) if cursor and cursor.get("k") else None
    while budget.take():
        results = run_query(start)
        handle(list(results))
        start = results.last_evaluated_key
        if not start:
            return None
    return {"k": json.dumps(start, sort_keys=True)}


def _origin(function: Callable) -> str:
    return f"{function.__module__}.{function.__qualname__}"


def kind_named(name: str) -> JobKind | None:
    import_kind_modules()
    return KINDS.get(name)


# -- staff side: start, read, list, cancel ---------------------------------------------------


def start_job(actor: Actor, kind: str, params: dict, *, delay_seconds: int = 0, job_id: str | None = None) -> Job:
    """Record a queued job (audited, on behalf of ``actor``) and queue its first chunk (to run
    after ``delay_seconds``, e.g. to retry a call a service refused for now). ``job_id``, when
    the caller recorded the job's id beforehand (so its own record never changes after the
    job may have started).

    Unknown kinds and oversized params are programming errors (``ValueError``). If the queue
    refuses the message, the job is marked failed and :class:`JobNotQueued` (503) is raised.
    """
    if kind_named(kind) is None:
        raise ValueError(f"unknown job kind {kind!r}")
    _check_state_size("params", params)
    job = Job(tenant_id=actor.tenant_id, id=job_id or ids.new_id(), kind=kind, params=params, status=QUEUED,
              created_by=actor.subject, created_by_roles=set(actor.roles) or None)
    write_audited(actor, job, action="start", before=None, condition=Job.id.does_not_exist())
    try:
        queue.send(settings.jobs_queue, chunk_message(job, 0), delay_seconds=delay_seconds)
    except Exception as error:  # noqa: BLE001 - whatever the cause, the job must not stay "queued"
        _mark_unqueued(job, error)
        raise JobNotQueued(f"Job {job.id} could not be queued: {error}") from error
    return job


@dataclass(frozen=True)
class ScheduledStart:
    job_id: str | None  # the job started now; None when it was there already, or could not start
    failed: bool = False  # starting it failed (logged): the next sweep tries again


def start_once(start: Callable[[str], Any], job_id: str, *, what: str, **context: str) -> ScheduledStart:
    """``start(job_id)`` for a job a schedule starts, its id derived from its slot (the venue and
    the hour, the day...): a second sweep in the slot finds it there and starts nothing. Any
    other failure is logged (``what`` not started, with ``context``) and left to the next sweep,
    so one venue's trouble never stops the others."""
    try:
        start(job_id)
        return ScheduledStart(job_id)
    except (Duplicate, ConcurrentChange):
        return ScheduledStart(None)  # this slot's job was started already
    except Exception:  # noqa: BLE001 - see the docstring: the next sweep retries
        logger.exception(f"{what} not started", extra=context)
        return ScheduledStart(None, failed=True)


def _check_state_size(name: str, value: Any) -> None:
    if len(json.dumps(value)) > MAX_STATE_CHARS:
        raise ValueError(f"job {name} exceed {MAX_STATE_CHARS} characters of JSON; keep ids, not data")


def _mark_unqueued(job: Job, error: Exception) -> None:
    now = clock.now()
    try:
        # No version check: nothing else knows of this job yet.
        job.update(actions=[Job.status.set(FAILED), Job.finished_at.set(now), Job.updated_at.set(now),
                            Job.last_error.set(_error_text(error)), Job.last_error_at.set(now)],
                   add_version_condition=False)
    except Exception:  # noqa: BLE001 - the original error is what the caller must see
        logger.exception("job %s could not be marked failed after its queuing failed", job.id)


def chunk_message(job: Job, seq: int) -> dict:
    """The message that asks for chunk ``seq`` of ``job``."""
    return {"v": MESSAGE_VERSION, "tenant_id": job.tenant_id, "job_id": job.id, "seq": seq}


def get_job(actor: Actor, job_id: str) -> Job:
    return get_record(actor, Job, job_id)


def list_jobs(actor: Actor, *, limit: int, cursor: str | None) -> Page[Job]:
    """The tenant's jobs, newest first (ids are ULIDs)."""
    return paged(f"jobs-newest:{actor.tenant_id}", cursor, lambda start: Job.query(
        actor.tenant_id, scan_index_forward=False, limit=limit, last_evaluated_key=start))


def cancel_job(actor: Actor, job_id: str, *, reason: str | None = None) -> Job:
    """Stop a job (audited): its next chunk sees ``cancelled`` and does nothing. A chunk running
    now still records what it did. The kind's ``on_end`` then releases what the job holds.
    An ended job answers 409."""
    for _ in range(CANCEL_ATTEMPTS):
        job = get_job(actor, job_id)
        if job.ended:
            raise Conflict(f"Job {job_id} already ended ({job.status}).")
        before = snapshot(job)
        now = clock.now()
        job.status, job.cancelled_by, job.finished_at, job.updated_at = CANCELLED, actor.subject, now, now
        if reason:
            job.notes = _with_note(job.notes, f"cancelled by {actor.subject}: {reason}", now)
        try:
            write_audited(actor, job, action="cancel", before=before)
        except ConcurrentChange:
            continue  # a chunk was recorded meanwhile: read the job again
        _ended_unfinished(job)
        return job
    raise ConcurrentChange(f"Job {job_id} kept changing; try again.")


def pause_job(actor: Actor, job_id: str) -> Job:
    """Pause a queued or running job (audited): its next chunk message is acknowledged without
    running; a chunk running now still records what it did. 409 unless queued or running."""
    return _set_status(actor, job_id, PAUSED, allowed=(QUEUED, RUNNING), action="pause")


def resume_job(actor: Actor, job_id: str) -> Job:
    """Resume a paused job (audited) from its current chunk: the message asking for it is sent
    again (a message of that chunk still in the queue makes a duplicate, which the chunk's
    conditional record turns stale). 409 unless paused."""
    job = _set_status(actor, job_id, RUNNING, allowed=(PAUSED,), action="resume")
    queue.send(settings.jobs_queue, chunk_message(job, int(job.chunk_seq)))
    return job


def _set_status(actor: Actor, job_id: str, status: str, *, allowed: tuple[str, ...], action: str) -> Job:
    for _ in range(CANCEL_ATTEMPTS):
        job = get_job(actor, job_id)
        if job.status not in allowed:
            raise Conflict(f"Job {job_id} is {job.status}; it cannot {action}.")
        before = snapshot(job)
        job.status, job.updated_at = status, clock.now()
        try:
            write_audited(actor, job, action=action, before=before)
        except ConcurrentChange:
            continue  # a chunk was recorded meanwhile: read the job again
        return job
    raise ConcurrentChange(f"Job {job_id} kept changing; try again.")


# -- the chunk handler -----------------------------------------------------------------------


@dataclass(frozen=True)
class ChunkMessage:
    tenant_id: str
    job_id: str
    seq: int
    message_id: str
    receipt_handle: str | None
    receive_count: int


def parse_message(record: dict) -> ChunkMessage | None:
    """A Lambda SQS record as a chunk message, or ``None`` if it is not one."""
    try:
        body = json.loads(record["body"])
        tenant_id, job_id, seq = body["tenant_id"], body["job_id"], body["seq"]
        receive_count = int((record.get("attributes") or {}).get("ApproximateReceiveCount", "1"))
        message_id = record["messageId"]
    except (KeyError, TypeError, ValueError):
        return None
    valid = (body.get("v") == MESSAGE_VERSION and isinstance(tenant_id, str) and TENANT_ID_PATTERN.match(tenant_id)
             and isinstance(job_id, str) and ids.is_id(job_id) and isinstance(seq, int) and seq >= 0)
    return ChunkMessage(tenant_id, job_id, seq, message_id, record.get("receiptHandle"), receive_count) \
        if valid else None


def run_next_chunk(record: dict, context: Any = None) -> str:
    """Handle one chunk message (a Lambda SQS record) and say what happened, for logs and tests:
    ``recorded`` (and continued), ``finished``, ``cancelled``, ``failed``, ``continued`` (a
    resent continuation), ``stale``, ``ended``, ``paused``, ``lost`` (another run recorded the chunk),
    ``missing``, ``malformed``. Raises when SQS must deliver the message again."""
    chunk = parse_message(record)
    if chunk is None:
        logger.error("jobs: malformed chunk message %s acknowledged", record.get("messageId"))
        return "malformed"
    job = _find(chunk.tenant_id, chunk.job_id)
    if job is None:
        logger.error("jobs: no job %s for tenant %s; message acknowledged", chunk.job_id, chunk.tenant_id)
        return "missing"
    logger.append_keys(tenant=job.tenant_id, job_id=job.id, chunk=chunk.seq)
    if job.ended:
        return "ended"
    if job.status == PAUSED:
        return "paused"  # acknowledged: resuming sends the current chunk's message again
    if chunk.seq != job.chunk_seq:
        return _stale(job, chunk)
    try:
        return _run_current(job, chunk, context)
    except Exception:
        _retry_soon(chunk)
        raise


def _find(tenant_id: str, job_id: str) -> Job | None:
    try:
        return Job.get(tenant_id, job_id, consistent_read=True)
    except DoesNotExist:
        return None


def _stale(job: Job, chunk: ChunkMessage) -> str:
    """A message for a chunk already recorded: resend the continuation only if this very
    message recorded the last chunk (its first delivery died before sending it)."""
    if chunk.seq == job.chunk_seq - 1 and chunk.message_id == job.chunk_message_id:
        _continue(job)
        return "continued"
    logger.info("jobs: stale chunk message %s (job is at chunk %s) acknowledged", chunk.seq, job.chunk_seq)
    return "stale"


def _run_current(job: Job, chunk: ChunkMessage, context: Any) -> str:
    kind = kind_named(job.kind)
    if kind is None:
        return _end_failed(job, chunk, f"unknown job kind {job.kind!r} (is its module registered in app.py?)")
    if chunk.receive_count > MAX_DELIVERIES:  # its deliveries died without recording (time limit, memory)
        return _end_failed(job, chunk, f"chunk {chunk.seq} never completed in {chunk.receive_count - 1} "
                                       f"deliveries (time limit or crash); last error: {job.last_error}")
    started_at = clock.now()
    budget = ChunkBudget.for_lambda(context, job_id=job.id, seq=chunk.seq, max_items=kind.max_items)
    try:
        result = kind.run_chunk(_actor_of(job), dict(job.params or {}), job.cursor, budget)
        _check_result(result, job.cursor)
    except JobFailed as error:
        return _end_failed(job, chunk, str(error) or "the job kind gave up")
    except Exception as error:
        logger.exception("jobs: chunk %s of job %s (%s) raised", chunk.seq, job.id, job.kind)
        outcome = _record_attempt(job, chunk, error, int(job.attempts) + 1, started_at)
        if outcome == "retry":
            raise
        return outcome
    return _record_and_continue(job, chunk, result, started_at)


def _actor_of(job: Job) -> Actor:
    """Chunks act for the staff member who started the job, so the audit trail names them."""
    return Actor(tenant_id=job.tenant_id, subject=job.created_by, roles=frozenset(job.created_by_roles or ()))


def _check_result(result: Any, cursor: dict | None) -> None:
    if not isinstance(result, ChunkResult):
        raise TypeError(f"a job kind returns a ChunkResult, not {type(result).__name__}")
    if result.cursor is not None:
        _check_state_size("cursor", result.cursor)
        if result.cursor == cursor and not result.processed:  # it would loop forever
            raise JobFailed("the job kind made no progress (same cursor, no item)")


def _record_and_continue(job: Job, chunk: ChunkMessage, result: ChunkResult, started_at: datetime) -> str:
    recorded = _apply(job, chunk, lambda current: _progress_actions(current, chunk, result, started_at),
                      while_running=False)
    if recorded is None:
        return "lost"
    if recorded.status == RUNNING:
        _continue(recorded)
        return "recorded"
    return "finished" if recorded.status == SUCCEEDED else recorded.status


def _continue(job: Job) -> None:
    """Queue the job's next chunk; only a running job with a cursor has one."""
    if job.status == RUNNING and job.cursor is not None:
        queue.send(settings.jobs_queue, chunk_message(job, int(job.chunk_seq)))


def _progress_actions(job: Job, chunk: ChunkMessage, result: ChunkResult, started_at: datetime) -> list:
    now = clock.now()
    actions = [Job.done.add(result.done), Job.failed.add(result.failed), Job.skipped.add(result.skipped),
               Job.chunk_seq.set(chunk.seq + 1), Job.chunk_message_id.set(chunk.message_id),
               Job.attempts.set(0), Job.updated_at.set(now),
               Job.cursor.remove() if result.cursor is None else Job.cursor.set(result.cursor)]
    if result.total is not None:
        actions.append(Job.total.set(result.total))
    if result.outcomes:
        # Read-modify-write is safe here: the update is conditioned on this very chunk.
        merged = dict(job.outcomes or {})
        for name, count in result.outcomes.items():
            merged[name] = int(merged.get(name, 0)) + count
        actions.append(Job.outcomes.set(merged))
    if result.note:
        actions.append(Job.notes.set(_with_note(job.notes, result.note, now)))
    if job.started_at is None:
        actions.append(Job.started_at.set(started_at))
    # A cancel (or failure) that landed meanwhile stays; so does a pause, unless this was the last chunk.
    if job.status in (QUEUED, RUNNING) or (job.status == PAUSED and result.cursor is None):
        next_status = SUCCEEDED if result.cursor is None else RUNNING
        actions.append(Job.status.set(next_status))
        if next_status == SUCCEEDED:
            actions.append(Job.finished_at.set(now))
    return actions


def _record_attempt(job: Job, chunk: ChunkMessage, error: Exception, attempts: int, started_at: datetime) -> str:
    """Record a failed attempt of the chunk, ending the job at the limit: ``retry`` (raise for
    SQS), ``failed`` (gave up), or ``stale`` (the chunk was recorded or the job ended meanwhile)."""
    text = _error_text(error)
    giving_up = attempts >= MAX_CHUNK_ATTEMPTS

    def actions(current: Job) -> list:
        now = clock.now()
        note = f"chunk {chunk.seq}, attempt {attempts}: {text}" + (" (giving up)" if giving_up else " (will retry)")
        changes = [Job.attempts.set(attempts), Job.last_error.set(text), Job.last_error_at.set(now),
                   Job.updated_at.set(now), Job.notes.set(_with_note(current.notes, note, now))]
        if current.started_at is None:
            changes.append(Job.started_at.set(started_at))
        if giving_up:
            changes += [Job.status.set(FAILED), Job.finished_at.set(now)]
        return changes

    recorded = _apply(job, chunk, actions, while_running=True)
    if recorded is None:
        return "stale"
    if giving_up:
        _ended_unfinished(recorded)
        return "failed"
    return "retry"


def _end_failed(job: Job, chunk: ChunkMessage, reason: str) -> str:
    def actions(current: Job) -> list:
        now = clock.now()
        return [Job.status.set(FAILED), Job.finished_at.set(now), Job.updated_at.set(now),
                Job.last_error.set(reason[:MAX_ERROR_CHARS]), Job.last_error_at.set(now),
                Job.notes.set(_with_note(current.notes, f"chunk {chunk.seq}: {reason}", now))]

    logger.error("jobs: job %s failed: %s", job.id, reason)
    recorded = _apply(job, chunk, actions, while_running=True)
    if recorded is None:
        return "stale"
    _ended_unfinished(recorded)
    return "failed"


def _ended_unfinished(job: Job) -> None:
    """Let the kind release what an unfinished job holds (best effort: errors are logged)."""
    kind = kind_named(job.kind)
    if kind is None or kind.on_end is None:
        return
    try:
        kind.on_end(job)
    except Exception:  # noqa: BLE001 - the job has ended either way
        logger.warning("jobs: on_end of job %s (%s) failed", job.id, job.kind, exc_info=True)


def _apply(job: Job, chunk: ChunkMessage, build: Callable[[Job], list], *, while_running: bool) -> Job | None:
    """Update the job with ``build(job)`` in one UpdateItem, on condition that ``chunk`` is still
    its current chunk (and on its version: a clash is read again and retried). ``None`` when
    the chunk is no longer current, or the job ended and ``while_running`` is asked."""
    current: Job | None = job
    for attempt in range(UPDATE_ATTEMPTS):
        if attempt:
            current = _find(job.tenant_id, job.id)
        if current is None or current.chunk_seq != chunk.seq or (while_running and current.ended):
            return None
        try:
            current.update(actions=build(current), condition=Job.chunk_seq == chunk.seq)
            return current
        except UpdateError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
    raise RuntimeError(f"job {job.id} kept changing; chunk {chunk.seq} not recorded")


def _retry_soon(chunk: ChunkMessage) -> None:
    """Bring the message back after a delay growing with its deliveries, rather than after the
    queue's whole visibility timeout (which must exceed the Lambda's time limit)."""
    if not chunk.receipt_handle:
        return
    delay = RETRY_DELAYS_SECONDS[min(max(chunk.receive_count, 1), len(RETRY_DELAYS_SECONDS)) - 1]
    try:
        queue.retry_later(settings.jobs_queue, chunk.receipt_handle, delay)
    except Exception:  # noqa: BLE001 - SQS brings it back after the visibility timeout anyway
        logger.warning("jobs: could not shorten the retry delay of chunk %s", chunk.seq, exc_info=True)


def _with_note(notes: list | None, text: str, at) -> list[JobNote]:
    """The notes with ``text`` added, the oldest dropped beyond :data:`MAX_NOTES`."""
    return [*(notes or []), JobNote(at=at, text=text[:MAX_NOTE_CHARS])][-MAX_NOTES:]


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"[:MAX_ERROR_CHARS]
