"""Cursors for places too large to travel in an address, kept server-side for a day.

A listing whose walk carries what it handed out so far (a renewal dry run's detail: the orders
seen, the seats handed out from pools) can outgrow what an address may hold behind API Gateway.
Its place is stored (``models/walk_places.py``) under a digest of the listing's scope and the
place, and the cursor, signed and bound to the scope like every cursor
(:func:`~chalicelib.services.shared.paging.sign_place`), names only the digest.
"""
from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from chalicelib.adapters import clock
from chalicelib.errors import DomainError
from chalicelib.models.base import tenant_key
from chalicelib.models.walk_places import WalkPlace
from chalicelib.services.shared.paging import invalid_cursor, open_place, sign_place

KEPT_PLACE_LIFETIME = timedelta(hours=24)


class PlaceExpired(DomainError):
    status = 410
    kind = "cursor-expired"
    title = "This page's place in the listing has expired; start again from its first page"
    title_fr = "La position de cette page dans la liste a expiré ; reprenez depuis la première page"


def keep_place(tenant_id: str, scope: str, place: dict) -> str:
    """A short cursor standing for ``place``, kept server-side for a day: for a place too large
    to travel in an address. Kept under a digest of the listing and the place, so a retried
    request writes the same item again."""
    text = json.dumps(place, sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(f"{scope}\n{text}".encode()).hexdigest()[:40]
    WalkPlace(tenant_key(tenant_id, "walk_place", digest), place=place,
              expires_on=clock.now() + KEPT_PLACE_LIFETIME).save()
    return sign_place(scope, {"kept": digest})


def kept_place(tenant_id: str, scope: str, cursor: str) -> dict:
    """The place a :func:`keep_place` cursor stands for; 422 for a cursor this listing did not
    produce, 410 once the place has expired (DynamoDB's TTL removes it some time after)."""
    digest = open_place(scope, cursor).get("kept")
    if not isinstance(digest, str):
        raise invalid_cursor()
    try:
        kept = WalkPlace.get(tenant_key(tenant_id, "walk_place", digest), consistent_read=True)
    except WalkPlace.DoesNotExist:
        kept = None
    if kept is None or kept.expires_on <= clock.now():
        raise PlaceExpired("This page's place in the listing was kept a day and has expired; "
                           "start again from the first page.")
    return kept.place


