"""Jobs screens: every background job of the venue, newest first, one page at a time, and one
job with its progress, counts, notes and report (the page refreshes itself while it runs); a job
that writes a file (an export) links to it once written."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.console.frame import PAGE_SIZE, Screen, console_route, paging_link

bp = Blueprint(__name__)


@console_route(bp, "/console/jobs")
def jobs_list(screen: Screen):
    from chalicelib.services.jobs import framework as jobs

    page = jobs.list_jobs(screen.actor, limit=PAGE_SIZE, cursor=screen.query("cursor"))
    return screen.page("jobs.html.j2", jobs=page.items, next_link=paging_link(screen, page.next_cursor))


@console_route(bp, "/console/jobs/{job_id}")
def job_view(screen: Screen, job_id: str):
    from chalicelib.services.jobs import csv_files
    from chalicelib.services.jobs import framework as jobs

    job = jobs.get_job(screen.actor, job_id)
    return screen.page("job.html.j2", job=job, writes_a_file=csv_files.writes_a_file(job.kind))


@console_route(bp, "/console/jobs/{job_id}/file")
def job_file(screen: Screen, job_id: str):
    """A job's file, through a short-lived link to it (the API's download), asked for at each click."""
    from chalicelib.services.jobs import csv_files

    return screen.redirect(csv_files.download(screen.actor, job_id).url)
