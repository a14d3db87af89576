"""What became of each line an action was asked for: done, or skipped with the reason, so a
bulk request answers line by line and never fails as a whole for one line."""
from __future__ import annotations

from dataclasses import dataclass

DONE = "done"
SKIPPED_LOCKED = "skipped_locked"
SKIPPED_KEPT = "skipped_kept"  # marked "do not release"
SKIPPED_PAID = "skipped_paid"
SKIPPED_GONE = "skipped_gone"  # no longer held: released, cancelled, or never an open option
SKIPPED_ALREADY = "skipped_already"  # this round's reminder was already sent
SKIPPED_NO_ADDRESS = "skipped_no_address"
SKIPPED_QUIET = "skipped_quiet"  # the venue's quiet window: left for later
SKIPPED_DEADLINE_PASSED = "skipped_deadline_passed"  # the schedule reminds of deadlines to come only
FAILED = "failed"


@dataclass(frozen=True)
class LineOutcome:
    line_id: str
    outcome: str
    detail: str | None = None


def tally(outcomes: list[LineOutcome]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for outcome in outcomes:
        counts[outcome.outcome] = counts.get(outcome.outcome, 0) + 1
    return counts
