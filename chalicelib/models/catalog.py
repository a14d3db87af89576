"""The catalog: venues, seasons, product families, products, performances, tariffs, quotas,
seat categories, seats and sales channels.

Each entity is a :class:`TenantEntity` (hash key = tenant, range key = ULID) in its own
table; listings that are not "all of a tenant" use a GSI whose hash key is built by
:func:`tenant_key`, so they stay tenant-first too.
"""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute

from chalicelib.models.base import TenantEntity, table_meta


class Venue(TenantEntity):
    entity_type = "venue"
    Meta = table_meta("venues")

    name = UnicodeAttribute()
    timezone = UnicodeAttribute(default="Europe/Paris")
    address = UnicodeAttribute(null=True)
    city = UnicodeAttribute(null=True)
    country = UnicodeAttribute(default="FR")
