"""The public shop's carts, and the count of carts each client address opened in an hour.

:class:`Cart` (table ``carts``; hash the tenant, range the cart's ULID): what a spectator put
in the cart (``items``, each a performance, a tariff, a quota and a quantity, or chosen seats)
and holds: the places of every item are out of their quota, and its seats claimed in the
cart's name (``seat_sold`` unique keys of entity type ``cart``), from the moment they are added
until the cart is checked out (the order takes them over), emptied, or expires. The version
attribute makes every change of a cart conditional on the one read.

:class:`CartRate` (table ``cart_rates``; hash ``tenant#cart_rate#digest#hour``): how many carts
the client address whose keyed digest it carries opened in that UTC hour; one conditional ADD
per cart opened, removed by DynamoDB's TTL after the hour.
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, TTLAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import TenantEntity, table_meta


class Cart(TenantEntity):
    entity_type = "cart"
    Meta = table_meta("carts")

    state = UnicodeAttribute(default="open")  # open, checked_out, expired, released (its payment could not start)
    channel_id = UnicodeAttribute(null=True)  # the point of sale the cart was opened at (its refusal message)
    language = UnicodeAttribute(default="fr")
    expires_at = UTCDateTimeAttribute()  # the places are held until then
    # [{"id", "performance_id", "tariff_id", "quota_id", "quantity", "seat_ids": [...], "unit_price_cents",
    #   "currency"}]: see services/shop/carts.py
    items = JSONAttribute(default=list)
    order_id = UnicodeAttribute(null=True)  # the order the checkout placed
    client_digest = UnicodeAttribute(null=True)  # keyed digest of the address that opened it, never the address
    expires_on = TTLAttribute(null=True)  # a closed cart's record is removed some days after it ended


class CartRate(Model):
    Meta = table_meta("cart_rates")

    rate_key = UnicodeAttribute(hash_key=True)
    opened = NumberAttribute(default=0)
    hour = UTCDateTimeAttribute()
    expires_on = TTLAttribute(null=True)
