"""Money going back and the figures it moves: refunds, the money ledger, metrics, credit, donations.

- :class:`Refund` (table ``refunds``; hash ``tenant#order``, range ULID): one staff request
  (or one refund-page choice) refunding some tickets of an order, by card through Stripe or
  offline (the venue pays by bank transfer). Its ``state`` moves forward only:
  ``requested -> pending -> succeeded | failed | canceled``; a failed one may be tried again
  (``attempt`` + 1, a new Stripe idempotency key). The ``by_state`` index lists a tenant's
  refunds in one state (the failed ones staff must look at, the offline ones to pay).
- :class:`LedgerEntry` (table ``ledger``; hash ``tenant#day``, range ULID): one money fact
  (a sale, a cancellation of sold tickets, a refund, its reversal, credit issued, a
  donation), with its effect per performance in ``lines``. Written in the same transaction
  as the change it records; never updated. Metrics are sums of it (services/ledger/ledger.py).
- :class:`MetricRow` (table ``metrics``; hash ``tenant#scope#id``, range ``day#shard``):
  running figures of a performance, show (product), season or the whole tenant for one
  business day, split in a few shards so that concurrent sales do not contend on one item.
  The ``by_day`` index gathers every row of a day, which is what reconciliation compares.
- :class:`CreditAccount` / :class:`CreditEntry` (hash ``tenant#contact``): a contact's
  credit (avoir): the balance, and every entry issued or used with its origin.
- :class:`Donation` (hash ``tenant#contact``): an amount a spectator gave up to the organiser
  instead of being refunded.
"""
from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute,
    MapAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.models.base import index_meta, table_meta

REFUND_STATES = ("requested", "pending", "succeeded", "failed", "canceled")
FIGURES = ("gross_sales_cents", "refunds_cents", "credits_issued_cents", "donations_cents",
           "tickets_sold", "tickets_cancelled", "tickets_refunded")


class RefundLine(MapAttribute):
    position = NumberAttribute()
    performance_id = UnicodeAttribute()
    paid_cents = NumberAttribute()
    fee_kept_cents = NumberAttribute()
    amount_cents = NumberAttribute()


class RefundStep(MapAttribute):
    at = UTCDateTimeAttribute()
    state = UnicodeAttribute()
    note = UnicodeAttribute(null=True)


class RefundsByState(GlobalSecondaryIndex):
    Meta = index_meta("refunds_by_state", KeysOnlyProjection())

    state_key = UnicodeAttribute(hash_key=True)
    refund_id = UnicodeAttribute(range_key=True)


class RefundsOfTenant(GlobalSecondaryIndex):
    """Every refund of a tenant, by id (so by time)."""

    Meta = index_meta("refunds_of_tenant", KeysOnlyProjection())

    tenant_id = UnicodeAttribute(hash_key=True)
    refund_id = UnicodeAttribute(range_key=True)


class Refund(Model):
    Meta = table_meta("refunds")

    order_key = UnicodeAttribute(hash_key=True)
    refund_id = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    order_number = NumberAttribute()
    means = UnicodeAttribute()  # "card" (Stripe) or "offline" (paid by the venue)
    payment_type = UnicodeAttribute()
    lines = ListAttribute(of=RefundLine)
    amount_cents = NumberAttribute()
    fee_kept_cents = NumberAttribute(default=0)
    currency = UnicodeAttribute()
    state = UnicodeAttribute()
    state_key = UnicodeAttribute()
    attempt = NumberAttribute(default=1)
    stripe_refund_id = UnicodeAttribute(null=True)
    payment_intent_id = UnicodeAttribute(null=True)
    failure_reason = UnicodeAttribute(null=True)
    last_error = UnicodeAttribute(null=True)
    iban = UnicodeAttribute(null=True)
    account_holder = UnicodeAttribute(null=True)
    paid_reference = UnicodeAttribute(null=True)
    # "staff", "refund-page" (a campaign's page), or "unclaimed-payment" (money captured for no valid ticket)
    origin = UnicodeAttribute(default="staff")
    requested_by = UnicodeAttribute()
    requested_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    steps = ListAttribute(of=RefundStep, default=list)
    version = VersionAttribute(null=True)

    by_state = RefundsByState()
    of_tenant = RefundsOfTenant()


class LedgerLine(MapAttribute):
    """The entry's effect on one performance (and through it on its show, season and tenant)."""

    performance_id = UnicodeAttribute()
    product_id = UnicodeAttribute()
    season_id = UnicodeAttribute(null=True)
    gross_sales_cents = NumberAttribute(default=0)
    refunds_cents = NumberAttribute(default=0)
    credits_issued_cents = NumberAttribute(default=0)
    donations_cents = NumberAttribute(default=0)
    tickets_sold = NumberAttribute(default=0)
    tickets_cancelled = NumberAttribute(default=0)
    tickets_refunded = NumberAttribute(default=0)


class LedgerByOrder(GlobalSecondaryIndex):
    Meta = index_meta("ledger_by_order")

    order_key = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)


class LedgerEntry(Model):
    Meta = table_meta("ledger")

    day_key = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    day = UnicodeAttribute()
    kind = UnicodeAttribute()
    occurred_at = UTCDateTimeAttribute()
    order_key = UnicodeAttribute()
    order_id = UnicodeAttribute()
    contact_id = UnicodeAttribute(null=True)
    means = UnicodeAttribute(null=True)
    currency = UnicodeAttribute()
    amount_cents = NumberAttribute(default=0)
    reference = UnicodeAttribute(null=True)  # the refund, credit entry or donation; the PaymentIntent of a sale
    payment_intent_id = UnicodeAttribute(null=True)
    lines = ListAttribute(of=LedgerLine, default=list)
    recorded_by = UnicodeAttribute()

    by_order = LedgerByOrder()


class MetricsByDay(GlobalSecondaryIndex):
    Meta = index_meta("metrics_by_day")

    day_key = UnicodeAttribute(hash_key=True)
    scope_slot = UnicodeAttribute(range_key=True)


class MetricRow(Model):
    Meta = table_meta("metrics")

    scope_key = UnicodeAttribute(hash_key=True)
    slot = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    scope = UnicodeAttribute()
    scope_id = UnicodeAttribute()
    day = UnicodeAttribute()
    day_key = UnicodeAttribute()
    scope_slot = UnicodeAttribute()
    gross_sales_cents = NumberAttribute(default=0)
    refunds_cents = NumberAttribute(default=0)
    credits_issued_cents = NumberAttribute(default=0)
    donations_cents = NumberAttribute(default=0)
    tickets_sold = NumberAttribute(default=0)
    tickets_cancelled = NumberAttribute(default=0)
    tickets_refunded = NumberAttribute(default=0)

    by_day = MetricsByDay()


class CreditAccount(Model):
    """A contact's credit balance; every change is an entry written in the same transaction."""

    Meta = table_meta("credit_accounts")

    contact_key = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    contact_id = UnicodeAttribute()
    balance_cents = NumberAttribute(default=0)
    issued_cents = NumberAttribute(default=0)
    used_cents = NumberAttribute(default=0)
    currency = UnicodeAttribute(default="EUR")
    updated_at = UTCDateTimeAttribute()


class CreditEntry(Model):
    Meta = table_meta("credit_entries")

    contact_key = UnicodeAttribute(hash_key=True)
    entry_id = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    contact_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # "issued" or "used"
    amount_cents = NumberAttribute()
    currency = UnicodeAttribute()
    balance_after_cents = NumberAttribute()
    origin_type = UnicodeAttribute()  # "order" (tickets turned into credit), "campaign", "staff", "order-payment"
    origin_id = UnicodeAttribute()
    order_id = UnicodeAttribute(null=True)
    positions = ListAttribute(of=NumberAttribute, null=True)
    note = UnicodeAttribute(null=True)
    recorded_at = UTCDateTimeAttribute()
    recorded_by = UnicodeAttribute()


class Donation(Model):
    Meta = table_meta("donations")

    contact_key = UnicodeAttribute(hash_key=True)
    donation_id = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    contact_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    positions = ListAttribute(of=NumberAttribute)
    amount_cents = NumberAttribute()
    currency = UnicodeAttribute()
    origin_type = UnicodeAttribute()
    origin_id = UnicodeAttribute()
    recorded_at = UTCDateTimeAttribute()
    recorded_by = UnicodeAttribute()
