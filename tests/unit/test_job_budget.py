"""The chunk budget and result of background jobs: pure logic, no I/O."""
from __future__ import annotations

import pytest

from chalicelib.services.jobs.framework import ChunkBudget, ChunkResult


class FakeContext:
    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


class Ticking:
    """A monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_budget_stops_at_its_item_limit_but_always_grants_the_first_item():
    budget = ChunkBudget(job_id="J", seq=0, max_items=3, seconds=0)
    assert budget.take(), "a chunk must always progress, even with no time left"
    assert not budget.take() and budget.taken == 1

    roomy = ChunkBudget(job_id="J", seq=0, max_items=3, seconds=600)
    assert [roomy.take() for _ in range(5)] == [True, True, True, False, False]
    assert roomy.items_left == 0


def test_a_budget_stops_taking_items_at_its_deadline():
    clock = Ticking()
    budget = ChunkBudget(job_id="J", seq=2, max_items=100, seconds=10, monotonic=clock)
    assert budget.take() and budget.take()
    clock.now += 10
    assert not budget.take() and budget.seconds_left == 0


@pytest.mark.parametrize("remaining_ms,work_seconds", [(900_000, 840), (300_000, 240), (30_000, 15), (2_000, 1)])
def test_the_safety_margin_is_a_minute_or_half_the_time_left(remaining_ms, work_seconds):
    budget = ChunkBudget.for_lambda(FakeContext(remaining_ms), job_id="J", seq=0, max_items=1)
    assert budget.seconds_left == pytest.approx(work_seconds, abs=0.5)


def test_a_result_needs_an_explicit_cursor_and_sane_counts():
    with pytest.raises(TypeError):
        ChunkResult(done=3)  # type: ignore[call-arg] - forgetting the cursor must not finish a job
    with pytest.raises(ValueError):
        ChunkResult(done=-1, cursor=None)
    with pytest.raises(ValueError):
        ChunkResult(done=1, cursor="after-42")  # type: ignore[arg-type]
    assert ChunkResult(done=2, failed=1, skipped=1, cursor={"after": "x"}).processed == 4
