"""The follow-up list: the lines of open options or reservations whose deadline falls on or
before a date, in a season and product family, narrowed by optional filters, with how many match.

**One Query per page.** The mandatory filters (kind, season, family) name a *scope*; the lines
of a scope are indexed by deadline, alone and narrowed by performance, by product and by
contact (:class:`~chalicelib.models.options.HoldLine`). A page queries the most selective of
those four indexes the filters allow (contact, then performance, then product, then the scope)
up to the end of the date asked, in the venue's zone, oldest deadline first. Other optional
filters (quota, tariffs, sales channel, contact types, product type, seat categories) narrow
that page: such a page reads at most ``limit`` lines and may return fewer, with a cursor to go
on, so no request's cost grows with the number of options.

**The count is exact.** With the mandatory filters and at most one of performance, product or
contact, it is the sum of the day counters (:class:`~chalicelib.models.options.HoldLineCount`) up
to the date: one Query over at most one item per day with options, whatever their number. With
any other filter, it is counted once, on the first page, by reading the matching lines' sizes
(what those filters select, not the whole scope), and carried by the cursor to the next pages.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime

from chalicelib.errors import FieldError, InvalidInput
from chalicelib.models.catalog import (
    Performance,
    Product,
    ProductFamily,
    Quota,
    SalesChannel,
    Season,
    SeatCategory,
    Tariff,
)
from chalicelib.models.contacts import Contact
from chalicelib.models.options import HoldLine, HoldLineCount
from chalicelib.services.orders import follow_up
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.paging import invalid_cursor, open_place, sign_place
from chalicelib.services.shared.records import by_ids, require_reference
from chalicelib.values.local_time import end_of_local_day

COUNT_BATCH = 1000


@dataclass(frozen=True)
class LineFilters:
    kind: str
    deadline_on_or_before: date
    season_id: str
    family_id: str
    product_id: str | None = None
    quota_id: str | None = None
    tariff_ids: tuple[str, ...] = ()
    channel_id: str | None = None
    performance_id: str | None = None
    contact_id: str | None = None
    contact_types: tuple[str, ...] = ()
    product_type: str | None = None
    seat_category_ids: tuple[str, ...] = ()

    def as_params(self) -> dict:
        """As a job's params (JSON)."""
        values = {name: getattr(self, name) for name in self.__dataclass_fields__}
        values["deadline_on_or_before"] = self.deadline_on_or_before.isoformat()
        return {name: list(value) if isinstance(value, tuple) else value for name, value in values.items()
                if value not in (None, ())}

    @classmethod
    def from_params(cls, params: dict) -> "LineFilters":
        values = dict(params)
        values["deadline_on_or_before"] = date.fromisoformat(values["deadline_on_or_before"])
        for name in ("tariff_ids", "contact_types", "seat_category_ids"):
            values[name] = tuple(values.get(name) or ())
        return cls(**values)


@dataclass
class LinePage:
    items: list[HoldLine]
    next_cursor: str | None
    matching_lines: int
    matching_places: int
    counted_by: str  # "counters" or "reading"


@dataclass
class Selection:
    """How a filter set is queried: the index, its key, the deadline bound, the narrowing."""

    index: object
    key: str
    before: str
    narrowing: object | None
    scope: str = field(default="")


def check_filters(actor: Actor, filters: LineFilters) -> None:
    """Every id a filter names must be the venue's (422 naming the filter otherwise)."""
    for model, value, name in ((Season, filters.season_id, "season_id"), (ProductFamily, filters.family_id, "family_id"),
                               (Product, filters.product_id, "product_id"), (Quota, filters.quota_id, "quota_id"),
                               (SalesChannel, filters.channel_id, "channel_id"),
                               (Performance, filters.performance_id, "performance_id"),
                               (Contact, filters.contact_id, "contact_id")):
        if value:
            require_reference(actor, model, value, name)
    for model, values, name in ((Tariff, filters.tariff_ids, "tariff_ids"),
                                (SeatCategory, filters.seat_category_ids, "seat_category_ids")):
        for position, value in enumerate(values):
            require_reference(actor, model, value, f"{name}.{position}")


def selection(actor: Actor, filters: LineFilters, zone: str) -> Selection:
    scope = follow_up.scope_key(actor.tenant_id, filters.kind, filters.season_id, filters.family_id)
    if filters.contact_id:
        index, key = HoldLine.by_contact, f"{scope}#contact#{filters.contact_id}"
    elif filters.performance_id:
        index, key = HoldLine.by_performance, f"{scope}#performance#{filters.performance_id}"
    elif filters.product_id:
        index, key = HoldLine.by_product, f"{scope}#product#{filters.product_id}"
    else:
        index, key = HoldLine.by_scope, scope
    before = follow_up.stamp(end_of_local_day(filters.deadline_on_or_before, zone))
    chosen = Selection(index, key, before, _narrowing(filters, index))
    chosen.scope = f"hold-lines:{key}:{before}:{chosen.narrowing}"
    return chosen


def _narrowing(filters: LineFilters, index) -> object | None:
    terms = []
    if filters.performance_id and index is not HoldLine.by_performance:
        terms.append(HoldLine.performance_id == filters.performance_id)
    if filters.product_id and index is not HoldLine.by_product:
        terms.append(HoldLine.product_id == filters.product_id)
    if filters.quota_id:
        terms.append(HoldLine.quota_id == filters.quota_id)
    if filters.channel_id:
        terms.append(HoldLine.channel_id == filters.channel_id)
    if filters.product_type:
        terms.append(HoldLine.product_type == filters.product_type)
    for attribute, values in ((HoldLine.tariff_id, filters.tariff_ids), (HoldLine.contact_type, filters.contact_types),
                              (HoldLine.seat_category_id, filters.seat_category_ids)):
        if values:
            terms.append(attribute.is_in(*values))
    condition = None
    for term in terms:
        condition = term if condition is None else condition & term
    return condition


def lines_matching(actor: Actor, filters: LineFilters, zone: str, *, limit: int, start: dict | None):
    """One DynamoDB Query's worth of matching lines from ``start`` (an ``ExclusiveStartKey``):
    at most ``limit`` lines read, those that match, and the key to go on from (``None`` at the
    end). The list's pages and the jobs' chunks both walk the lines this way."""
    chosen = selection(actor, filters, zone)
    return _one_query(chosen, limit=limit, start=start)


def _one_query(chosen: Selection, *, limit: int, start: dict | None) -> tuple[list[HoldLine], dict | None]:
    results = chosen.index.query(chosen.key, HoldLine.due_key < chosen.before, filter_condition=chosen.narrowing,
                                 limit=limit, last_evaluated_key=start)
    if chosen.narrowing is None:
        items = list(results)
        return items, results.last_evaluated_key
    page = next(results.page_iter, None) or {}  # one read of ``limit`` lines, however few match
    return [HoldLine.from_raw_data(raw) for raw in page.get("Items", [])], results.page_iter.last_evaluated_key


def venue_zone(tenant_id: str) -> str:
    """The zone the venue's days are counted in (its follow-up policy's)."""
    return follow_up.zone_of(follow_up.policy_of(tenant_id))


def venue_today(actor: Actor) -> date:
    """Today on the venue's clock: the day the list's deadline filter starts from (D+5, D-7)."""
    from chalicelib.adapters import clock
    from chalicelib.values.local_time import local_day

    return local_day(clock.now(), venue_zone(actor.tenant_id))


def find_lines(actor: Actor, filters: LineFilters, *, limit: int, cursor: str | None) -> LinePage:
    """One page of the follow-up list and the count of all that match (module docstring)."""
    check_filters(actor, filters)
    zone = venue_zone(actor.tenant_id)
    chosen = selection(actor, filters, zone)
    place = _opened(chosen.scope, cursor)
    if place is None:
        lines, places, counted_by = _count(filters, chosen)
    else:
        lines, places, counted_by = int(place["n"]), int(place["p"]), place["c"]
    items, last = _one_query(chosen, limit=limit, start=place and json.loads(place["k"]))
    next_cursor = (sign_place(chosen.scope, {"k": json.dumps(last, sort_keys=True), "n": lines, "p": places,
                                             "c": counted_by}) if last else None)
    return LinePage(items, next_cursor, lines, places, counted_by)


def _opened(scope: str, cursor: str | None) -> dict | None:
    if not cursor:
        return None
    place = open_place(scope, cursor)
    if not isinstance(place.get("k"), str) or not all(isinstance(place.get(name), int) for name in ("n", "p")) \
            or place.get("c") not in ("counters", "reading"):
        raise invalid_cursor()
    try:
        json.loads(place["k"])
    except ValueError as error:
        raise invalid_cursor() from error
    return place


def _count(filters: LineFilters, chosen: Selection) -> tuple[int, int, str]:
    if chosen.narrowing is None:
        lines = places = 0
        for day in HoldLineCount.query(chosen.key, HoldLineCount.day <= filters.deadline_on_or_before.isoformat()):
            lines, places = lines + int(day.lines), places + int(day.places)
        return lines, places, "counters"
    lines = places = 0
    for row in chosen.index.query(chosen.key, HoldLine.due_key < chosen.before, filter_condition=chosen.narrowing,
                                  attributes_to_get=["quantity"], page_size=COUNT_BATCH):
        lines, places = lines + 1, places + int(row.quantity)
    return lines, places, "reading"


def parse_line_id(text: str, field_name: str = "line_ids") -> tuple[str, str]:
    """``ORDERID-003`` as ``(order_id, "003")`` (422 naming ``field_name`` otherwise)."""
    order_id, _, line = text.partition("-")
    if len(order_id) != 26 or len(line) != 3 or not line.isascii() or not line.isdigit():
        raise InvalidInput(f"Not a line id: {text!r} (ORDERID-003).", errors=[FieldError(field_name, "not a line id")])
    return order_id, line


def lines_by_order(actor: Actor, line_ids: list[str]) -> dict[str, set[str]]:
    """Line ids grouped by their order, in the order given. A malformed id, or one whose order is
    not the venue's, is a 422 naming it; a line of the venue's order that is no longer held is
    the action's to report (skipped)."""
    from chalicelib.models.orders import Order

    grouped: dict[str, set[str]] = {}
    positions: dict[str, int] = {}
    for index, text in enumerate(line_ids):
        order_id, line = parse_line_id(text, f"line_ids.{index}")
        grouped.setdefault(order_id, set()).add(line)
        positions.setdefault(order_id, index)
    known = {order.id for order in Order.batch_get([(actor.tenant_id, order_id) for order_id in grouped],
                                                   attributes_to_get=["tenant_id", "id"])}
    unknown = [order_id for order_id in grouped if order_id not in known]
    if unknown:
        raise InvalidInput("Some lines are of orders this venue does not have.",
                           errors=[FieldError(f"line_ids.{positions[order_id]}", "unknown order")
                                   for order_id in unknown])
    return grouped


@dataclass
class HeldOrder:
    order: object
    rows: list[HoldLine]


def held_order(actor: Actor, order_id: str):
    """The order and its held lines, or the outcome saying why there are none (no such order,
    paid, no longer held): what a reminder or an extension checks first."""
    from chalicelib.errors import NotFound
    from chalicelib.services.options.outcomes import SKIPPED_GONE, SKIPPED_PAID, LineOutcome
    from chalicelib.services.orders import orders

    try:
        order = orders.get_order(actor, order_id)
    except NotFound:
        return LineOutcome(order_id, SKIPPED_GONE, "no such order")
    if order.paid:
        return LineOutcome(order_id, SKIPPED_PAID)
    rows = follow_up.rows_of(actor.tenant_id, order_id) if follow_up.is_open_hold(order) else []
    if not rows:
        return LineOutcome(order_id, SKIPPED_GONE, "no longer held")
    return HeldOrder(order, rows)


def line_id(row: HoldLine) -> str:
    return f"{row.order_id}-{row.line}"


@dataclass
class LineView:
    """A row as staff read it: the row, and the names of what it refers to."""

    row: HoldLine
    line_id: str
    product_name: str | None
    performance_starts_at: datetime | None
    performance_label: str | None
    audience_category: str | None
    quota_name: str | None
    channel_name: str | None
    seat_category_name: str | None


def views(actor: Actor, rows: list[HoldLine]) -> list[LineView]:
    """The page's rows with their names, each referred record read once per page (batched)."""
    named = {model: by_ids(actor, model, [getattr(row, attribute) for row in rows if getattr(row, attribute)])
             for model, attribute in ((Product, "product_id"), (Performance, "performance_id"), (Tariff, "tariff_id"),
                                      (Quota, "quota_id"), (SalesChannel, "channel_id"),
                                      (SeatCategory, "seat_category_id"))}

    def of(model, record_id, attribute):
        record = named[model].get(record_id)
        return getattr(record, attribute) if record is not None else None

    return [LineView(row, line_id(row), of(Product, row.product_id, "name"),
                     of(Performance, row.performance_id, "starts_at"), of(Performance, row.performance_id, "label"),
                     of(Tariff, row.tariff_id, "audience_category"), of(Quota, row.quota_id, "name"),
                     of(SalesChannel, row.channel_id, "name"), of(SeatCategory, row.seat_category_id, "name"))
            for row in rows]

