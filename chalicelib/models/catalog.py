"""The catalog: venues, seasons, product families, products, performances, tariffs, quotas,
seat categories, seats and sales channels.

Each entity is a :class:`TenantEntity` (hash key = tenant, range key = ULID) in its own
table; listings that are not "all of a tenant" use a GSI whose hash key is built by
:func:`tenant_key`, so they stay tenant-first too. The models derive those keys themselves
(:meth:`set_index_keys`); GSI names are unique across models because paging cursors are
bound to them.

A quota's ``remaining`` is a counter: sales take places with an atomic conditional update
(``remaining >= n``) that also increments ``version``, so a staff edit of the quota read
before the sale fails its version check instead of writing back a stale ``remaining``.
Everything that changes ``remaining`` goes through :mod:`chalicelib.services.catalog.catalog`.
"""
from __future__ import annotations

import re

from pynamodb.attributes import BooleanAttribute, MapAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex

from chalicelib.models.base import DateAttribute, TenantEntity, index_meta, table_meta, tenant_key

PRODUCT_KINDS = ("show", "package", "subscription")
PERFORMANCE_STATUSES = ("scheduled", "postponed", "cancelled")
CHANNEL_KINDS = ("box_office", "web", "partner", "phone")


class Venue(TenantEntity):
    entity_type = "venue"
    Meta = table_meta("venues")

    name = UnicodeAttribute()
    timezone = UnicodeAttribute(default="Europe/Paris")
    address = UnicodeAttribute(null=True)
    city = UnicodeAttribute(null=True)
    country = UnicodeAttribute(default="FR")


class Season(TenantEntity):
    entity_type = "season"
    Meta = table_meta("seasons")

    name = UnicodeAttribute()
    starts_on = DateAttribute()
    ends_on = DateAttribute()


class ProductFamily(TenantEntity):
    """A family of products ("Théâtre", "Musique"), used to filter and report."""

    entity_type = "product_family"
    Meta = table_meta("product_families")

    name = UnicodeAttribute()


class ProductsBySeason(GlobalSecondaryIndex):
    Meta = index_meta("products_by_season")

    season_key = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class Product(TenantEntity):
    """What is sold: a show (spectacle), a package (forfait) or a subscription (abonnement)."""

    entity_type = "product"
    Meta = table_meta("products")

    kind = UnicodeAttribute()
    name = UnicodeAttribute()
    family_id = UnicodeAttribute()
    season_id = UnicodeAttribute()
    tacit_renewal = BooleanAttribute(default=False)
    description = UnicodeAttribute(null=True)
    season_key = UnicodeAttribute()

    by_season = ProductsBySeason()

    def set_index_keys(self) -> None:
        self.season_key = tenant_key(self.tenant_id, self.season_id)


class PerformancesByProduct(GlobalSecondaryIndex):
    Meta = index_meta("performances_by_product")

    product_key = UnicodeAttribute(hash_key=True)
    starts_at = UTCDateTimeAttribute(range_key=True)


class PerformancesByDate(GlobalSecondaryIndex):
    Meta = index_meta("performances_by_date")

    tenant_id = UnicodeAttribute(hash_key=True)
    starts_at = UTCDateTimeAttribute(range_key=True)


class Performance(TenantEntity):
    """A dated performance (séance) of a show at a venue; ``starts_at`` is stored in UTC.

    ``UTCDateTimeAttribute`` stores ``YYYY-MM-DDTHH:MM:SS.ffffff+0000``, which sorts in time
    order, so it serves directly as the range key of both indexes.
    """

    entity_type = "performance"
    Meta = table_meta("performances")

    product_id = UnicodeAttribute()
    venue_id = UnicodeAttribute()
    starts_at = UTCDateTimeAttribute()
    label = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="scheduled")
    product_key = UnicodeAttribute()

    by_product = PerformancesByProduct()
    by_date = PerformancesByDate()

    def set_index_keys(self) -> None:
        self.product_key = tenant_key(self.tenant_id, self.product_id)


class TariffsByProduct(GlobalSecondaryIndex):
    Meta = index_meta("tariffs_by_product")

    product_key = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class TariffMessages(MapAttribute):
    """The venue's own words for this ticket type, slotted into the matching mails."""

    payment = UnicodeAttribute(null=True)
    confirmation = UnicodeAttribute(null=True)
    cancellation = UnicodeAttribute(null=True)
    refund = UnicodeAttribute(null=True)


class Tariff(TenantEntity):
    """A price of a product, in minor units of ``currency``: the ticket type of an order."""

    entity_type = "tariff"
    Meta = table_meta("tariffs")

    product_id = UnicodeAttribute()
    name = UnicodeAttribute()
    price_cents = NumberAttribute()
    currency = UnicodeAttribute(default="EUR")
    audience_category = UnicodeAttribute(null=True)  # catégorie de public: adult, child, group...
    messages = TariffMessages(default=dict)
    product_key = UnicodeAttribute()

    by_product = TariffsByProduct()

    def set_index_keys(self) -> None:
        self.product_key = tenant_key(self.tenant_id, self.product_id)


class QuotasByPerformance(GlobalSecondaryIndex):
    Meta = index_meta("quotas_by_performance")

    performance_key = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class Quota(TenantEntity):
    """A contingent of places of a performance: ``capacity`` set by staff, ``remaining`` to sell."""

    entity_type = "quota"
    Meta = table_meta("quotas")

    performance_id = UnicodeAttribute()
    name = UnicodeAttribute()
    capacity = NumberAttribute()
    remaining = NumberAttribute()
    performance_key = UnicodeAttribute()

    by_performance = QuotasByPerformance()

    def set_index_keys(self) -> None:
        self.performance_key = tenant_key(self.tenant_id, self.performance_id)


class SeatCategoriesByVenue(GlobalSecondaryIndex):
    Meta = index_meta("seat_categories_by_venue")

    venue_key = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class SeatCategory(TenantEntity):
    entity_type = "seat_category"
    Meta = table_meta("seat_categories")

    venue_id = UnicodeAttribute()
    name = UnicodeAttribute()
    color = UnicodeAttribute(null=True)
    venue_key = UnicodeAttribute()

    by_venue = SeatCategoriesByVenue()

    def set_index_keys(self) -> None:
        self.venue_key = tenant_key(self.tenant_id, self.venue_id)


class SeatsByVenue(GlobalSecondaryIndex):
    Meta = index_meta("seats_by_venue")

    venue_key = UnicodeAttribute(hash_key=True)
    position = UnicodeAttribute(range_key=True)


_DIGITS = re.compile(r"\d+")


def natural_sort_key(label: str) -> str:
    """``label`` with its numbers zero-padded, so "Rang 2" sorts before "Rang 10"."""
    return _DIGITS.sub(lambda digits: digits.group().zfill(6), label)


class Seat(TenantEntity):
    """A numbered seat of a venue. Its block, row and number are unique in the venue
    (a claim in ``unique_keys``); the venue index lists seats in natural block/row/number order."""

    entity_type = "seat"
    Meta = table_meta("seats")

    venue_id = UnicodeAttribute()
    block = UnicodeAttribute()
    row = UnicodeAttribute()
    number = UnicodeAttribute()
    category_id = UnicodeAttribute(null=True)
    venue_key = UnicodeAttribute()
    position = UnicodeAttribute()

    by_venue = SeatsByVenue()

    def set_index_keys(self) -> None:
        self.venue_key = tenant_key(self.tenant_id, self.venue_id)
        self.position = "#".join(natural_sort_key(part) for part in (self.block, self.row, self.number))

    def unique_values(self) -> dict[str, tuple[str, ...]]:
        return {"position": (self.venue_id, self.block, self.row, self.number)}


class SalesChannel(TenantEntity):
    """A sales channel or point of sale (filière, point de vente)."""

    entity_type = "sales_channel"
    Meta = table_meta("sales_channels")

    name = UnicodeAttribute()
    kind = UnicodeAttribute()
    geo_refusal_message = UnicodeAttribute(null=True)  # French; the generic message when unset
    geo_refusal_message_en = UnicodeAttribute(null=True)  # English; the generic message when unset
