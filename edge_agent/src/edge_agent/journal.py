"""The agent's journal: each physical step of each job, written (and synced to disk) BEFORE
the step is done, so that after any crash the agent knows whether ink may have touched a
card. The restart rules that read it are in worker.py (docs/card-printing-protocol.md)."""

from __future__ import annotations

import os
import sqlite3
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

TAKEN = "taken"
INSERTING = "inserting"
UID_READ = "uid_read"
PRINTING = "printing"
PRINTED = "printed"
FAILED = "failed"
CANCELLED = "cancelled"
UNCERTAIN = "uncertain"
REPORTED = "reported"

# The steps after which no card will be touched again for the job: its result is decided.
OUTCOME_STEPS = frozenset({PRINTED, FAILED, CANCELLED, UNCERTAIN})
STEPS = (TAKEN, INSERTING, UID_READ, PRINTING, PRINTED, FAILED, CANCELLED, UNCERTAIN, REPORTED)

# Test-only: the name of a step after whose write the process dies at once (os._exit), as a
# power cut would; the crash tests run the agent with it (tests/test_crash_restart.py).
CRASH_HOOK_ENV = "EDGE_AGENT_CRASH_AFTER_STEP"
CRASH_EXIT_CODE = 75

_SCHEMA = """
CREATE TABLE IF NOT EXISTS job_steps (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    job_id     TEXT NOT NULL,
    printer_id TEXT NOT NULL,
    step       TEXT NOT NULL,
    uid        TEXT,
    reason     TEXT,
    detail     TEXT,
    at         TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS job_steps_by_job ON job_steps (job_id, seq);
"""


@dataclass(frozen=True)
class JournalEntry:
    job_id: str
    printer_id: str
    step: str
    uid: str | None
    reason: str | None
    detail: str | None
    at: str


class Journal:
    """One SQLite file (WAL, synchronous=FULL) shared by the agent's workers."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._crash_after = os.environ.get(CRASH_HOOK_ENV)

    def record(
        self, job_id: str, printer_id: str, step: str, *, uid: str | None = None,
        reason: str | None = None, detail: str | None = None,
    ) -> None:
        """Write one step durably (committed and synced when this returns)."""
        if step not in STEPS:
            raise ValueError(f"unknown journal step {step}")
        at = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
        with self._lock:
            self._db.execute(
                "INSERT INTO job_steps (job_id, printer_id, step, uid, reason, detail, at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (job_id, printer_id, step, uid, reason, detail, at),
            )
        if self._crash_after == step:
            os._exit(CRASH_EXIT_CODE)

    def last(self, job_id: str) -> JournalEntry | None:
        """The job's latest step, or None when the agent never saw the job."""
        return self._one("SELECT * FROM job_steps WHERE job_id = ? ORDER BY seq DESC LIMIT 1", job_id)

    def outcome(self, job_id: str) -> JournalEntry | None:
        """The step that decided the job's result (printed, failed, cancelled, uncertain)."""
        marks = ",".join("?" * len(OUTCOME_STEPS))
        return self._one(
            f"SELECT * FROM job_steps WHERE job_id = ? AND step IN ({marks}) ORDER BY seq DESC LIMIT 1",
            job_id, *sorted(OUTCOME_STEPS),
        )

    def uid(self, job_id: str) -> str | None:
        """The card UID last read for the job, if any."""
        row = self._one(
            "SELECT * FROM job_steps WHERE job_id = ? AND uid IS NOT NULL ORDER BY seq DESC LIMIT 1", job_id
        )
        return row.uid if row else None

    def left_in_printer(self, printer_id: str) -> JournalEntry | None:
        """The printer's latest job whose card may still be inside: its last step is between
        `inserting` and `printed` (the agent died before the card left the printer)."""
        return self._one(
            "SELECT j.* FROM job_steps j WHERE j.printer_id = ? AND j.seq = ("
            " SELECT MAX(seq) FROM job_steps WHERE job_id = j.job_id)"
            " AND j.step IN (?, ?, ?, ?) ORDER BY j.seq DESC LIMIT 1",
            printer_id, INSERTING, UID_READ, PRINTING, PRINTED,
        )

    def steps(self, job_id: str) -> list[str]:
        with self._lock:
            rows = self._db.execute("SELECT step FROM job_steps WHERE job_id = ? ORDER BY seq", (job_id,))
            return [r[0] for r in rows]

    def forget_before(self, days: int) -> int:
        """Drop the steps of jobs whose last step is older than `days` (their messages are long gone:
        SQS keeps a message 14 days at most)."""
        cutoff = (datetime.now(timezone.utc) - timedelta(days=days)).isoformat(timespec="milliseconds")
        with self._lock:
            cursor = self._db.execute(
                "DELETE FROM job_steps WHERE job_id IN ("
                " SELECT job_id FROM job_steps GROUP BY job_id HAVING MAX(at) < ?)",
                (cutoff,),
            )
            return cursor.rowcount

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _one(self, sql: str, *args: object) -> JournalEntry | None:
        with self._lock:
            row = self._db.execute(sql, args).fetchone()
        if row is None:
            return None
        _, job_id, printer_id, step, uid, reason, detail, at = row
        return JournalEntry(job_id, printer_id, step, uid, reason, detail, at)
