"""Options and reservations follow-up routes (staff): the list, marks and locks, release (with its
preview), reminders, deadline extensions, each for the lines shown or, as a job, for every line
matching the filters; the venue's follow-up policy (admin); and the scheduled sweep that runs
reminders, releases and expired shop checkouts on each venue's policy."""
from __future__ import annotations

from chalice import Blueprint, Rate

from chalicelib.handlers.http import staff_route
from chalicelib.observability import logger, start_event_invocation

bp = Blueprint(__name__)
TAG = "options"
# The sweep's rate; its jobs are keyed by slots of the same length (services/options/schedule.py:
# SLOT_MINUTES, checked equal by a test). The services are imported by the views that use them,
# so a cold start of any other route does not pay for this area.
SWEEP_EVERY_MINUTES = 5


def line_filters(values):
    """The list's filters as the service takes them, from the API's schema (also the console's)."""
    from chalicelib.services.options import listing

    fields = values.model_dump(include=set(listing.LineFilters.__dataclass_fields__))
    for name in ("tariff_ids", "contact_types", "seat_category_ids"):
        fields[name] = tuple(fields.get(name) or ())
    return listing.LineFilters(**fields)


def _outcomes(outcomes) -> dict:
    from chalicelib.services.options.outcomes import tally

    return {"outcomes": outcomes, "counts": tally(outcomes)}


def _line_out(view) -> dict:
    row = view.row
    return {**{name: getattr(row, name) for name in (
        "order_id", "order_number", "kind", "deadline", "contact_id", "contact_type", "buyer_name", "channel_id",
        "product_id", "product_type", "seat_category_id", "performance_id", "tariff_id", "tariff_name", "quota_id",
        "quantity", "amount_cents", "currency", "mark", "locked", "locked_by", "locked_at", "lock_reason",
        "reminders", "reminded_at")},
        "line_id": view.line_id, "channel_name": view.channel_name, "product_name": view.product_name,
        "seat_category_name": view.seat_category_name, "performance_starts_at": view.performance_starts_at,
        "performance_label": view.performance_label, "audience_category": view.audience_category,
        "quota_name": view.quota_name}


@staff_route(bp, "/options/lines", query="options:LineQuery", response="options:LinePageOut",
             summary="The follow-up list: one row per line of the options or reservations matching the filters, "
                     "oldest deadline first, paged without cap, with how many lines match", tag=TAG)
def list_lines(actor, query):
    from chalicelib.services.options import listing

    page = listing.find_lines(actor, line_filters(query), limit=query.limit, cursor=query.cursor)
    return {"items": [_line_out(view) for view in listing.views(actor, page.items)], "next_cursor": page.next_cursor,
            "matching_lines": page.matching_lines, "matching_places": page.matching_places,
            "counted_by": page.counted_by}


@staff_route(bp, "/options/lines/mark", method="POST", body="options:MarkIn", response="options:OutcomesOut",
             summary="Mark lines release (libérer) or keep (ne pas libérer), audited", tag=TAG)
def mark_lines(actor, body):
    from chalicelib.services.options import marks

    return _outcomes(marks.set_mark(actor, body.line_ids, body.mark))


@staff_route(bp, "/options/lines/lock", method="POST", body="options:LockIn", response="options:OutcomesOut",
             summary="Lock lines (cadenasser): never released nor cancelled by anyone until unlocked; audited "
                     "with who and why", tag=TAG)
def lock_lines(actor, body):
    from chalicelib.services.options import marks

    return _outcomes(marks.lock(actor, body.line_ids, body.reason))


@staff_route(bp, "/options/lines/unlock", method="POST", body="options:LockIn", response="options:OutcomesOut",
             summary="Unlock lines (décadenasser), audited with who and why", tag=TAG)
def unlock_lines(actor, body):
    from chalicelib.services.options import marks

    return _outcomes(marks.unlock(actor, body.line_ids, body.reason))


@staff_route(bp, "/options/lines/release/preview", method="POST", body="options:LinesIn",
             response="options:PreviewOut", summary="What releasing these lines would take back (nothing written)",
             tag=TAG)
def preview_release(actor, body):
    from chalicelib.services.options import release

    return release.preview_ids(actor, body.line_ids)


@staff_route(bp, "/options/lines/release", method="POST", body="options:ReleaseIn", response="options:OutcomesOut",
             summary="Run release (lancer la libération) for the lines shown: those marked release and not locked "
                     "go back on sale, each line reported", tag=TAG)
def release_lines(actor, body):
    from chalicelib.services.options import release

    return _outcomes(release.release_by_ids(actor, body.line_ids, mail=body.mail, reason=body.reason))


@staff_route(bp, "/options/lines/remind", method="POST", body="options:LinesIn", response="options:OutcomesOut",
             summary="Send the reminder (Rappel d'options/réservations) to the orders of these lines, once each",
             tag=TAG)
def remind_lines(actor, body):
    from chalicelib.services.options import reminders

    return _outcomes(reminders.remind_by_ids(actor, body.line_ids))


@staff_route(bp, "/options/lines/extend", method="POST", body="options:ExtendIn", response="options:OutcomesOut",
             summary="Extend the deadline of the orders of these lines (audited)", tag=TAG)
def extend_lines(actor, body):
    from chalicelib.services.options import deadlines

    return _outcomes(deadlines.extend_by_ids(actor, body.line_ids, body.deadline, reason=body.reason))


@staff_route(bp, "/options/release-all/preview", method="POST", body="options:LineFiltersIn",
             response="options:PreviewOut",
             summary="What releasing every line matching the filters would take back (nothing written)", tag=TAG)
def preview_release_all(actor, body):
    from chalicelib.services.options import release

    return release.preview_all(actor, line_filters(body))


@staff_route(bp, "/options/release-all", method="POST", body="options:ReleaseAllIn", response="jobs:JobOut",
             status=202, summary="Run release for all (lancer la libération pour tous): every line matching the "
                                 "filters, displayed or not, marked release and not locked (a job)", tag=TAG)
def release_all(actor, body):
    from chalicelib.services.options import bulk

    return bulk.release_all(actor, line_filters(body), mail=body.mail, reason=body.reason)


@staff_route(bp, "/options/remind-all", method="POST", body="options:LineFiltersIn", response="jobs:JobOut",
             status=202, summary="Remind every order with a line matching the filters, once each (a job)", tag=TAG)
def remind_all(actor, body):
    from chalicelib.services.options import bulk

    return bulk.remind_all(actor, line_filters(body))


@staff_route(bp, "/options/extend-all", method="POST", body="options:ExtendAllIn", response="jobs:JobOut",
             status=202, summary="Extend the deadline of every order with a line matching the filters (a job)",
             tag=TAG)
def extend_all(actor, body):
    from chalicelib.services.options import bulk

    return bulk.extend_all(actor, line_filters(body), body.deadline, reason=body.reason)


@staff_route(bp, "/options/policy", response="options:PolicyOut",
             summary="The venue's follow-up schedule: reminders, releases, quiet window", tag=TAG)
def get_policy(actor):
    from chalicelib.services.options import policy

    return policy.get_policy(actor)


@staff_route(bp, "/options/policy", method="PUT", role="admin", body="options:PolicyIn", response="options:PolicyOut",
             summary="Set the venue's follow-up schedule (audited); open options are re-timed by a job", tag=TAG)
def put_policy(actor, body):
    from chalicelib.services.options import schedule

    return schedule.save_policy(actor, body.model_dump())


@staff_route(bp, "/options/due/run", method="POST", role="admin", response="options:DueRunOut",
             summary="Run the schedule for this venue now: start the jobs for what is due (reminders, releases, "
                     "expired checkouts), as the schedule would", tag=TAG)
def run_due(actor):
    from chalicelib.services.options import schedule

    return schedule.run_due_now(actor)


@bp.schedule(Rate(SWEEP_EVERY_MINUTES, unit=Rate.MINUTES), name="follow_up_sweep")
def follow_up_sweep(event):
    """Every few minutes: start the jobs for the reminders, releases and expired checkouts now due."""
    start_event_invocation(event)
    from chalicelib.services.options import schedule

    report = schedule.sweep()
    logger.info("follow-up sweep", extra={"days": len(report.days), "due": report.due, "started": report.started,
                                           "waiting": report.waiting})
