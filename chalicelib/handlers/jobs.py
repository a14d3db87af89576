"""Background jobs: the staff routes to follow and cancel them, and the SQS handler that runs
their chunks (see :mod:`chalicelib.services.jobs.framework` for how chunks count exactly once).

Jobs are started by the features that need them (each through its own route), never by a
generic "start any kind" route: a kind's params are that feature's validated input.
"""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.config import settings
from chalicelib.handlers.http import staff_route
from chalicelib.handlers.queues import each_message
from chalicelib.observability import start_event_invocation

bp = Blueprint(__name__)


@staff_route(bp, "/jobs", query="common:PageQuery", response="jobs:JobOut", many=True,
             summary="Background jobs, newest first", tag="jobs")
def list_jobs(actor, query):
    from chalicelib.services.jobs import framework as jobs

    return jobs.list_jobs(actor, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/jobs/{job_id}", response="jobs:JobOut",
             summary="One job's progress: status, counters, percentage, last error", tag="jobs")
def get_job(actor, job_id):
    from chalicelib.services.jobs import framework as jobs

    return jobs.get_job(actor, job_id)


@staff_route(bp, "/jobs/{job_id}/cancel", method="POST", body="jobs:CancelIn", response="jobs:JobOut",
             summary="Stop a job after its current chunk (audited); an ended job answers 409", tag="jobs")
def cancel_job(actor, job_id, body):
    from chalicelib.services.jobs import framework as jobs

    return jobs.cancel_job(actor, job_id, reason=body.reason)


@staff_route(bp, "/jobs/{job_id}/pause", method="POST", response="jobs:JobOut",
             summary="Pause a queued or running job after its current chunk (audited); 409 otherwise", tag="jobs")
def pause_job(actor, job_id):
    from chalicelib.services.jobs import framework as jobs

    return jobs.pause_job(actor, job_id)


@staff_route(bp, "/jobs/{job_id}/resume", method="POST", response="jobs:JobOut",
             summary="Resume a paused job from where it stopped (audited); 409 unless paused", tag="jobs")
def resume_job(actor, job_id):
    from chalicelib.services.jobs import framework as jobs

    return jobs.resume_job(actor, job_id)


@staff_route(bp, "/jobs/{job_id}/download", response="jobs:ExportDownloadOut", answers=(409, 410),
             summary="The file a finished job wrote (an orders export, a segment's members): a presigned URL "
                     "valid 15 minutes (409 while the job runs, 410 once expired)", tag="jobs")
def download_file(actor, job_id):
    from chalicelib.services.jobs import csv_files

    return csv_files.download(actor, job_id)


@bp.on_sqs_message(queue=settings.jobs_queue, batch_size=1, name="jobs")
def on_job_chunk(event):
    """Each chunk message in turn; one that raises is reported as failed, and SQS delivers it
    again (after the delay :func:`~chalicelib.services.jobs.framework.run_next_chunk` set)."""
    start_event_invocation(event)
    from chalicelib.services.jobs import framework as jobs

    return each_message(event, lambda record: jobs.run_next_chunk(record, event.context))
