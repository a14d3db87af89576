"""Catalog routes (staff): venues, seasons, product families, products, performances, tariffs,
quotas, seat categories, seats and sales channels.

Every entity has the same four routes (create, list with cursor, read, change), declared once
per plain record in ``PLAIN_RECORDS``; performances add their venue's clock; seats are
created and listed under their venue (``/venues/{venue_id}/seats``, plus a batch create) and
read or changed at ``/seats/{seat_id}``. Performances are answered with their start on the
venue's clock as well as in UTC.
"""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.http import RecordRoutes, staff_route

bp = Blueprint(__name__)
TAG = "catalog"
PAGE = "common:PageQuery"

PLAIN_RECORDS = (
    RecordRoutes("/venues", "venue_id", "catalog.catalog:venues", "venue", "catalog:Venue"),
    RecordRoutes("/seasons", "season_id", "catalog.catalog:seasons", "season", "catalog:Season"),
    RecordRoutes("/product-families", "family_id", "catalog.catalog:product_families", "product family",
                 "catalog:ProductFamily"),
    RecordRoutes("/products", "product_id", "catalog.catalog:products", "product (show, package or subscription)",
                 "catalog:Product", notes="its kind is fixed", filters=("season_id",)),
    RecordRoutes("/tariffs", "tariff_id", "catalog.catalog:tariffs", "tariff (ticket type)", "catalog:Tariff",
                 notes="its product is fixed", filters=("product_id",)),
    RecordRoutes("/quotas", "quota_id", "catalog.catalog:quotas", "quota (contingent)", "catalog:Quota",
                 notes="a capacity change moves what remains; 409 below what is sold", filters=("performance_id",)),
    RecordRoutes("/seat-categories", "category_id", "catalog.catalog:seat_categories", "seat category",
                 "catalog:SeatCategory", notes="its venue is fixed", filters=("venue_id",)),
    RecordRoutes("/sales-channels", "channel_id", "catalog.catalog:sales_channels", "sales channel or point of sale",
                 "catalog:SalesChannel"),
)
for record in PLAIN_RECORDS:
    record.register(bp, TAG)


# --- performances ----------------------------------------------------------------------------

@staff_route(bp, "/performances", method="POST", body="catalog:PerformanceIn", response="catalog:PerformanceOut",
             status=201, summary="Create a performance of a show", tag=TAG)
def create_performance(actor, body):
    from chalicelib.services.catalog import catalog

    return catalog.at_venue(actor, catalog.create_performance(actor, body.model_dump()))


@staff_route(bp, "/performances", query="catalog:PerformanceQuery", response="catalog:PerformanceOut", many=True,
             summary="List performances in date order, all or a product's, optionally between two dates", tag=TAG)
def list_performances(actor, query):
    from chalicelib.services.catalog import catalog
    from chalicelib.services.shared.paging import Page

    page = catalog.list_performances(actor, product_id=query.product_id, starts_from=query.from_,
                                     starts_to=query.to, limit=query.limit, cursor=query.cursor)
    return Page(items=catalog.at_venues(actor, page.items), next_cursor=page.next_cursor)


@staff_route(bp, "/performances/{performance_id}", response="catalog:PerformanceOut",
             summary="Read a performance", tag=TAG)
def get_performance(actor, performance_id):
    from chalicelib.services.catalog import catalog

    return catalog.at_venue(actor, catalog.get_performance(actor, performance_id))


@staff_route(bp, "/performances/{performance_id}", method="PATCH", body="catalog:PerformancePatch",
             response="catalog:PerformanceOut", summary="Change a performance (its product is fixed)", tag=TAG)
def update_performance(actor, performance_id, body):
    from chalicelib.services.catalog import catalog

    changed = catalog.update_performance(actor, performance_id, body.model_dump(exclude_unset=True))
    return catalog.at_venue(actor, changed)


@staff_route(bp, "/performances/{performance_id}/reopen", method="POST", body="catalog:ReopenIn",
             response="catalog:PerformanceOut",
             summary="Put a cancelled or postponed performance back on sale (scheduled): its campaigns close, their "
                     "refund pages offer nothing more, choices already made stand (audited with the reason)", tag=TAG)
def reopen_performance(actor, performance_id, body):
    from chalicelib.services.campaigns import campaigns
    from chalicelib.services.catalog import catalog

    return catalog.at_venue(actor, campaigns.reopen_performance(actor, performance_id, body.reason))


# --- seats -----------------------------------------------------------------------------------

@staff_route(bp, "/venues/{venue_id}/seats", method="POST", body="catalog:SeatIn", response="catalog:SeatOut",
             status=201, summary="Create a seat of a venue (409 if its block/row/number exists)", tag=TAG)
def create_seat(actor, venue_id, body):
    from chalicelib.services.catalog import catalog

    return catalog.create_venue_seat(actor, venue_id, body.model_dump())


@staff_route(bp, "/venues/{venue_id}/seats/batch", method="POST", body="catalog:SeatBatchIn",
             response="catalog:SeatBatchOut",
             summary="Create up to 500 seats of a venue; duplicates and invalid seats are reported, not created",
             tag=TAG)
def create_seats(actor, venue_id, body):
    from chalicelib.services.catalog import catalog

    return catalog.create_seats(actor, venue_id, [seat.model_dump() for seat in body.seats])


@staff_route(bp, "/venues/{venue_id}/seats", query=PAGE, response="catalog:SeatOut", many=True,
             summary="List a venue's seats in block, row, number order", tag=TAG)
def list_seats(actor, venue_id, query):
    from chalicelib.services.catalog import catalog

    return catalog.list_seats(actor, venue_id=venue_id, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/seats/{seat_id}", response="catalog:SeatOut", summary="Read a seat", tag=TAG)
def get_seat(actor, seat_id):
    from chalicelib.services.catalog import catalog

    return catalog.get_seat(actor, seat_id)


@staff_route(bp, "/seats/{seat_id}", method="PATCH", body="catalog:SeatPatch", response="catalog:SeatOut",
             summary="Change a seat (409 if its new block/row/number exists; its venue is fixed)", tag=TAG)
def update_seat(actor, seat_id, body):
    from chalicelib.services.catalog import catalog

    return catalog.update_seat(actor, seat_id, body.model_dump(exclude_unset=True))
