"""Where a long walk stands, kept for its next page when it is too large to travel in a cursor.

A renewal dry run's detail carries from page to page what a run's chunk carries to the next
(the orders seen, the seats handed out from pools): on a large run, thousands of characters,
past what an address may hold behind API Gateway (10,240 bytes for the request line and its
headers). Such a place is kept here instead, under a digest of its listing and content, and
the cursor names the digest (signed, as every cursor is; ``services/shared/paging.py``).

:class:`WalkPlace` (table ``walk_places``; hash ``tenant#walk_place#digest``): written when a
page ends, read when the next is asked; DynamoDB's TTL removes it a day later.
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, TTLAttribute, UnicodeAttribute
from pynamodb.models import Model

from chalicelib.models.base import table_meta


class WalkPlace(Model):
    Meta = table_meta("walk_places")

    place_key = UnicodeAttribute(hash_key=True)
    place = JSONAttribute()
    expires_on = TTLAttribute()  # past it, the page's cursor answers 410: start again from the first page
