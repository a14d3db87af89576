"""Slots that bound the open card-checkout holds of one buyer, or one client address, on one
performance (the public shop needs no login, so without a bound a script could hold every
place of a show).

:class:`HoldSlot` (table ``hold_slots``; hash ``tenant#hold#performance#who#digest``, range the
slot number 1..N): each open checkout takes one free slot of its buyer's e-mail and one of its
client address, per performance it holds. A slot is free when absent or when the hold it
served has expired (``expires_at`` passed), so an abandoned checkout frees its slots by itself;
a paid, released or refused checkout deletes them at once. ``expires_on`` lets DynamoDB's TTL
remove old slots. The ``hold_slots_by_order`` index (keys only) finds an order's slots.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.models.base import index_meta, table_meta


class SlotsByOrder(GlobalSecondaryIndex):
    Meta = index_meta("hold_slots_by_order", KeysOnlyProjection())

    order_key = UnicodeAttribute(hash_key=True)
    slot_key = UnicodeAttribute(range_key=True)


class HoldSlot(Model):
    Meta = table_meta("hold_slots")

    slot_key = UnicodeAttribute(hash_key=True)
    slot = NumberAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    order_key = UnicodeAttribute()
    expires_at = UTCDateTimeAttribute()
    expires_on = TTLAttribute(null=True)

    by_order = SlotsByOrder()
