"""Mail notifications and what the mail system taught us about each recipient address.

A :class:`Notification` is one mail to one recipient: what was sent (template, language),
why (the entity it concerns, the campaign if any), through what (provider message id), and
how it went: ``status`` is the furthest state reached, ``timeline`` every event with its
time, in arrival order. ``applied_events`` holds the ids of the provider events already
applied, so an event delivered twice changes nothing the second time.

Indexes answer the staff questions with Queries. They project keys only (the domain index
also the status), so a status change writes the table and at most one index; listings
fetch the page's items by key:
- ``by_entity``: the mails about an order, a campaign customer, a contact;
- ``by_recipient``: the mails sent to one address; ``by_contact``: to one contact;
- ``by_scope_domain``: the mails to one recipient domain within a campaign, or within a day
  for mails outside campaigns (delivery diagnosis).

A :class:`MailRecipient` (one per tenant and address) keeps the address's standing:
undeliverable after a permanent bounce, complained after a complaint. Senders read it
before sending so no mail goes to an address known to bounce, and no non-essential mail
to one that complained.
"""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    TTLAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, IncludeProjection, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.models.base import TenantEntity, index_meta, table_meta


class CompactJSONAttribute(JSONAttribute):
    """JSON without spaces and with letters as they are (``é``, not ``\\u00e9``): a third smaller
    for French texts, and the item it sits in stays under a write unit."""

    def serialize(self, value):
        import json

        return None if value is None else json.dumps(value, separators=(",", ":"), ensure_ascii=False)


class MillisecondsAttribute(NumberAttribute):
    """An aware time stored as milliseconds since the epoch (8 bytes instead of a 31-character
    ISO text); read back in UTC."""

    def serialize(self, value):
        return super().serialize(round(value.timestamp() * 1000))

    def deserialize(self, value):
        from datetime import datetime, timezone

        return datetime.fromtimestamp(super().deserialize(value) / 1000, tz=timezone.utc)


class StatusEvent(MapAttribute):
    status = UnicodeAttribute(attr_name="s")
    at = MillisecondsAttribute(attr_name="t")
    detail = UnicodeAttribute(null=True, attr_name="d")


class NotificationsByEntity(GlobalSecondaryIndex):
    Meta = index_meta("by_entity", KeysOnlyProjection())
    entity_key = UnicodeAttribute(hash_key=True, attr_name="ek")
    id = UnicodeAttribute(range_key=True)


class NotificationsByRecipient(GlobalSecondaryIndex):
    Meta = index_meta("by_recipient", KeysOnlyProjection())
    recipient_key = UnicodeAttribute(hash_key=True, attr_name="rk")
    id = UnicodeAttribute(range_key=True)


class NotificationsByContact(GlobalSecondaryIndex):
    Meta = index_meta("by_contact", KeysOnlyProjection())
    contact_key = UnicodeAttribute(hash_key=True, attr_name="ck")
    id = UnicodeAttribute(range_key=True)


class NotificationsByScopeDomain(GlobalSecondaryIndex):
    """Mails to one domain within a campaign (``tenant#campaign#<id>#domain``) or, for mails
    outside any campaign, within a day (``tenant#day#YYYY-MM-DD#domain``)."""

    Meta = index_meta("by_scope_domain", IncludeProjection(["st", "rk", "ct", "sa"]))
    scope_domain_key = UnicodeAttribute(hash_key=True, attr_name="sk")
    id = UnicodeAttribute(range_key=True)


class Notification(TenantEntity):
    """One mail. Stored under short attribute names and without copies of what its keys already
    say (the concerned entity, the campaign, the recipient), so a campaign notice fits in one
    write unit (1 KB): every mail sent writes it once."""

    entity_type = "notification"
    Meta = table_meta("notifications")
    updated_at = None  # status_at says when it last changed
    created_at = None  # its id says when it was made

    recipient_key = UnicodeAttribute(attr_name="rk")  # tenant#address in lower case: the address, for the index too
    recipient_as_given = UnicodeAttribute(null=True, attr_name="ra")  # only when its case differs
    template = UnicodeAttribute(attr_name="tp")
    language = UnicodeAttribute(attr_name="lg")
    subject = UnicodeAttribute(null=True, attr_name="sj")
    entity_key = UnicodeAttribute(attr_name="ek")  # tenant#concerns_type#concerns_id
    contact_id = UnicodeAttribute(null=True, attr_name="ct")
    essential = BooleanAttribute(default=True, attr_name="es")
    provider_message_id = UnicodeAttribute(null=True, attr_name="pm")
    status = UnicodeAttribute(default="queued", attr_name="st")
    status_at = MillisecondsAttribute(attr_name="sa")
    timeline = ListAttribute(of=StatusEvent, default=list, attr_name="tl")
    applied_events = UnicodeSetAttribute(null=True, attr_name="ae")
    resent_from = UnicodeAttribute(null=True, attr_name="rf")
    # What the mail was rendered from, so staff can resend it (re-rendered, same facts):
    render_context = CompactJSONAttribute(null=True, attr_name="rc")
    action_url = UnicodeAttribute(null=True, attr_name="au")
    custom_message = UnicodeAttribute(null=True, attr_name="cm")
    sender_name = UnicodeAttribute(attr_name="sn")

    contact_key = UnicodeAttribute(null=True, attr_name="ck")
    scope_domain_key = UnicodeAttribute(attr_name="sk")  # tenant#campaign#<id>#domain or tenant#day#<date>#domain

    by_entity = NotificationsByEntity()
    by_recipient = NotificationsByRecipient()
    by_contact = NotificationsByContact()
    by_scope_domain = NotificationsByScopeDomain()

    @property
    def made_at(self):
        from chalicelib.adapters.ids import made_at

        return made_at(self.id)

    @property
    def recipient(self) -> str:
        return self.recipient_as_given or self.recipient_key.split("#", 1)[1]

    @property
    def recipient_domain(self) -> str:
        return self.recipient.rsplit("@", 1)[1]

    @property
    def concerns_type(self) -> str:
        return self.entity_key.split("#", 2)[1]

    @property
    def concerns_id(self) -> str:
        return self.entity_key.split("#", 2)[2]

    @property
    def campaign_id(self) -> str | None:
        _, scope, scope_id, _ = self.scope_domain_key.split("#", 3)
        return scope_id if scope == "campaign" else None


class MailRecipient(Model):
    """The standing of one address for one tenant (key ``tenant#address``)."""

    Meta = table_meta("mail_recipients")

    recipient_key = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    address = UnicodeAttribute()
    undeliverable = BooleanAttribute(default=False)
    complained = BooleanAttribute(default=False)
    last_event = UnicodeAttribute(null=True)
    last_event_at = UTCDateTimeAttribute(null=True)


class SendWindow(Model):
    """Mails taken from a sending budget during one second (key ``bucket#epoch-second``).

    Expired by DynamoDB TTL on ``expires_at`` a few minutes later.
    """

    Meta = table_meta("send_windows")

    window_key = UnicodeAttribute(hash_key=True)
    used = NumberAttribute(default=0)
    expires_at = TTLAttribute()


class MailOverride(TenantEntity):
    """A venue's wording for one template in one language: block name -> plain-text template.

    ``id`` is ``{template}.{language}`` (one override per template and language)."""

    entity_type = "mail_override"
    Meta = table_meta("mail_overrides")

    template = UnicodeAttribute()
    language = UnicodeAttribute()
    blocks = MapAttribute(default=dict)
