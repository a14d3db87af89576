"""Jobs through the staff API: progress while a job runs (chunks fed by the event pump),
listing newest first, cancel (audited, 409 once ended), and another tenant's jobs invisible."""
from __future__ import annotations

import pytest

from chalicelib.services.jobs import framework as jobs
from chalicelib.services.jobs.framework import ChunkResult, job_kind
from tests.api.helpers import assert_problem, call
from tests.job_helpers import drive, ensure_jobs_queue, run_until


@job_kind("test.api_steps", max_items=2)
def steps(actor, params, cursor, budget):
    """Counts ``params["items"]`` steps, two per chunk (the effect is nothing: idempotent)."""
    position = cursor["next"] if cursor else 0
    taken = 0
    while position + taken < params["items"] and budget.take():
        taken += 1
    position += taken
    finished = position >= params["items"]
    return ChunkResult(done=taken, total=params["items"], cursor=None if finished else {"next": position})


@pytest.fixture(autouse=True)
def jobs_queue():
    ensure_jobs_queue()



def test_staff_follow_a_job_progress_until_it_succeeds(client, staff_headers, actor, pump):
    job = jobs.start_job(actor, "test.api_steps", {"items": 6})
    status, queued, _ = call(client, "GET", f"/jobs/{job.id}", staff_headers)
    assert status == 200 and queued["status"] == "queued" and queued["total"] is None and queued["percent"] is None
    assert queued["created_by"] == "staff-1" and queued["params"] == {"items": 6} and "cursor" not in queued

    run_until(pump, actor.tenant_id, job.id, lambda current: current.chunk_seq == 1)
    _, running, _ = call(client, "GET", f"/jobs/{job.id}", staff_headers)
    assert (running["status"], running["done"], running["total"], running["processed"]) == ("running", 2, 6, 2)
    assert running["percent"] == 33.3 and running["started_at"] and running["finished_at"] is None

    drive(pump, actor.tenant_id, job.id)
    _, ended, _ = call(client, "GET", f"/jobs/{job.id}", staff_headers)
    assert (ended["status"], ended["done"], ended["percent"]) == ("succeeded", 6, 100.0)
    assert ended["finished_at"] >= ended["started_at"] and ended["last_error"] is None


def test_jobs_are_listed_newest_first_page_by_page(client, staff_headers, actor):
    first = jobs.start_job(actor, "test.api_steps", {"items": 1})
    second = jobs.start_job(actor, "test.api_steps", {"items": 2})
    status, page, _ = call(client, "GET", "/jobs?limit=1", staff_headers)
    assert status == 200 and [item["id"] for item in page["items"]] == [second.id]
    _, rest, _ = call(client, "GET", f"/jobs?limit=1&cursor={page['next_cursor']}", staff_headers)
    assert [item["id"] for item in rest["items"]] == [first.id]


def test_staff_cancel_a_job_once_with_a_reason(client, staff_headers, actor):
    job = jobs.start_job(actor, "test.api_steps", {"items": 4})
    status, cancelled, _ = call(client, "POST", f"/jobs/{job.id}/cancel", staff_headers, {"reason": "wrong list"})
    assert status == 200 and cancelled["status"] == "cancelled" and cancelled["cancelled_by"] == "staff-1"
    assert cancelled["notes"][-1]["text"] == "cancelled by staff-1: wrong list" and cancelled["finished_at"]
    assert_problem(call(client, "POST", f"/jobs/{job.id}/cancel", staff_headers, {}), 409)
    assert_problem(call(client, "POST", f"/jobs/{job.id}/cancel", staff_headers, {"why": "x"}), 422, "why")
    _, history, _ = call(client, "GET", f"/audit/job/{job.id}", staff_headers)
    assert [event["action"] for event in history["items"]] == ["start", "cancel"]


def test_unknown_or_malformed_job_ids_answer_404(client, staff_headers):
    assert_problem(call(client, "GET", "/jobs/01J00000000000000000000000", staff_headers), 404)
    assert_problem(call(client, "GET", "/jobs/not-an-id", staff_headers), 404)
    assert_problem(call(client, "POST", "/jobs/not-an-id/cancel", staff_headers, {}), 404)


def test_another_tenant_can_neither_see_nor_cancel_a_job(client, signer, actor, staff_headers):
    from tests.conftest import new_tenant_id

    job = jobs.start_job(actor, "test.api_steps", {"items": 3})
    other = {"Authorization": f"Bearer {signer.mint(new_tenant_id(), ['admin'], 'b-admin')}"}
    assert_problem(call(client, "GET", f"/jobs/{job.id}", other), 404)
    assert_problem(call(client, "POST", f"/jobs/{job.id}/cancel", other, {}), 404)
    assert call(client, "GET", "/jobs", other)[1]["items"] == []
    _, mine, _ = call(client, "GET", f"/jobs/{job.id}", staff_headers)
    assert mine["status"] == "queued"
