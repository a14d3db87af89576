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


class StatusEvent(MapAttribute):
    status = UnicodeAttribute()
    at = UTCDateTimeAttribute()
    detail = UnicodeAttribute(null=True)


class NotificationsByEntity(GlobalSecondaryIndex):
    Meta = index_meta("by_entity", KeysOnlyProjection())
    entity_key = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class NotificationsByRecipient(GlobalSecondaryIndex):
    Meta = index_meta("by_recipient", KeysOnlyProjection())
    recipient_key = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class NotificationsByContact(GlobalSecondaryIndex):
    Meta = index_meta("by_contact", KeysOnlyProjection())
    contact_key = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class NotificationsByScopeDomain(GlobalSecondaryIndex):
    """Mails to one domain within a campaign (``tenant#campaign#<id>#domain``) or, for mails
    outside any campaign, within a day (``tenant#day#YYYY-MM-DD#domain``)."""

    Meta = index_meta("by_scope_domain", IncludeProjection(["status", "recipient", "contact_id", "status_at"]))
    scope_domain_key = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class Notification(TenantEntity):
    entity_type = "notification"
    Meta = table_meta("notifications")

    recipient = UnicodeAttribute()
    recipient_domain = UnicodeAttribute()
    template = UnicodeAttribute()
    language = UnicodeAttribute()
    subject = UnicodeAttribute(null=True)
    concerns_type = UnicodeAttribute()
    concerns_id = UnicodeAttribute()
    contact_id = UnicodeAttribute(null=True)
    campaign_id = UnicodeAttribute(null=True)
    essential = BooleanAttribute(default=True)
    idempotency_key = UnicodeAttribute(null=True)
    provider_message_id = UnicodeAttribute(null=True)
    status = UnicodeAttribute(default="queued")
    status_at = UTCDateTimeAttribute()
    timeline = ListAttribute(of=StatusEvent, default=list)
    applied_events = UnicodeSetAttribute(null=True)
    resent_from = UnicodeAttribute(null=True)
    # What the mail was rendered from, so staff can resend it (re-rendered, same facts):
    render_context = JSONAttribute(null=True)
    action_url = UnicodeAttribute(null=True)
    custom_message = UnicodeAttribute(null=True)
    sender_name = UnicodeAttribute()

    entity_key = UnicodeAttribute()
    recipient_key = UnicodeAttribute()
    contact_key = UnicodeAttribute(null=True)
    scope_domain_key = UnicodeAttribute()

    by_entity = NotificationsByEntity()
    by_recipient = NotificationsByRecipient()
    by_contact = NotificationsByContact()
    by_scope_domain = NotificationsByScopeDomain()


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
