"""The catalog as staff maintain it: what is sold, where and when.

Plain records go through :mod:`chalicelib.services.shared.records`; this module adds the rules
that tie catalog entities together, each stated once as a ``_x_rules`` function used on
create and on update (see :data:`~chalicelib.services.shared.records.Rules`):

- a season ends after it starts;
- a product's family and season exist; only a subscription is renewed tacitly;
- a performance is of a show and at an existing venue;
- a tariff's product and a quota's performance exist;
- a quota keeps what is sold: ``remaining = capacity - sold``, so a capacity below what is
  sold is a conflict; sales take places with :func:`take_places` (atomic, never below zero);
- a seat's category belongs to the seat's venue; a seat's block/row/number is unique in its
  venue (claimed by the model, a duplicate is a 409).

A listing filtered by a parent (``?product_id=``) answers 422 on that parameter when the
parent is not the tenant's, rather than an empty page: another tenant's id never "works".

Fields fixed at creation (a product's kind, a performance's product, ...) are simply absent
from the PATCH schemas. Staff read performances through :func:`at_venues`, which adds each
start on its venue's clock.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from pynamodb.exceptions import UpdateError

from chalicelib.adapters import clock
from chalicelib.config import settings
from chalicelib.errors import Conflict, Duplicate, FieldError, InvalidInput
from chalicelib.models.catalog import (
    Performance,
    Product,
    ProductFamily,
    Quota,
    SalesChannel,
    Season,
    Seat,
    SeatCategory,
    Tariff,
    Venue,
)
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.paging import Page
from chalicelib.services.shared.records import (
    RecordKind,
    by_ids,
    check_reference,
    create_record,
    get_record,
    list_by_index,
    require_reference,
    update_record,
)

# --- venues ----------------------------------------------------------------------------------


def venue_zones(actor: Actor, venue_ids: Iterable[str]) -> dict[str, str]:
    """The IANA time zone of each venue (one BatchGetItem), to show times on the venue's clock."""
    wanted = set(venue_ids)
    found = {venue.id: venue.timezone
             for venue in Venue.batch_get([(actor.tenant_id, venue_id) for venue_id in wanted])} if wanted else {}
    return {venue_id: found.get(venue_id, settings.default_timezone) for venue_id in wanted}


# --- seasons ---------------------------------------------------------------------------------


def _season_rules(actor: Actor, season: Season, before: dict | None) -> None:
    if season.ends_on <= season.starts_on:
        raise InvalidInput("A season ends after it starts.",
                           errors=[FieldError("ends_on", "must be after starts_on")])


# --- products --------------------------------------------------------------------------------


def _product_rules(actor: Actor, product: Product, before: dict | None) -> None:
    check_reference(actor, product, before, "family_id", ProductFamily)
    check_reference(actor, product, before, "season_id", Season)
    if product.tacit_renewal and product.kind != "subscription":
        raise InvalidInput("Only a subscription is renewed tacitly.",
                           errors=[FieldError("tacit_renewal", "only for a subscription")])


# --- performances ----------------------------------------------------------------------------


def _performance_rules(actor: Actor, performance: Performance, before: dict | None) -> None:
    product = check_reference(actor, performance, before, "product_id", Product)
    if product is not None and product.kind != "show":
        raise InvalidInput(f"A performance is of a show, not of a {product.kind}.",
                           errors=[FieldError("product_id", "must be a show")])
    check_reference(actor, performance, before, "venue_id", Venue)


def create_performance(actor: Actor, fields: dict) -> Performance:
    """``fields["starts_at"]`` must be an aware datetime (stored in UTC)."""
    return create_record(actor, Performance, fields, rules=_performance_rules)


def update_performance(actor: Actor, performance_id: str, changes: dict) -> Performance:
    """Change a performance's date, venue or label; its status moves only through a campaign
    (postponed, cancelled) or a re-opening, which say what becomes of its sold tickets."""
    if "status" in changes:
        raise InvalidInput("A performance's status moves only through a campaign or a re-opening.",
                           errors=[FieldError("status", "moves only through a campaign or a re-opening")])
    return update_record(actor, Performance, performance_id, changes, rules=_performance_rules)


def get_performance(actor: Actor, performance_id: str) -> Performance:
    return get_record(actor, Performance, performance_id)


def list_performances(actor: Actor, *, product_id: str | None = None, starts_from: datetime | None = None,
                      starts_to: datetime | None = None, limit: int, cursor: str | None) -> Page[Performance]:
    """Performances in date order, all of the tenant's or one product's, starting within
    ``[starts_from, starts_to]`` (each bound optional, inclusive)."""
    starts_at = Performance.starts_at
    if starts_from is not None and starts_to is not None:
        window = starts_at.between(starts_from, starts_to)
    elif starts_from is not None:
        window = starts_at >= starts_from
    elif starts_to is not None:
        window = starts_at <= starts_to
    else:
        window = None
    if product_id is None:
        return list_by_index(actor, Performance.by_date, limit=limit, cursor=cursor, range_condition=window)
    require_reference(actor, Product, product_id, "product_id")
    return list_by_index(actor, Performance.by_product, product_id, limit=limit, cursor=cursor,
                         range_condition=window)


def upcoming_performances(actor: Actor, *, limit: int) -> list[tuple[Performance, str]]:
    """The next ``limit`` performances from now in date order, those cancelled left out, each with
    the name staff know it by (its own label, else its show's name: one BatchGetItem)."""
    page = list_performances(actor, starts_from=clock.now(), limit=limit, cursor=None)
    upcoming = [performance for performance in page.items if performance.status != "cancelled"]
    wanted = {performance.product_id for performance in upcoming}
    names = {product.id: product.name
             for product in Product.batch_get([(actor.tenant_id, product_id) for product_id in wanted])} if wanted else {}
    return [(performance, performance.label or names.get(performance.product_id, performance.id))
            for performance in upcoming]


@dataclass(frozen=True)
class PerformanceAtVenue:
    """A performance as staff read it: its fields, plus its start on the venue's clock."""

    performance: Performance
    venue_timezone: str

    def __getattr__(self, name: str) -> Any:  # only called for what the view itself lacks
        if name.startswith("__") or name == "performance":
            raise AttributeError(name)
        return getattr(self.performance, name)

    @property
    def starts_at_local(self) -> str:
        from zoneinfo import ZoneInfo  # only when a performance is shown: keeps it out of the cold start

        return self.performance.starts_at.astimezone(ZoneInfo(self.venue_timezone)).isoformat()


def at_venues(actor: Actor, performances: list[Performance]) -> list[PerformanceAtVenue]:
    """``performances`` each with its venue's time zone (one read for all their venues)."""
    zones = venue_zones(actor, (performance.venue_id for performance in performances))
    return [PerformanceAtVenue(performance, zones[performance.venue_id]) for performance in performances]


def at_venue(actor: Actor, performance: Performance) -> PerformanceAtVenue:
    return at_venues(actor, [performance])[0]


# --- tariffs ---------------------------------------------------------------------------------


def _tariff_rules(actor: Actor, tariff: Tariff, before: dict | None) -> None:
    check_reference(actor, tariff, before, "product_id", Product)


# --- quotas ----------------------------------------------------------------------------------


def _quota_rules(actor: Actor, quota: Quota, before: dict | None) -> None:
    check_reference(actor, quota, before, "performance_id", Performance)
    sold = 0 if before is None else before["capacity"] - before["remaining"]
    if quota.capacity < sold:
        raise Conflict(f"{sold} places of this quota are already sold; its capacity cannot go below that.",
                       errors=[FieldError("capacity", f"must be at least {sold}")])
    quota.remaining = quota.capacity - sold


def take_places(actor: Actor, quota_id: str, count: int) -> Quota:
    """Take ``count`` places from a quota in one atomic update (409 if fewer remain).

    Not audited here: the order or hold that takes the places is. The update increments
    ``version`` so a staff edit based on an older read fails instead of undoing the sale.
    """
    return _move_places(actor, quota_id, count, take=True)


def return_places(actor: Actor, quota_id: str, count: int) -> Quota:
    """Give ``count`` places back to a quota (a release, a cancellation); never above capacity."""
    return _move_places(actor, quota_id, count, take=False)


def _move_places(actor: Actor, quota_id: str, count: int, *, take: bool) -> Quota:
    if count <= 0:
        raise InvalidInput("A count of places must be positive.", errors=[FieldError("count", "must be > 0")])
    quota = get_record(actor, Quota, quota_id)
    if take:
        condition = Quota.remaining >= count
    else:  # against the capacity just read: a concurrent capacity change makes this fail, to be retried
        condition = (Quota.capacity == quota.capacity) & (Quota.remaining <= quota.capacity - count)
    try:
        quota.update(actions=[Quota.remaining.add(-count if take else count)], condition=condition,
                     add_version_condition=False)
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        raise Conflict(f"Cannot {'take' if take else 'give back'} {count} places: quota {quota.name!r} has "
                       f"{quota.remaining} of {quota.capacity} remaining.") from None
    return quota


# --- seat categories -------------------------------------------------------------------------


def _seat_category_rules(actor: Actor, category: SeatCategory, before: dict | None) -> None:
    check_reference(actor, category, before, "venue_id", Venue)


# --- seats -----------------------------------------------------------------------------------


def _seat_rules(actor: Actor, seat: Seat, before: dict | None) -> None:
    check_reference(actor, seat, before, "venue_id", Venue)
    category = check_reference(actor, seat, before, "category_id", SeatCategory)
    if category is not None and category.venue_id != seat.venue_id:
        raise InvalidInput("The seat category belongs to another venue.",
                           errors=[FieldError("category_id", "must be a category of the seat's venue")])


def create_seat(actor: Actor, fields: dict) -> Seat:
    """``fields``: venue_id, block, row, number, category_id (optional). 409 :class:`Duplicate`
    if the venue already has a seat at this block/row/number."""
    return create_record(actor, Seat, fields, rules=_seat_rules)


def create_venue_seat(actor: Actor, venue_id: str, fields: dict) -> Seat:
    """A seat of the venue the route names (404 if the venue is not the tenant's)."""
    venues.get(actor, venue_id)
    return create_seat(actor, {**fields, "venue_id": venue_id})


def update_seat(actor: Actor, seat_id: str, changes: dict) -> Seat:
    return update_record(actor, Seat, seat_id, changes, rules=_seat_rules)


def get_seat(actor: Actor, seat_id: str) -> Seat:
    return get_record(actor, Seat, seat_id)


def performances_by_id(actor: Actor, performance_ids: Iterable[str]) -> dict[str, Performance]:
    """The tenant's performances of these ids (one batch read; unknown ids left out)."""
    return by_ids(actor, Performance, performance_ids)


def seats_by_id(actor: Actor, seat_ids: Iterable[str]) -> dict[str, Seat]:
    """The tenant's seats of these ids (one batch read; unknown ids left out)."""
    return by_ids(actor, Seat, seat_ids)


def seat_at(actor: Actor, venue_id: str, block: str, row: str, number: str) -> Seat | None:
    """The venue's seat at this place (as its block, row and number are written), or ``None``:
    read through the claim that keeps one seat per place (one GetItem, whatever the venue's size)."""
    from chalicelib.models.base import tenant_key
    from chalicelib.models.unique_keys import UniqueKey

    try:
        claim = UniqueKey.get(tenant_key(actor.tenant_id, Seat.entity_type, "position", venue_id, block, row, number))
    except UniqueKey.DoesNotExist:
        return None
    return get_record(actor, Seat, claim.entity_id)


def list_seats(actor: Actor, *, venue_id: str, limit: int, cursor: str | None) -> Page[Seat]:
    """A venue's seats in natural block, row, number order (404 if the venue is not the tenant's)."""
    venues.get(actor, venue_id)
    return list_by_index(actor, Seat.by_venue, venue_id, limit=limit, cursor=cursor)


@dataclass(frozen=True)
class RefusedSeat:
    index: int
    """Position of the seat in the request's list."""
    reason: str
    """``duplicate`` (the venue has a seat there) or ``invalid`` (e.g. a category of another venue)."""
    detail: str
    block: str
    row: str
    number: str


@dataclass
class SeatBatch:
    created: list[Seat] = field(default_factory=list)
    refused: list[RefusedSeat] = field(default_factory=list)


def create_seats(actor: Actor, venue_id: str, seats: list[dict]) -> SeatBatch:
    """Create many seats of a venue (404 if unknown), each on its own and by the same rules as
    :func:`create_seat`; not all-or-nothing: a duplicate or invalid seat is reported with its
    index and the others are still created."""
    venues.get(actor, venue_id)
    batch = SeatBatch()
    for index, fields in enumerate(seats):
        try:
            batch.created.append(create_seat(actor, {**fields, "venue_id": venue_id}))
        except (Duplicate, InvalidInput) as error:
            batch.refused.append(RefusedSeat(index, "duplicate" if isinstance(error, Duplicate) else "invalid",
                                             error.detail, fields["block"], fields["row"], fields["number"]))
    return batch


# --- the plain records: create, read, update, list (filtered by a parent) ----------------------

venues = RecordKind(Venue)
seasons = RecordKind(Season, rules=_season_rules)
product_families = RecordKind(ProductFamily)
products = RecordKind(Product, rules=_product_rules, filters={"season_id": (Product.by_season, Season)})
tariffs = RecordKind(Tariff, rules=_tariff_rules, filters={"product_id": (Tariff.by_product, Product)})
quotas = RecordKind(Quota, rules=_quota_rules, filters={"performance_id": (Quota.by_performance, Performance)})
seat_categories = RecordKind(SeatCategory, rules=_seat_category_rules,
                             filters={"venue_id": (SeatCategory.by_venue, Venue)})
sales_channels = RecordKind(SalesChannel)
