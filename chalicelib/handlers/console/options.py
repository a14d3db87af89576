"""Options and reservations follow-up screens (SecuTix's "Suivi options / réservations"): the
filters (the four mandatory ones first, then the optional ones), how many lines match, one page
of lines with a box per line, and the actions on the ticked lines or, where the API has a
variant "for all", on every line matching the filters: send a reminder, mark release / do not
release, lock / unlock, extend the deadline, run release (its preview first, then the confirming
form), run release for all (a job, its preview first). The venue's follow-up policy: read by
staff, changed by admins, who may also run the schedule now.

Filters and forms are read with the API's own schemas (``options:LineQuery``, ``MarkIn``,
``LockIn``, ``ExtendIn``, ``ReleaseIn``, ``ReleaseAllIn``, ``PolicyIn``) and every action is the
API's service call. After an action on ticked lines the list comes back with its filters and the
outcome's counts; an action for all is a job, followed on its page."""
from __future__ import annotations

from datetime import datetime
from urllib.parse import urlencode

from chalice import Blueprint

from chalicelib.handlers.console.frame import PAGE_SIZE, Screen, console_route, form_body

bp = Blueprint(__name__)
MANDATORY = ("kind", "deadline_on_or_before", "season_id", "family_id")
FILTERS = (*MANDATORY, "product_id", "performance_id", "quota_id", "tariff_ids", "channel_id", "contact_id",
           "contact_types", "product_type", "seat_category_ids")
SEVERAL = ("tariff_ids", "contact_types", "seat_category_ids")  # comma-separated in the API's query
# the outcomes the screen names after an action on lines (services/options/outcomes.py)
OUTCOMES = ("done", "skipped_locked", "skipped_kept", "skipped_paid", "skipped_gone", "skipped_already",
            "skipped_no_address", "failed")
ACTIONS = ("remind", "extend", "mark-release", "mark-keep", "lock", "unlock", "release")
DUE_ACTIONS = ("remind", "release", "expire", "expire-cart")  # what the schedule runs (services/options/bulk.py)
CHOICES = 100  # entries offered by each filter's list (seasons, products...); past that, narrow first


def _collected(values_of) -> dict[str, str]:
    """The filters asked, as the API's query string has them (lists comma-separated)."""
    asked = {}
    for name in FILTERS:
        values = [value.strip()[:200] for value in values_of(name) if value and value.strip()]
        if values:
            asked[name] = ",".join(values) if name in SEVERAL else values[0]
    return asked


def _list_address(asked: dict[str, str], **extra: str) -> str:
    return "/console/options?" + urlencode({**asked, **extra})


def _line_filters(asked: dict[str, str]):
    """The filters as the API reads them (its 422 naming a missing or wrong one)."""
    from chalicelib.handlers.http import parse_query
    from chalicelib.handlers.options import line_filters

    return line_filters(parse_query(asked, "options:LineFiltersIn"))


def _choices(screen: Screen, asked: dict[str, str]) -> dict:
    """What each filter's list offers: the venue's seasons, families and channels; the season's
    products; the product's performances and tariffs; the performance's quotas and seat categories."""
    from chalicelib.services.catalog import catalog

    actor, first = screen.actor, {"limit": CHOICES, "cursor": None}
    chosen = {"seasons": catalog.seasons.list(actor, **first).items,
              "families": catalog.product_families.list(actor, **first).items,
              "channels": catalog.sales_channels.list(actor, **first).items,
              "products": [], "performances": [], "tariffs": [], "quotas": [], "seat_categories": []}
    if asked.get("season_id"):
        chosen["products"] = catalog.products.list(actor, season_id=asked["season_id"], **first).items
    if asked.get("product_id"):
        chosen["performances"] = catalog.list_performances(actor, product_id=asked["product_id"], **first).items
        chosen["tariffs"] = catalog.tariffs.list(actor, product_id=asked["product_id"], **first).items
    if asked.get("performance_id"):
        performance = catalog.get_performance(actor, asked["performance_id"])
        chosen["quotas"] = catalog.quotas.list(actor, performance_id=performance.id, **first).items
        chosen["seat_categories"] = catalog.seat_categories.list(actor, venue_id=performance.venue_id, **first).items
    return chosen


def _counts(text: str | None, names: tuple[str, ...]) -> dict[str, int]:
    """Counts as a redirect carried them (``done:2,skipped_locked:1``), of the ``names`` known only."""
    counts = {}
    for part in (text or "").split(","):
        name, _, number = part.partition(":")
        if name in names and number.isdigit():
            counts[name] = int(number)
    return counts


@console_route(bp, "/console/options")
def options_list(screen: Screen):
    from chalicelib.handlers.http import parse_query
    from chalicelib.handlers.options import line_filters
    from chalicelib.services.options import listing

    asked = _collected(screen.query_values)
    page = rows = None
    if asked:  # a search: the API's schema says which filter is missing or wrong
        given = screen.query("cursor")  # the list's cursor carries the count with its place
        cursor = {"cursor": given} if given else {}
        query = parse_query({**asked, **cursor, "limit": str(PAGE_SIZE)}, "options:LineQuery")
        page = listing.find_lines(screen.actor, line_filters(query), limit=query.limit, cursor=query.cursor)
        rows = listing.views(screen.actor, page.items)
    done = screen.query("done")
    return screen.page("options.html.j2", asked=asked, choices=_choices(screen, asked), page=page, rows=rows,
                       today=listing.venue_today(screen.actor).isoformat(), done=done if done in ACTIONS else None,
                       counts=_counts(screen.query("counts"), OUTCOMES),
                       next_link=_list_address(asked, cursor=page.next_cursor) if page and page.next_cursor else None)




# -- actions on the ticked lines, or on every line matching ----------------------------------


def _body(screen: Screen, model: str, **fields):
    """A form read as the API reads its JSON body, with the ticked lines."""
    return form_body({"line_ids": screen.values("line_id"), **fields}, model)


def _ticked(screen: Screen) -> None:
    from chalicelib.errors import InvalidInput

    if not screen.values("line_id"):
        raise InvalidInput.on("line_ids", screen.say(
            "Cochez au moins une ligne, ou choisissez toutes les lignes correspondant aux filtres.",
            "Tick at least one line, or choose every line matching the filters."))


def _reason(screen: Screen) -> dict:
    reason = screen.value("reason", 400)
    return {"reason": reason} if reason else {}


def _outcome(screen: Screen, asked: dict[str, str], action: str, outcomes) -> object:
    from chalicelib.services.options.outcomes import tally

    counts = ",".join(f"{name}:{number}" for name, number in tally(outcomes).items())
    return screen.redirect(_list_address(asked, done=action, counts=counts))


def _for_all(screen: Screen) -> bool:
    return screen.value("scope") == "all"


@console_route(bp, "/console/options/mark", methods=("POST",))
def mark(screen: Screen):
    from chalicelib.services.options import marks

    _ticked(screen)
    body = _body(screen, "options:MarkIn", mark=screen.value("mark"))
    return _outcome(screen, _collected(screen.values), f"mark-{body.mark}",
                    marks.set_mark(screen.actor, body.line_ids, body.mark))


@console_route(bp, "/console/options/lock", methods=("POST",))
def lock(screen: Screen):
    from chalicelib.services.options import marks

    _ticked(screen)
    body = _body(screen, "options:LockIn", **_reason(screen))
    return _outcome(screen, _collected(screen.values), "lock", marks.lock(screen.actor, body.line_ids, body.reason))


@console_route(bp, "/console/options/unlock", methods=("POST",))
def unlock(screen: Screen):
    from chalicelib.services.options import marks

    _ticked(screen)
    body = _body(screen, "options:LockIn", **_reason(screen))
    return _outcome(screen, _collected(screen.values), "unlock",
                    marks.unlock(screen.actor, body.line_ids, body.reason))


@console_route(bp, "/console/options/remind", methods=("POST",))
def remind(screen: Screen):
    from chalicelib.services.options import bulk, reminders

    asked = _collected(screen.values)
    if _for_all(screen):
        job = bulk.remind_all(screen.actor, _line_filters(asked))
        return screen.redirect(f"/console/jobs/{job.id}")
    _ticked(screen)
    body = _body(screen, "options:LinesIn")
    return _outcome(screen, asked, "remind", reminders.remind_by_ids(screen.actor, body.line_ids))


def _new_deadline(screen: Screen) -> str:
    """The deadline typed on the venue's clock (``2026-12-20T18:00``), as the API's aware time;
    anything else is left for the API's schema to refuse."""
    from chalicelib.services.options.listing import venue_zone
    from chalicelib.values.local_time import zone

    typed = screen.value("deadline", 40)
    try:
        moment = datetime.fromisoformat(typed)
    except ValueError:
        return typed
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone(venue_zone(screen.actor.tenant_id)))
    return moment.isoformat()


@console_route(bp, "/console/options/extend", methods=("POST",))
def extend(screen: Screen):
    from chalicelib.services.options import bulk, deadlines

    asked = _collected(screen.values)
    fields = {"deadline": _new_deadline(screen), **_reason(screen)}
    if _for_all(screen):
        filters = _line_filters(asked)
        body = form_body({**filters.as_params(), **fields}, "options:ExtendAllIn")
        job = bulk.extend_all(screen.actor, filters, body.deadline, reason=body.reason)
        return screen.redirect(f"/console/jobs/{job.id}")
    _ticked(screen)
    body = _body(screen, "options:ExtendIn", **fields)
    return _outcome(screen, asked, "extend",
                    deadlines.extend_by_ids(screen.actor, body.line_ids, body.deadline, reason=body.reason))


# -- release: the preview, then the confirming form ------------------------------------------


def _release_mail(screen: Screen) -> bool:
    from chalicelib.services.options import policy

    return bool(policy.get_policy(screen.actor).release_mail)


@console_route(bp, "/console/options/release/preview", methods=("POST",))
def release_preview(screen: Screen):
    """What releasing the ticked lines would take back; nothing is written."""
    from chalicelib.services.options import listing, release

    _ticked(screen)
    body = _body(screen, "options:LinesIn")
    preview = release.preview_ids(screen.actor, body.line_ids)
    lines = list(zip(listing.views(screen.actor, [row for row, _ in preview.decisions]),
                     [why for _, why in preview.decisions]))
    return screen.page("options_release.html.j2", preview=preview, lines=lines, line_ids=body.line_ids,
                       asked=_collected(screen.values), for_all=False, mail=_release_mail(screen))


@console_route(bp, "/console/options/release", methods=("POST",))
def release_lines(screen: Screen):
    from chalicelib.services.options import release

    _ticked(screen)
    body = _body(screen, "options:ReleaseIn", mail=screen.value("mail") == "1", **_reason(screen))
    return _outcome(screen, _collected(screen.values), "release",
                    release.release_by_ids(screen.actor, body.line_ids, mail=body.mail, reason=body.reason))


@console_route(bp, "/console/options/release-all", methods=("GET", "POST"))
def release_all(screen: Screen):
    """Run release for all: what would go, by GET (nothing written); the job, by the confirming POST."""
    from chalicelib.services.options import bulk, release

    if screen.request.method == "GET":
        asked = _collected(screen.query_values)
        return screen.page("options_release.html.j2", preview=release.preview_all(screen.actor, _line_filters(asked)),
                           lines=[], line_ids=[], asked=asked, for_all=True, mail=_release_mail(screen))
    asked = _collected(screen.values)
    filters = _line_filters(asked)
    body = form_body({**filters.as_params(), "mail": screen.value("mail") == "1", **_reason(screen)},
                     "options:ReleaseAllIn")
    job = bulk.release_all(screen.actor, filters, mail=body.mail, reason=body.reason)
    return screen.redirect(f"/console/jobs/{job.id}")


# -- the policy ------------------------------------------------------------------------------


@console_route(bp, "/console/options/policy")
def policy_view(screen: Screen):
    from chalicelib.services.options import policy

    ran, jobs = screen.query("ran"), screen.query("jobs") or "0"
    return screen.page("options_policy.html.j2", policy=policy.get_policy(screen.actor),
                       saved=screen.query("saved") == "1", ran=screen.query("jobs") is not None,
                       due=_counts(ran, DUE_ACTIONS), jobs=int(jobs) if jobs.isdigit() else 0,
                       waiting=[name for name in (screen.query("waiting") or "").split(",") if name in DUE_ACTIONS])


@console_route(bp, "/console/options/due/run", methods=("POST",), role="admin")
def run_due(screen: Screen):
    """The schedule's sweep for this venue, now: the jobs it would start (the API's ``due/run``)."""
    from chalicelib.services.options import schedule

    run = schedule.run_due_now(screen.actor)
    return screen.redirect("/console/options/policy?" + urlencode({
        "ran": ",".join(f"{name}:{number}" for name, number in run.due.items()), "jobs": str(len(run.jobs)),
        "waiting": ",".join(run.waiting)}))


def _number(text: str):
    """A whole number typed in a field, or the text as typed for the schema to refuse."""
    return int(text) if text.isdigit() else text


@console_route(bp, "/console/options/policy", methods=("POST",), role="admin")
def policy_save(screen: Screen):
    from chalicelib.services.options import schedule

    fields = {"remind_days_before": _number(screen.value("remind_days_before", 10)),
              "release_days_after": _number(screen.value("release_days_after", 10)),
              "kinds": screen.values("kinds"), "quiet_from": screen.value("quiet_from", 10),
              "quiet_until": screen.value("quiet_until", 10), "timezone": screen.value("timezone", 64),
              "release_mail": screen.value("release_mail") == "1"}
    body = form_body(fields, "options:PolicyIn")
    schedule.save_policy(screen.actor, body.model_dump())
    return screen.redirect("/console/options/policy?saved=1")
