"""Background jobs: one :class:`Job` item per bulk operation (resend confirmations, notify the
customers of a cancelled performance, run a release...).

The item is the job's whole state, read by staff polling the progress and by each chunk:
what to do (``kind``, ``params``), where it stands (``status``, the counters, the kind's
opaque ``cursor``), and the bookkeeping that makes chunks count exactly once
(``chunk_seq``, ``chunk_message_id``, ``attempts``; see :mod:`chalicelib.services.jobs.framework`).
Each chunk changes it with one conditional UpdateItem; there is no index, so that write
touches the table only.

Keys: hash = tenant id, range = ULID, so a tenant's jobs come newest first from one Query.
"""
from __future__ import annotations

from pynamodb.attributes import (
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)

from chalicelib.models.base import TenantEntity, table_meta

QUEUED, RUNNING, SUCCEEDED, FAILED, CANCELLED = "queued", "running", "succeeded", "failed", "cancelled"
PAUSED = "paused"  # staff paused it: no chunk runs until resumed (not ended: it can be resumed or cancelled)
STATUSES = (QUEUED, RUNNING, PAUSED, SUCCEEDED, FAILED, CANCELLED)
ENDED = frozenset({SUCCEEDED, FAILED, CANCELLED})


class JobNote(MapAttribute):
    """A progress message from the kind, or a retried error, with its time."""

    at = UTCDateTimeAttribute()
    text = UnicodeAttribute()


class Job(TenantEntity):
    entity_type = "job"
    Meta = table_meta("jobs")

    kind = UnicodeAttribute()
    params = JSONAttribute(default=dict)
    status = UnicodeAttribute(default=QUEUED)
    # Counters: ``total`` stays null until the kind knows it.
    total = NumberAttribute(null=True)
    done = NumberAttribute(default=0)
    failed = NumberAttribute(default=0)
    skipped = NumberAttribute(default=0)
    # The kind's own counts, finer than done/failed/skipped (e.g. a notice "suppressed": the
    # address is known to bounce), added up across chunks.
    outcomes = JSONAttribute(null=True)
    # The kind's continuation state; null before the first chunk and once finished.
    cursor = JSONAttribute(null=True)
    # Number of chunks recorded; the next chunk message to run carries this number.
    chunk_seq = NumberAttribute(default=0)
    # The SQS message whose run recorded the last chunk: if that very message comes back,
    # its continuation may not have been sent, and it is sent again.
    chunk_message_id = UnicodeAttribute(null=True)
    # Failed attempts of the current chunk (back to 0 when a chunk is recorded).
    attempts = NumberAttribute(default=0)
    notes = ListAttribute(of=JobNote, default=list)
    last_error = UnicodeAttribute(null=True)
    last_error_at = UTCDateTimeAttribute(null=True)
    # Who started it: chunks act on their behalf, so the audit trail names them.
    created_by = UnicodeAttribute()
    created_by_roles = UnicodeSetAttribute(null=True)
    cancelled_by = UnicodeAttribute(null=True)
    started_at = UTCDateTimeAttribute(null=True)
    finished_at = UTCDateTimeAttribute(null=True)

    @property
    def ended(self) -> bool:
        return self.status in ENDED

    @property
    def processed(self) -> int:
        return int(self.done + self.failed + self.skipped)

    @property
    def percent(self) -> float | None:
        """Share of the items processed, when the total is known (100 once succeeded)."""
        if self.status == SUCCEEDED:
            return 100.0
        if self.total is None:
            return None
        if self.total <= 0:
            return 0.0
        return min(100.0, round(100 * self.processed / self.total, 1))
