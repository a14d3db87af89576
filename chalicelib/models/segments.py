"""Segments: groups of customers a venue defines by saved rules over the customer record.

- :class:`Segment` (table ``segments``; hash tenant, range ULID): a name, a description and
  its ``rules`` (a list of JSON rules, all of which a member meets: a criterion, the
  language, a postcode prefix, bought in a season, a subscriber, has credit, donated more than
  an amount; each may be negated). Membership is not stored: it is computed from the record
  when the record is read, and by the job that lists a segment's members, so it is never
  stale and an edit of a contact, an order or a credit never has a segment to update.
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute

from chalicelib.models.base import TenantEntity, table_meta


class Segment(TenantEntity):
    entity_type = "segment"
    Meta = table_meta("segments")

    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    rules = JSONAttribute()  # [{"kind": "language", "language": "fr", "negated": false}, ...]
