"""The collector reads a venue's part of a busy day a chunk at a time: never more entries than
the chunk can take (and one to know it must stop), and never another venue's."""
from __future__ import annotations

from datetime import datetime, timezone

from chalicelib.models.subscriptions import InstalmentDue
from chalicelib.services.jobs.framework import ChunkBudget
from chalicelib.services.subscriptions import collector
from tests.conftest import new_tenant_id

DAY = "2031-03-05"


def _entries(tenant_id: str, count: int) -> None:
    for n in range(count):
        InstalmentDue(due_day=DAY, due_key=InstalmentDue.key_of(tenant_id, f"SUB{n:03d}", 1), tenant_id=tenant_id,
                      subscription_id=f"SUB{n:03d}", number=1,
                      due_at=datetime(2031, 3, 5, 5, tzinfo=timezone.utc)).save()


def test_a_chunk_reads_its_budget_and_one_more_of_its_venue_only():
    venue, other = sorted([new_tenant_id(), new_tenant_id()])
    _entries(venue, 7)
    _entries(other, 3)
    budget = ChunkBudget(job_id="walk", seq=0, max_items=3, seconds=840)
    first = list(collector._venue_entries(venue, DAY, None, budget))
    assert [entry.subscription_id for entry in first] == ["SUB000", "SUB001", "SUB002", "SUB003"]
    rest = list(collector._venue_entries(venue, DAY, first[2].due_key, ChunkBudget(
        job_id="walk", seq=1, max_items=100, seconds=840)))
    assert [entry.subscription_id for entry in rest] == ["SUB003", "SUB004", "SUB005", "SUB006"]
