"""The catalog as staff maintain it: what is sold, where and when.

Plain records go through :mod:`chalicelib.services.records`; this module adds the rules
that tie catalog entities together (a performance's venue and product must exist in the
same tenant, and so on).
"""
from __future__ import annotations

from chalicelib.models.catalog import Venue
from chalicelib.services.actors import Actor
from chalicelib.services.records import create_record, get_record, list_records, update_record


def create_venue(actor: Actor, fields: dict) -> Venue:
    return create_record(actor, Venue, fields)


def update_venue(actor: Actor, venue_id: str, changes: dict) -> Venue:
    return update_record(actor, Venue, venue_id, changes)


def get_venue(actor: Actor, venue_id: str) -> Venue:
    return get_record(actor, Venue, venue_id)


def list_venues(actor: Actor, *, limit: int, cursor: str | None):
    return list_records(actor, Venue, limit=limit, cursor=cursor)
