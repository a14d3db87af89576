"""Contacts: the people who buy, attend, subscribe, and receive mail.

A contact holds what staff edit (names, language, emails with newsletter consent, phones,
addresses, free criteria such as "Stop automatic renewal") and what the system fills
(``system_fields`` such as a subscriber number; per-address delivery facts such as
``undeliverable``), which staff edits never erase.

``search_name`` (accent- and case-folded "last first") feeds the ``by_name`` index so the
customer record can find people by name prefix with a Query. :class:`ContactToken` (table
``contact_tokens``) indexes every word of the record staff may search by (names, e-mails,
phones, postcode, city, street, the system's numbers), written with the contact.
"""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import TenantEntity, index_meta, table_meta


class EmailEntry(MapAttribute):
    address = UnicodeAttribute()
    newsletter_consent = BooleanAttribute(default=False)
    # Filled by the mail pipeline, never by staff edits:
    undeliverable = BooleanAttribute(default=False)
    complained = BooleanAttribute(default=False)
    delivery_note = UnicodeAttribute(null=True)
    delivery_noted_at = UTCDateTimeAttribute(null=True)


class PhoneEntry(MapAttribute):
    number = UnicodeAttribute()
    kind = UnicodeAttribute(default="mobile")


class AddressEntry(MapAttribute):
    kind = UnicodeAttribute(default="home")
    line1 = UnicodeAttribute()
    line2 = UnicodeAttribute(null=True)
    postcode = UnicodeAttribute(null=True)
    city = UnicodeAttribute()
    country = UnicodeAttribute(default="FR")


class ContactsByName(GlobalSecondaryIndex):
    Meta = index_meta("by_name")

    tenant_id = UnicodeAttribute(hash_key=True)
    search_name = UnicodeAttribute(range_key=True)


class Contact(TenantEntity):
    entity_type = "contact"
    Meta = table_meta("contacts")

    title = UnicodeAttribute(null=True)
    first_name = UnicodeAttribute(null=True)
    last_name = UnicodeAttribute()
    language = UnicodeAttribute(default="fr")
    # The venue's own kind of customer ("individual", "company", "school", "group"...): a filter of
    # the options follow-up, and of the campaigns' and records' lists to come.
    contact_type = UnicodeAttribute(null=True)
    emails = ListAttribute(of=EmailEntry, default=list)
    phones = ListAttribute(of=PhoneEntry, default=list)
    addresses = ListAttribute(of=AddressEntry, default=list)
    criteria = MapAttribute(default=dict)
    system_fields = MapAttribute(default=dict)
    search_name = UnicodeAttribute()
    # What the contact is found by: ``{token: kind}`` (values/search_terms.py), the same as its
    # ContactToken entries, kept here so an edit knows which entries to replace.
    search_tokens = JSONAttribute(null=True)
    # A record merged into another (customers/merge.py): its data moved there, it only redirects.
    # ``merged_into`` is set when the merge starts; ``merged_at`` when it is done.
    merged_into = UnicodeAttribute(null=True)
    merged_at = UTCDateTimeAttribute(null=True)
    # Erased at the person's request (customers/privacy.py): nothing personal left, only the id.
    erasure_started_at = UTCDateTimeAttribute(null=True)
    erased_at = UTCDateTimeAttribute(null=True)

    @property
    def closed(self) -> bool:
        """Merged into another record or erased: it takes no change, no order, no list, no search."""
        return bool(self.merged_into or self.erasure_started_at)

    by_name = ContactsByName()


class ContactToken(Model):
    """One word a contact is found by: ``bucket`` = ``tenant#tok#<its first two characters>``
    (spreading a venue's words over partitions), ``entry`` = ``token#kind#contact id`` (sorted, so
    a prefix Query reads the contacts whose token starts with what staff typed, whole words first,
    and an exact number, e-mail or phone is one Query on ``token#kind#``)."""

    Meta = table_meta("contact_tokens")

    bucket = UnicodeAttribute(hash_key=True)
    entry = UnicodeAttribute(range_key=True)
    kind = UnicodeAttribute()
