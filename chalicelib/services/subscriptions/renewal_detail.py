"""A renewal dry run's detail, the console's report under the run's counts: the dry run walked
again a page at a time with the run's own code (:func:`renewal.walk`), each source subscription
with what the real run would do, writing nothing; and the names behind a page's ids.

What the walk carries from page to page grows with the run (the orders seen, the seats handed out
from pools), so it is kept server-side for a day (``services/shared/kept_places.py``) and the
page's cursor stays short whatever the run's size.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.errors import Conflict
from chalicelib.models.catalog import Performance, Seat, Tariff
from chalicelib.models.jobs import Job
from chalicelib.services.jobs.framework import ChunkBudget
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.kept_places import keep_place, kept_place
from chalicelib.services.shared.paging import Page
from chalicelib.services.shared.records import by_ids
from chalicelib.services.subscriptions.renewal import ReportLine, walk
from chalicelib.services.subscriptions.terms import get_terms

DETAIL_SECONDS = 20.0  # a detail page's walk: far inside an API request's time


def dry_run_detail(actor: Actor, job: Job, *, limit: int, cursor: str | None) -> Page[ReportLine]:
    """A page of a dry run's detail: the dry run walked again now, ``limit`` source
    subscriptions at a time, each with what the real run would do (writing nothing). The cursor
    stands for what the walk carries from chunk to chunk (where it stopped, the orders seen, the
    seats handed out), kept server-side for a day, so walking the pages in order projects what
    the run projected."""
    if not job.params.get("dry_run"):
        raise Conflict("Only a dry run has a detail; a real run's renewals are the new product's subscriptions.")
    scope = f"renewal-detail:{actor.tenant_id}:{job.id}"
    place = kept_place(actor.tenant_id, scope, cursor) if cursor else None
    lines: list[ReportLine] = []
    result = walk(actor, {**job.params, "dry_run": True}, place,
                   ChunkBudget(job_id=job.id, seq=0, max_items=limit, seconds=DETAIL_SECONDS), lines)
    # What the walk carries grows with the run (seats handed out, orders seen): kept server-side,
    # so the next page's address stays short whatever the run's size.
    return Page(items=lines, next_cursor=keep_place(actor.tenant_id, scope, result.cursor) if result.cursor else None)


@dataclass
class DetailLabels:
    """What staff read for the ids of a page of a dry run's detail."""

    names: dict[str, str]  # contact id -> name, tariff id -> name, seat id -> "block row number"
    performances: list[Performance]  # the new product's, in date order


def detail_labels(actor: Actor, job: Job, lines: list[ReportLine]) -> DetailLabels:
    """The names behind a detail page's ids: one batch read each of contacts, tariffs, seats,
    and the new product's performances."""
    from chalicelib.services.subscriptions.subscriptions import people_names

    names = people_names(actor, {line.holder_contact_id for line in lines} | {line.payer_contact_id for line in lines})
    tariffs = by_ids(actor, Tariff, {line.tariff_id for line in lines if line.tariff_id})
    seats = by_ids(actor, Seat, {seat_id for line in lines for seat_id in line.seats.values()})
    names.update({tariff.id: tariff.name for tariff in tariffs.values()})
    names.update({seat.id: f"{seat.block} {seat.row} {seat.number}" for seat in seats.values()})
    terms = get_terms(actor, job.params["target_product_id"])
    performances = by_ids(actor, Performance, terms.performance_ids)
    return DetailLabels(names=names, performances=[performances[performance_id] for performance_id
                                                   in terms.performance_ids if performance_id in performances])
