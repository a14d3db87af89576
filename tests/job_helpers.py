"""Helpers for tests that run jobs through the real jobs queue (moto) and the event pump.

The jobs queue is the run's ``ticketing-test-jobs``, shared by every test of the run: a pump
may therefore also run chunks of other tests' jobs (with their kinds, registered at import),
which is what the deployed handler does too. Each test follows its own job by id.
"""
from __future__ import annotations

from chalicelib.models.jobs import Job

JOBS_SOURCE = "jobs"


def ensure_jobs_queue() -> None:
    """Create the run's jobs queue if no pump did yet (the pump creates it in ``prepare()``)."""
    from chalicelib.adapters.aws import client
    from chalicelib.config import settings

    client("sqs").create_queue(QueueName=settings.jobs_queue)


def stored(tenant_id: str, job_id: str) -> Job:
    return Job.get(tenant_id, job_id, consistent_read=True)


def run_round(pump) -> int:
    """One poll of every queue; how many chunk messages the jobs handler got."""
    return sum(1 for invocation in pump.run_once() if invocation.source == JOBS_SOURCE)


def drain(pump, *, rounds: int = 30) -> None:
    """Run until the jobs queue gives nothing: duplicates must die out, not cascade."""
    for _ in range(rounds):
        if not run_round(pump):
            return
    raise AssertionError(f"the jobs queue still had messages after {rounds} rounds")


def drive(pump, tenant_id: str, job_id: str, *, rounds: int = 80) -> Job:
    """Feed the app's jobs handler until the job ended, then drain the queue; the job as stored."""
    for _ in range(rounds):
        run_round(pump)
        if stored(tenant_id, job_id).ended:
            drain(pump)
            return stored(tenant_id, job_id)
    raise AssertionError(f"job {job_id} had not ended after {rounds} rounds: {stored(tenant_id, job_id).status}")


def run_until(pump, tenant_id: str, job_id: str, condition, *, rounds: int = 40) -> Job:
    """Feed the handler until ``condition(job)`` holds; the job as stored then."""
    for _ in range(rounds):
        run_round(pump)
        job = stored(tenant_id, job_id)
        if condition(job):
            return job
    raise AssertionError(f"job {job_id} never reached the expected state")
