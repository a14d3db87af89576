"""Orders, their tickets, and the listing entries staff search and filter orders by.

- :class:`Order` (table ``orders``; hash tenant, range ULID, so creation order): the buyer,
  how it was made (sale, option, reservation) and paid, its money in integer cents, its
  human number, and its status, derived from its tickets and payment
  (:mod:`chalicelib.services.orders.status`) and stored so listings can filter on it.
- :class:`Ticket` (table ``tickets``; hash ``tenant#order``, range the ticket's position):
  one per attendee, with its performance, tariff, quota or seat, price, state and check-in
  code. An order and its tickets are written in one transaction.
- :class:`Payment` (table ``payments``; hash ``tenant#order``): money received for the order.
  What goes back (refunds, credit, donations) is in :mod:`chalicelib.models.money`.
- :class:`OrderListing` (table ``order_listings``): for every order, one entry per *facet*
  it can be found by (all orders, its status, payment type, promo code, kind, and each of
  its performances, tariffs and products), keyed ``tenant#facet#value`` and sorted by
  order time, carrying the columns of the staff list. A filtered page is then one Query
  whose cost follows the page, not the table; a combination of filters queries the most
  selective facet and narrows by the others, which each entry carries. Buyer-name search
  uses entries keyed by the folded name (``facet = buyer``). Entries are rewritten in the
  same transaction as the order, so the list is never stale.
- :class:`Counter`: per-tenant sequences (order numbers, invoice numbers), one atomic ADD.
"""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.models import Model

from chalicelib.models.base import TenantEntity, table_meta

ORDER_KINDS = ("sale", "option", "reservation")
PAYMENT_TYPES = ("card", "cheque", "invoice", "cash", "sepa")
TICKET_STATES = ("valid", "cancelled", "refunded")


class Buyer(MapAttribute):
    contact_id = UnicodeAttribute(null=True)
    title = UnicodeAttribute(null=True)
    first_name = UnicodeAttribute(null=True)
    last_name = UnicodeAttribute()
    email = UnicodeAttribute(null=True)
    language = UnicodeAttribute(default="fr")
    address_line1 = UnicodeAttribute(null=True)
    address_line2 = UnicodeAttribute(null=True)
    postcode = UnicodeAttribute(null=True)
    city = UnicodeAttribute(null=True)
    country = UnicodeAttribute(null=True)
    # A business buyer (B2B): named on the invoice, which then carries the late-payment mentions.
    company_name = UnicodeAttribute(null=True)
    company_siret = UnicodeAttribute(null=True)
    company_vat_number = UnicodeAttribute(null=True)


class Order(TenantEntity):
    entity_type = "order"
    Meta = table_meta("orders")

    number = NumberAttribute()
    kind = UnicodeAttribute(default="sale")
    deadline = UTCDateTimeAttribute(null=True)
    channel_id = UnicodeAttribute(null=True)
    buyer = Buyer()
    payment_type = UnicodeAttribute()
    paid = BooleanAttribute(default=False)
    paid_at = UTCDateTimeAttribute(null=True)
    payment_intent_id = UnicodeAttribute(null=True)
    promo_code = UnicodeAttribute(null=True)
    currency = UnicodeAttribute(default="EUR")
    tickets_cents = NumberAttribute(default=0)
    discount_cents = NumberAttribute(default=0)
    fees_cents = NumberAttribute(default=0)
    tax_cents = NumberAttribute(default=0)
    total_cents = NumberAttribute(default=0)
    paid_cents = NumberAttribute(default=0)  # money received (the payments' sum)
    by_instalments = BooleanAttribute(null=True)  # paid as the instalment collector takes each: staff never mark it
    refunded_cents = NumberAttribute(default=0)  # refunds requested and not failed
    credited_cents = NumberAttribute(default=0)  # turned into credit on the buyer's account
    donated_cents = NumberAttribute(default=0)  # given up to the organiser
    ticket_count = NumberAttribute(default=0)
    cancelled_count = NumberAttribute(default=0)
    refunded_count = NumberAttribute(default=0)
    status = UnicodeAttribute()
    performance_ids = UnicodeSetAttribute(null=True)
    tariff_ids = UnicodeSetAttribute(null=True)
    product_ids = UnicodeSetAttribute(null=True)
    created_by = UnicodeAttribute()
    # Set once, when the invoice is first issued (services/documents/invoices.py: gapless per-tenant sequence).
    invoice_number = NumberAttribute(null=True)
    invoice_issued_at = UTCDateTimeAttribute(null=True)
    # An open option or reservation followed up (services/orders/follow_up.py): the reminders sent
    # (``reminded_for`` is the deadline the last one announced), and what the schedule owes the order:
    # ``{"remind" | "release" | "expire": ISO due time}``, the keys of its ``due_actions`` items.
    reminders = NumberAttribute(default=0)
    reminded_at = UTCDateTimeAttribute(null=True)
    reminded_for = UTCDateTimeAttribute(null=True)
    reminder_round = UnicodeAttribute(null=True)  # the last round recorded: a round counts once
    due_actions = JSONAttribute(null=True)


class Ticket(Model):
    """One attendee's ticket; ``position`` is its rank in the order (1, 2, ...)."""

    Meta = table_meta("tickets")

    order_key = UnicodeAttribute(hash_key=True)
    position = NumberAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    performance_id = UnicodeAttribute()
    product_id = UnicodeAttribute()
    tariff_id = UnicodeAttribute()
    tariff_name = UnicodeAttribute()
    quota_id = UnicodeAttribute(null=True)
    seat_id = UnicodeAttribute(null=True)
    seat_label = UnicodeAttribute(null=True)
    seat_category_id = UnicodeAttribute(null=True)
    subscription_id = UnicodeAttribute(null=True)  # the subscription this ticket is one performance of
    price_cents = NumberAttribute()
    vat_rate_bp = NumberAttribute(default=550)  # basis points: 5.5 % is France's rate for shows
    attendee_name = UnicodeAttribute(null=True)
    attendee_email = UnicodeAttribute(null=True)
    state = UnicodeAttribute(default="valid")
    checkin_code = UnicodeAttribute()
    state_changed_at = UTCDateTimeAttribute(null=True)
    # What became of the ticket's money once it stopped being valid (services/orders/settlements.py):
    # "refund", "credit" or "donation", the record that did it, and how much. Set once; a
    # failed refund clears it so the refund can be tried again.
    settlement = UnicodeAttribute(null=True)
    settlement_id = UnicodeAttribute(null=True)
    settled_cents = NumberAttribute(null=True)


class Payment(Model):
    """Money received for an order: how much, by what means, with what reference (a Stripe
    PaymentIntent, a cheque number), when, and recorded by whom. Refunds come back against these."""

    Meta = table_meta("payments")

    order_key = UnicodeAttribute(hash_key=True)
    payment_id = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    amount_cents = NumberAttribute()
    currency = UnicodeAttribute()
    means = UnicodeAttribute()
    reference = UnicodeAttribute(null=True)
    received_at = UTCDateTimeAttribute()
    recorded_by = UnicodeAttribute()


class OrderListing(Model):
    """One way to find an order: ``facet_key = tenant#facet#value``, ``sort_key = time#order``
    (``folded-name#time#order`` for buyer search)."""

    Meta = table_meta("order_listings")

    facet_key = UnicodeAttribute(hash_key=True)
    sort_key = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    number = NumberAttribute()
    created_at = UTCDateTimeAttribute()
    kind = UnicodeAttribute()
    status = UnicodeAttribute()
    buyer_name = UnicodeAttribute()
    buyer_email = UnicodeAttribute(null=True)
    payment_type = UnicodeAttribute()
    promo_code = UnicodeAttribute(null=True)
    total_cents = NumberAttribute()
    currency = UnicodeAttribute()
    ticket_count = NumberAttribute()
    deadline = UTCDateTimeAttribute(null=True)
    performance_ids = UnicodeSetAttribute(null=True)
    tariff_ids = UnicodeSetAttribute(null=True)
    product_ids = UnicodeSetAttribute(null=True)


class Counter(Model):
    """A per-tenant sequence (``tenant#orders``, ``tenant#invoices``); taken with one atomic ADD."""

    Meta = table_meta("counters")

    counter_key = UnicodeAttribute(hash_key=True)
    value = NumberAttribute(default=0)
