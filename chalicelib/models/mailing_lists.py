"""Mailing lists of a venue and who is on them, with the proof of each consent.

- :class:`MailingList` (table ``mailing_lists``; hash tenant, range ULID): a list the venue
  defines (its newsletter, a members' letter...). A list marked ``newsletter`` is where the
  newsletter consent ticked on a contact's e-mail lands.
- :class:`ListMembership` (table ``list_memberships``; hash ``tenant#contact``, range the list's
  id): a contact on a list, now or before. Joining records the consent (when, how, by whom);
  leaving keeps it: ``history`` only grows, so the proof of a consent is never erased by an edit.
  The ``by_list`` index (``tenant#list``, range the contact) lists a list's people.
"""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    MapAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import TenantEntity, index_meta, table_meta


class MailingList(TenantEntity):
    entity_type = "mailing_list"
    Meta = table_meta("mailing_lists")

    name = UnicodeAttribute()
    description = UnicodeAttribute(null=True)
    newsletter = BooleanAttribute(default=False)


class MembershipEvent(MapAttribute):
    at = UTCDateTimeAttribute()
    action = UnicodeAttribute()  # "joined" or "left"
    how = UnicodeAttribute()  # what the consent (or its withdrawal) was given by
    by = UnicodeAttribute()  # who recorded it


class MembersByList(GlobalSecondaryIndex):
    Meta = index_meta("members_by_list")

    list_key = UnicodeAttribute(hash_key=True)
    contact_id = UnicodeAttribute(range_key=True)


class ListMembership(Model):
    Meta = table_meta("list_memberships")

    contact_key = UnicodeAttribute(hash_key=True)
    list_id = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    contact_id = UnicodeAttribute()
    list_key = UnicodeAttribute()
    member = BooleanAttribute(default=True)
    history = ListAttribute(of=MembershipEvent, default=list)
    version = VersionAttribute(null=True)

    by_list = MembersByList()
