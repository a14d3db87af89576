"""Catalog routes (staff): venues, seasons, products, performances, tariffs, quotas, seats, channels."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.http import page_out, staff_route
from chalicelib.schemas.catalog import VenueIn, VenueOut, VenuePatch
from chalicelib.schemas.common import PageOut, PageQuery
from chalicelib.services import catalog

bp = Blueprint(__name__)


@staff_route(bp, "/venues", method="POST", body=VenueIn, response=VenueOut, status=201,
             summary="Create a venue", tag="catalog")
def create_venue(actor, body):
    return VenueOut.model_validate(catalog.create_venue(actor, body.model_dump()))


@staff_route(bp, "/venues", query=PageQuery, response=PageOut[VenueOut], summary="List venues", tag="catalog")
def list_venues(actor, query):
    return page_out(VenueOut, catalog.list_venues(actor, limit=query.limit, cursor=query.cursor))


@staff_route(bp, "/venues/{venue_id}", response=VenueOut, summary="Read a venue", tag="catalog")
def get_venue(actor, venue_id):
    return VenueOut.model_validate(catalog.get_venue(actor, venue_id))


@staff_route(bp, "/venues/{venue_id}", method="PATCH", body=VenuePatch, response=VenueOut,
             summary="Change a venue", tag="catalog")
def update_venue(actor, venue_id, body):
    return VenueOut.model_validate(catalog.update_venue(actor, venue_id, body.model_dump(exclude_unset=True)))
