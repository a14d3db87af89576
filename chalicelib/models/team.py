"""Team notification rules: which staff addresses hear of new orders of which ticket types."""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, UnicodeAttribute, UnicodeSetAttribute

from chalicelib.models.base import TenantEntity, table_meta


class TeamNotificationRule(TenantEntity):
    """Mail ``addresses`` on every new order holding one of ``tariff_ids`` (all ticket types
    when ``all_tariffs``)."""

    entity_type = "team_notification_rule"
    Meta = table_meta("team_notification_rules")

    name = UnicodeAttribute()
    addresses = UnicodeSetAttribute()
    tariff_ids = UnicodeSetAttribute(null=True)
    all_tariffs = BooleanAttribute(default=False)
    active = BooleanAttribute(default=True)
