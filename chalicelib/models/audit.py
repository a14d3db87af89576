"""Audit events: who changed what, when, with the before and after of the entity.

One partition per audited entity (``tenant#type#id``), sorted by a ULID, so an entity's
history is one Query in time order. Written in the same transaction as the change.
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import table_meta


class AuditEvent(Model):
    Meta = table_meta("audit")

    entity_key = UnicodeAttribute(hash_key=True)
    event_id = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    entity_type = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    action = UnicodeAttribute()
    actor = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    before = JSONAttribute(null=True)
    after = JSONAttribute(null=True)
