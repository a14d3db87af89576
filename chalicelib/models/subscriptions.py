"""Season subscriptions (abonnements, DOMAIN §4): what a subscription product offers, the
subscriptions sold, and the instalments the collector owes.

- :class:`SubscriptionTerms` (table ``subscription_terms``; hash tenant, range the product's
  id): what a subscription product (or package) groups and how it is sold: its performances
  (a fixed list, or ``choose`` N among them) with the quota each sells from, the delivery
  modes it offers, its payment plans (at once, or N instalments by a dates and amounts rule).
- :class:`Subscription` (table ``subscriptions``; hash tenant, range ULID): one holder's
  subscription: who attends (``holder``) and who pays (``payer``, who may pay for several),
  the order holding its tickets (one per performance, with their seats: ``ticket_positions``),
  the delivery mode, the means of payment and the instalment schedule with each instalment's
  state. Indexes list a product's subscriptions, a payer's and a season's.
- :class:`RenewalNoticeDue` (table ``renewal_notices_due``; hash the day a notice window opens):
  a tacitly renewed product whose payers must be told of the renewal in that window.
- :class:`InstalmentDue` (table ``instalments_due``; hash the due day ``YYYY-MM-DD``, range
  ``tenant#subscription#n``): an instalment the collector must charge that day, across venues
  without a Scan (the day is the partition, as the options schedule's due actions). Written
  in the transaction that schedules the instalment, deleted in the one that settles it.
"""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    JSONAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.models.base import DateAttribute, TenantEntity, index_meta, table_meta, tenant_key

DELIVERY_MODES = ("new_card", "reload_card", "print_at_home", "box_office")
DELIVERY_LABELS_FR = {"new_card": "Nouvelle carte", "reload_card": "Rechargement de la carte",
                      "print_at_home": "Impression à domicile", "box_office": "Retrait au guichet"}
SAVED_MEANS = ("sepa_debit", "card_alias")  # charged by the collector, off session
INSTALMENT_STATES = ("scheduled", "processing", "paid", "failed", "cancelled")


class SubscriptionTerms(TenantEntity):
    entity_type = "subscription_terms"
    Meta = table_meta("subscription_terms")

    performance_ids = ListAttribute(of=UnicodeAttribute)  # in date order
    quotas = JSONAttribute()  # {performance_id: quota_id}: the places subscriptions are sold from
    parts = JSONAttribute(null=True)  # {performance_id: sub-package name}: a package's sub-packages keep their own seats
    choose = NumberAttribute(null=True)  # None: every performance; N: the holder chooses N of them
    delivery_modes = ListAttribute(of=UnicodeAttribute)
    payment_plans = JSONAttribute()  # [{"id", "label", "instalments", "day_of_month", "first_at_purchase"}]
    refusal_deadline = DateAttribute(null=True)  # tacit: the last day the payer may refuse the renewal (L215-1)


class SubscriptionsByProduct(GlobalSecondaryIndex):
    Meta = index_meta("subscriptions_by_product", KeysOnlyProjection())

    product_key = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class SubscriptionsByPayer(GlobalSecondaryIndex):
    Meta = index_meta("subscriptions_by_payer", KeysOnlyProjection())

    payer_key = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class SubscriptionsBySeason(GlobalSecondaryIndex):
    Meta = index_meta("subscriptions_by_season", KeysOnlyProjection())

    season_key = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class Subscription(TenantEntity):
    entity_type = "subscription"
    Meta = table_meta("subscriptions")

    product_id = UnicodeAttribute()
    season_id = UnicodeAttribute()
    tariff_id = UnicodeAttribute()
    holder_contact_id = UnicodeAttribute()
    payer_contact_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    ticket_positions = ListAttribute(of=NumberAttribute)
    performance_ids = ListAttribute(of=UnicodeAttribute)
    price_cents = NumberAttribute()
    currency = UnicodeAttribute(default="EUR")
    delivery_mode = UnicodeAttribute()
    means = UnicodeAttribute()  # sepa_debit, card_alias, or how the box office was paid (cash, cheque, card)
    saved_means_id = UnicodeAttribute(null=True)  # the payer's mandate or card alias, for sepa_debit / card_alias
    plan_id = UnicodeAttribute()
    instalments = JSONAttribute()  # [{"number", "due_on", "amount_cents", "state", ...}]: see services
    state = UnicodeAttribute(default="active")  # active, in_arrears, cancelled, sabbatical
    tacit = BooleanAttribute(default=False)  # renewed tacitly next season unless the payer opts out
    renewed_from = UnicodeAttribute(null=True)
    renewed_into = UnicodeAttribute(null=True)  # written with the renewal's order: renewed at most once
    renewal_notice_at = UTCDateTimeAttribute(null=True)  # when the payer was told of the tacit renewal (L215-1)
    may_leave_anytime = BooleanAttribute(default=False)  # renewed without that notice: the payer may leave at will
    # Season cards issued after a card of this subscription was revoked (lost, stolen): with one or more,
    # the renewal cannot tell which card to reload and takes the run's fallback delivery mode.
    duplicates_issued = NumberAttribute(default=0)
    # A sabbatical (state "sabbatical"): no order; the seats kept out of sale, by performance, and the
    # number of instalments the next renewal keeps.
    held_seats = JSONAttribute(null=True)
    carried_instalments = NumberAttribute(null=True)
    product_key = UnicodeAttribute()
    payer_key = UnicodeAttribute()
    season_key = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()

    by_product = SubscriptionsByProduct()
    by_payer = SubscriptionsByPayer()
    by_season = SubscriptionsBySeason()

    def set_index_keys(self) -> None:
        self.product_key = tenant_key(self.tenant_id, self.product_id)
        self.payer_key = tenant_key(self.tenant_id, self.payer_contact_id)
        self.season_key = tenant_key(self.tenant_id, self.season_id)


class RenewalNoticeDue(Model):
    """A tacit product whose renewal notices may go from ``opens_at`` (its refusal deadline less
    three months) until ``closes_at`` (less one month), filed under the day the window opens."""

    Meta = table_meta("renewal_notices_due")

    due_day = UnicodeAttribute(hash_key=True)
    due_key = UnicodeAttribute(range_key=True)  # tenant#product
    tenant_id = UnicodeAttribute()
    product_id = UnicodeAttribute()
    opens_at = UTCDateTimeAttribute()
    closes_at = UTCDateTimeAttribute()


class InstalmentDue(Model):
    Meta = table_meta("instalments_due")

    due_day = UnicodeAttribute(hash_key=True)
    due_key = UnicodeAttribute(range_key=True)  # tenant#subscription#number
    tenant_id = UnicodeAttribute()
    subscription_id = UnicodeAttribute()
    number = NumberAttribute()
    due_at = UTCDateTimeAttribute()

    @staticmethod
    def key_of(tenant_id: str, subscription_id: str, number: int) -> str:
        return tenant_key(tenant_id, subscription_id, f"{number:02d}")
