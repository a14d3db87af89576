"""Geographic limits of a performance (limites géographiques): the places whose buyers may not
buy it, and what to do with a buyer whose place is unknown.

Both are kept under the performance's own tenant-first partition key
(``tenant#performance_id``), so what the shop's check needs is read without a Scan or an
index: all the limits of a performance are **one Query** (strongly consistent: a limit staff
saved applies to the next add-to-cart), and its unknown-location policy one GetItem, read
only when the buyer's place is unknown.
"""
from __future__ import annotations

from pynamodb.attributes import ListAttribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute
from pynamodb.models import Model

from chalicelib.adapters import clock
from chalicelib.models.base import table_meta

UNKNOWN_LOCATION_POLICIES = ("allow", "refuse")


class GeoLimit(Model):
    """Sales of the performance are forbidden to buyers located in ``country`` (ISO 3166-1
    alpha-2) or, when ``postcode_prefixes`` is not empty, in the postcodes of that country
    starting with one of them (uppercase, no spaces: :mod:`chalicelib.values.postcodes`)."""

    entity_type = "geo_limit"
    Meta = table_meta("geo_limits")

    performance_key = UnicodeAttribute(hash_key=True)  # tenant#performance_id
    id = UnicodeAttribute(range_key=True)  # a ULID: the limits list in creation order
    tenant_id = UnicodeAttribute()
    performance_id = UnicodeAttribute()
    country = UnicodeAttribute()
    postcode_prefixes = ListAttribute(of=UnicodeAttribute, default=list)
    label = UnicodeAttribute(null=True)  # staff's own name for it ("Derby: supporters' area")
    version = VersionAttribute(null=True)
    created_at = UTCDateTimeAttribute(default_for_new=clock.now)
    updated_at = UTCDateTimeAttribute(default_for_new=clock.now)


class GeoPolicy(Model):
    """What the check does for a buyer of the performance whose place is unknown (address not in
    the database, no postcode where a limit needs one...): ``allow`` (the default, also when no
    item exists) or ``refuse``. Audited as ``geo_policy`` under the performance's id."""

    entity_type = "geo_policy"
    Meta = table_meta("geo_policies")

    performance_key = UnicodeAttribute(hash_key=True)  # tenant#performance_id
    tenant_id = UnicodeAttribute()
    performance_id = UnicodeAttribute()
    unknown_location = UnicodeAttribute(default="allow")
    version = VersionAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)

    @property
    def id(self) -> str:
        """The audit trail's id for the policy: its performance's."""
        return self.performance_id
