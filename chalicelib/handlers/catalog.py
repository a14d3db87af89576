"""Catalog routes (staff): venues, seasons, product families, products, performances, tariffs,
quotas, seat categories, seats and sales channels.

Every entity has the same four routes (create, list with cursor, read, change); seats are
created and listed under their venue (``/venues/{venue_id}/seats``, plus a batch create) and
read or changed at ``/seats/{seat_id}``. Performances are answered with their start on the
venue's clock as well as in UTC.
"""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.http import staff_route
from chalicelib.services import catalog
from chalicelib.services.paging import Page

bp = Blueprint(__name__)
TAG = "catalog"
PAGE = "common:PageQuery"


# --- venues ----------------------------------------------------------------------------------

@staff_route(bp, "/venues", method="POST", body="catalog:VenueIn", response="catalog:VenueOut", status=201,
             summary="Create a venue", tag=TAG)
def create_venue(actor, body):
    return catalog.create_venue(actor, body.model_dump())


@staff_route(bp, "/venues", query=PAGE, response="catalog:VenueOut", many=True, summary="List venues", tag=TAG)
def list_venues(actor, query):
    return catalog.list_venues(actor, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/venues/{venue_id}", response="catalog:VenueOut", summary="Read a venue", tag=TAG)
def get_venue(actor, venue_id):
    return catalog.get_venue(actor, venue_id)


@staff_route(bp, "/venues/{venue_id}", method="PATCH", body="catalog:VenuePatch", response="catalog:VenueOut",
             summary="Change a venue", tag=TAG)
def update_venue(actor, venue_id, body):
    return catalog.update_venue(actor, venue_id, body.model_dump(exclude_unset=True))


# --- seasons ---------------------------------------------------------------------------------

@staff_route(bp, "/seasons", method="POST", body="catalog:SeasonIn", response="catalog:SeasonOut", status=201,
             summary="Create a season", tag=TAG)
def create_season(actor, body):
    return catalog.create_season(actor, body.model_dump())


@staff_route(bp, "/seasons", query=PAGE, response="catalog:SeasonOut", many=True, summary="List seasons", tag=TAG)
def list_seasons(actor, query):
    return catalog.list_seasons(actor, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/seasons/{season_id}", response="catalog:SeasonOut", summary="Read a season", tag=TAG)
def get_season(actor, season_id):
    return catalog.get_season(actor, season_id)


@staff_route(bp, "/seasons/{season_id}", method="PATCH", body="catalog:SeasonPatch", response="catalog:SeasonOut",
             summary="Change a season", tag=TAG)
def update_season(actor, season_id, body):
    return catalog.update_season(actor, season_id, body.model_dump(exclude_unset=True))


# --- product families ------------------------------------------------------------------------

@staff_route(bp, "/product-families", method="POST", body="catalog:ProductFamilyIn",
             response="catalog:ProductFamilyOut", status=201, summary="Create a product family", tag=TAG)
def create_product_family(actor, body):
    return catalog.create_product_family(actor, body.model_dump())


@staff_route(bp, "/product-families", query=PAGE, response="catalog:ProductFamilyOut", many=True,
             summary="List product families", tag=TAG)
def list_product_families(actor, query):
    return catalog.list_product_families(actor, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/product-families/{family_id}", response="catalog:ProductFamilyOut",
             summary="Read a product family", tag=TAG)
def get_product_family(actor, family_id):
    return catalog.get_product_family(actor, family_id)


@staff_route(bp, "/product-families/{family_id}", method="PATCH", body="catalog:ProductFamilyPatch",
             response="catalog:ProductFamilyOut", summary="Change a product family", tag=TAG)
def update_product_family(actor, family_id, body):
    return catalog.update_product_family(actor, family_id, body.model_dump(exclude_unset=True))


# --- products --------------------------------------------------------------------------------

@staff_route(bp, "/products", method="POST", body="catalog:ProductIn", response="catalog:ProductOut", status=201,
             summary="Create a product (show, package or subscription)", tag=TAG)
def create_product(actor, body):
    return catalog.create_product(actor, body.model_dump())


@staff_route(bp, "/products", query="catalog:ProductQuery", response="catalog:ProductOut", many=True,
             summary="List products, or a season's", tag=TAG)
def list_products(actor, query):
    return catalog.list_products(actor, season_id=query.season_id, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/products/{product_id}", response="catalog:ProductOut", summary="Read a product", tag=TAG)
def get_product(actor, product_id):
    return catalog.get_product(actor, product_id)


@staff_route(bp, "/products/{product_id}", method="PATCH", body="catalog:ProductPatch",
             response="catalog:ProductOut", summary="Change a product (its kind is fixed)", tag=TAG)
def update_product(actor, product_id, body):
    return catalog.update_product(actor, product_id, body.model_dump(exclude_unset=True))


# --- performances ----------------------------------------------------------------------------

@staff_route(bp, "/performances", method="POST", body="catalog:PerformanceIn", response="catalog:PerformanceOut",
             status=201, summary="Create a performance of a show", tag=TAG)
def create_performance(actor, body):
    return catalog.at_venue(actor, catalog.create_performance(actor, body.model_dump()))


@staff_route(bp, "/performances", query="catalog:PerformanceQuery", response="catalog:PerformanceOut", many=True,
             summary="List performances in date order, all or a product's, optionally between two dates", tag=TAG)
def list_performances(actor, query):
    page = catalog.list_performances(actor, product_id=query.product_id, starts_from=query.from_,
                                     starts_to=query.to, limit=query.limit, cursor=query.cursor)
    return Page(items=catalog.at_venues(actor, page.items), next_cursor=page.next_cursor)


@staff_route(bp, "/performances/{performance_id}", response="catalog:PerformanceOut",
             summary="Read a performance", tag=TAG)
def get_performance(actor, performance_id):
    return catalog.at_venue(actor, catalog.get_performance(actor, performance_id))


@staff_route(bp, "/performances/{performance_id}", method="PATCH", body="catalog:PerformancePatch",
             response="catalog:PerformanceOut", summary="Change a performance (its product is fixed)", tag=TAG)
def update_performance(actor, performance_id, body):
    changed = catalog.update_performance(actor, performance_id, body.model_dump(exclude_unset=True))
    return catalog.at_venue(actor, changed)


# --- tariffs ---------------------------------------------------------------------------------

@staff_route(bp, "/tariffs", method="POST", body="catalog:TariffIn", response="catalog:TariffOut", status=201,
             summary="Create a tariff of a product", tag=TAG)
def create_tariff(actor, body):
    return catalog.create_tariff(actor, body.model_dump())


@staff_route(bp, "/tariffs", query="catalog:TariffQuery", response="catalog:TariffOut", many=True,
             summary="List tariffs, or a product's", tag=TAG)
def list_tariffs(actor, query):
    return catalog.list_tariffs(actor, product_id=query.product_id, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/tariffs/{tariff_id}", response="catalog:TariffOut", summary="Read a tariff", tag=TAG)
def get_tariff(actor, tariff_id):
    return catalog.get_tariff(actor, tariff_id)


@staff_route(bp, "/tariffs/{tariff_id}", method="PATCH", body="catalog:TariffPatch", response="catalog:TariffOut",
             summary="Change a tariff (its product is fixed)", tag=TAG)
def update_tariff(actor, tariff_id, body):
    return catalog.update_tariff(actor, tariff_id, body.model_dump(exclude_unset=True))


# --- quotas ----------------------------------------------------------------------------------

@staff_route(bp, "/quotas", method="POST", body="catalog:QuotaIn", response="catalog:QuotaOut", status=201,
             summary="Create a quota (contingent) of a performance", tag=TAG)
def create_quota(actor, body):
    return catalog.create_quota(actor, body.model_dump())


@staff_route(bp, "/quotas", query="catalog:QuotaQuery", response="catalog:QuotaOut", many=True,
             summary="List quotas, or a performance's", tag=TAG)
def list_quotas(actor, query):
    return catalog.list_quotas(actor, performance_id=query.performance_id, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/quotas/{quota_id}", response="catalog:QuotaOut", summary="Read a quota", tag=TAG)
def get_quota(actor, quota_id):
    return catalog.get_quota(actor, quota_id)


@staff_route(bp, "/quotas/{quota_id}", method="PATCH", body="catalog:QuotaPatch", response="catalog:QuotaOut",
             summary="Change a quota (a capacity change moves what remains; 409 below what is sold)", tag=TAG)
def update_quota(actor, quota_id, body):
    return catalog.update_quota(actor, quota_id, body.model_dump(exclude_unset=True))


# --- seat categories -------------------------------------------------------------------------

@staff_route(bp, "/seat-categories", method="POST", body="catalog:SeatCategoryIn",
             response="catalog:SeatCategoryOut", status=201, summary="Create a seat category of a venue", tag=TAG)
def create_seat_category(actor, body):
    return catalog.create_seat_category(actor, body.model_dump())


@staff_route(bp, "/seat-categories", query="catalog:SeatCategoryQuery", response="catalog:SeatCategoryOut",
             many=True, summary="List seat categories, or a venue's", tag=TAG)
def list_seat_categories(actor, query):
    return catalog.list_seat_categories(actor, venue_id=query.venue_id, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/seat-categories/{category_id}", response="catalog:SeatCategoryOut",
             summary="Read a seat category", tag=TAG)
def get_seat_category(actor, category_id):
    return catalog.get_seat_category(actor, category_id)


@staff_route(bp, "/seat-categories/{category_id}", method="PATCH", body="catalog:SeatCategoryPatch",
             response="catalog:SeatCategoryOut", summary="Change a seat category (its venue is fixed)", tag=TAG)
def update_seat_category(actor, category_id, body):
    return catalog.update_seat_category(actor, category_id, body.model_dump(exclude_unset=True))


# --- seats -----------------------------------------------------------------------------------

@staff_route(bp, "/venues/{venue_id}/seats", method="POST", body="catalog:SeatIn", response="catalog:SeatOut",
             status=201, summary="Create a seat of a venue (409 if its block/row/number exists)", tag=TAG)
def create_seat(actor, venue_id, body):
    catalog.get_venue(actor, venue_id)
    return catalog.create_seat(actor, {**body.model_dump(), "venue_id": venue_id})


@staff_route(bp, "/venues/{venue_id}/seats/batch", method="POST", body="catalog:SeatBatchIn",
             response="catalog:SeatBatchOut",
             summary="Create up to 500 seats of a venue; duplicates and invalid seats are reported, not created",
             tag=TAG)
def create_seats(actor, venue_id, body):
    return catalog.create_seats(actor, venue_id, [seat.model_dump() for seat in body.seats])


@staff_route(bp, "/venues/{venue_id}/seats", query=PAGE, response="catalog:SeatOut", many=True,
             summary="List a venue's seats in block, row, number order", tag=TAG)
def list_seats(actor, venue_id, query):
    return catalog.list_seats(actor, venue_id=venue_id, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/seats/{seat_id}", response="catalog:SeatOut", summary="Read a seat", tag=TAG)
def get_seat(actor, seat_id):
    return catalog.get_seat(actor, seat_id)


@staff_route(bp, "/seats/{seat_id}", method="PATCH", body="catalog:SeatPatch", response="catalog:SeatOut",
             summary="Change a seat (409 if its new block/row/number exists; its venue is fixed)", tag=TAG)
def update_seat(actor, seat_id, body):
    return catalog.update_seat(actor, seat_id, body.model_dump(exclude_unset=True))


# --- sales channels --------------------------------------------------------------------------

@staff_route(bp, "/sales-channels", method="POST", body="catalog:SalesChannelIn",
             response="catalog:SalesChannelOut", status=201, summary="Create a sales channel or point of sale",
             tag=TAG)
def create_sales_channel(actor, body):
    return catalog.create_sales_channel(actor, body.model_dump())


@staff_route(bp, "/sales-channels", query=PAGE, response="catalog:SalesChannelOut", many=True,
             summary="List sales channels", tag=TAG)
def list_sales_channels(actor, query):
    return catalog.list_sales_channels(actor, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/sales-channels/{channel_id}", response="catalog:SalesChannelOut",
             summary="Read a sales channel", tag=TAG)
def get_sales_channel(actor, channel_id):
    return catalog.get_sales_channel(actor, channel_id)


@staff_route(bp, "/sales-channels/{channel_id}", method="PATCH", body="catalog:SalesChannelPatch",
             response="catalog:SalesChannelOut", summary="Change a sales channel", tag=TAG)
def update_sales_channel(actor, channel_id, body):
    return catalog.update_sales_channel(actor, channel_id, body.model_dump(exclude_unset=True))
