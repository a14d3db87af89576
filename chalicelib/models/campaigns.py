"""Postponement and cancellation campaigns, and their affected customers (DOMAIN §1).

- :class:`Campaign` (table ``campaigns``; hash tenant, range ULID): a performance postponed
  (with its new date) or cancelled, the refund deadline, the choices offered, the fee policy
  of refunds, the reworded mail if any, and how far building its customers went.
- :class:`AffectedCustomer` (table ``affected_customers``; hash ``tenant#campaign``, range
  the order id): one order holding valid tickets for the performance when the campaign was
  made. Its ``state`` moves forward (not notified -> mail sent -> mail read -> made choices)
  except by an explicit reset. The ``by_state`` index (``tenant#campaign#state``, range the
  order id) lists the customers of a campaign in one state once they were told: it is sparse,
  a ``not_notified`` customer has no ``state_key``. Telling a customer then adds one index
  entry instead of moving one (a delete and a put), and gathering them writes none; the
  notify job and the "not notified" listing read the campaign's partition instead, which
  holds every customer anyway. The reset job walks the index's ``mail_sent`` entries.
"""
from __future__ import annotations

from pynamodb.attributes import (
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import TenantEntity, index_meta, table_meta, tenant_key

CAMPAIGN_KINDS = ("postponement", "cancellation")
CHOICES = ("refund", "credit", "donation", "keep")
UNTOLD = "not_notified"  # the one state the by_state index leaves out
CUSTOMER_STATES = ("not_notified", "mail_sent", "mail_read", "made_choices")
STATE_LABELS_FR = {"not_notified": "Client non prévenu", "mail_sent": "Mail envoyé", "mail_read": "Mail lu",
                   "made_choices": "A fait ses choix"}


class Campaign(TenantEntity):
    entity_type = "campaign"
    Meta = table_meta("campaigns")

    kind = UnicodeAttribute()
    performance_id = UnicodeAttribute()
    product_id = UnicodeAttribute()
    performance_label = UnicodeAttribute(null=True)
    original_starts_at = UTCDateTimeAttribute()
    new_starts_at = UTCDateTimeAttribute(null=True)
    refund_deadline = UTCDateTimeAttribute()
    choices = UnicodeSetAttribute()
    fee_kind = UnicodeAttribute(default="none")
    fee_fixed_cents = NumberAttribute(default=0)
    fee_percent_bp = NumberAttribute(default=0)
    mail_message = UnicodeAttribute(null=True)  # the venue's own words, slotted into the notice
    status = UnicodeAttribute(default="building")  # building -> ready
    build_job_id = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()


class CustomersByState(GlobalSecondaryIndex):
    Meta = index_meta("affected_by_state")

    state_key = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute(range_key=True)


class AffectedCustomer(Model):
    Meta = table_meta("affected_customers")

    campaign_key = UnicodeAttribute(hash_key=True)
    order_id = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    campaign_id = UnicodeAttribute()
    order_number = NumberAttribute()
    contact_id = UnicodeAttribute(null=True)
    buyer_name = UnicodeAttribute()
    search_name = UnicodeAttribute()  # folded "last first", for search
    email = UnicodeAttribute(null=True)
    email_domain = UnicodeAttribute(null=True)
    language = UnicodeAttribute(default="fr")
    positions = ListAttribute(of=NumberAttribute)
    ticket_count = NumberAttribute()
    amount_cents = NumberAttribute(default=0)
    paid = NumberAttribute(default=0)  # 1 when the order was paid: only then is there money to choose about
    payment_type = UnicodeAttribute()
    state = UnicodeAttribute(default="not_notified")
    state_key = UnicodeAttribute(null=True)  # absent while not notified: see the module's docstring
    notify_round = NumberAttribute(default=0)  # raised by a reset: the next notice is a new mail
    notification_id = UnicodeAttribute(null=True)
    notified_at = UTCDateTimeAttribute(null=True)
    read_at = UTCDateTimeAttribute(null=True)
    choice = UnicodeAttribute(null=True)
    chosen_by = UnicodeAttribute(null=True)  # "spectator", or "staff:<subject>" when staff acted for them
    chosen_at = UTCDateTimeAttribute(null=True)
    choice_reference = UnicodeAttribute(null=True)  # the refund, credit entry or donation made
    updated_at = UTCDateTimeAttribute()

    by_state = CustomersByState()

    @staticmethod
    def key_of(tenant_id: str, campaign_id: str) -> str:
        return tenant_key(tenant_id, "campaign", campaign_id)

    @staticmethod
    def state_key_of(tenant_id: str, campaign_id: str, state: str) -> str | None:
        return None if state == UNTOLD else tenant_key(tenant_id, "campaign", campaign_id, state)

    def move_to(self, state: str) -> None:
        self.state = state
        self.state_key = self.state_key_of(self.tenant_id, self.campaign_id, state)
