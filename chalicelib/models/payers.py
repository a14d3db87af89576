"""Payers' saved means of payment: what we keep so that a subscription's instalments can be
collected later, off-session, by SEPA direct debit or a saved card (DOMAIN §4).

- :class:`PayerAccount` (table ``payer_accounts``; hash ``tenant#contact``): one per payer (a
  contact) who saved a means: the **Stripe Customer** their PaymentMethods are attached to (a
  PaymentMethod must be attached to a Customer to be charged off-session). Created once, the
  first time the payer saves a means.
- :class:`PaymentMeans` (table ``payment_means``; hash ``tenant#contact``, range ULID): one saved
  means. ``kind`` is ``sepa_debit`` or ``card``; ``status`` moves ``pending -> active`` (Stripe
  set it up) or ``pending -> failed`` (Stripe refused; a card's browser retry may still make
  it ``active``), and any of them ``-> revoked`` when staff remove it (final). Stripe's ids:
  the Customer, the SetupIntent that set it up, the PaymentMethod, and for SEPA the Mandate
  with its reference (the RUM, *référence unique de mandat*).

**Never a full IBAN or card number**: an IBAN is kept as its country, bank code and last 4
characters, a card as its brand, last 4 digits and expiry. Stripe holds the rest.

All of a payer's means are one Query on their partition; the webhook finds a means by the
keys Stripe gives back in the SetupIntent's metadata. No index, no Scan.
"""
from __future__ import annotations

from pynamodb.attributes import (
    NumberAttribute,
    UnicodeAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.models import Model

from chalicelib.models.base import DateAttribute, table_meta, tenant_key

MEANS_KINDS = ("sepa_debit", "card")
MEANS_STATUSES = ("pending", "active", "failed", "revoked")


def payer_key(tenant_id: str, contact_id: str) -> str:
    """The partition of a payer's account and means: ``tenant#contact``."""
    return tenant_key(tenant_id, contact_id)


class PayerAccount(Model):
    """The payer's Stripe Customer (one per contact, made once)."""

    entity_type = "payer"
    Meta = table_meta("payer_accounts")

    payer_key = UnicodeAttribute(hash_key=True)
    tenant_id = UnicodeAttribute()
    contact_id = UnicodeAttribute()
    stripe_customer_id = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    version = VersionAttribute(null=True)

    @property
    def id(self) -> str:
        """The audit trail names a payer by its contact id."""
        return self.contact_id


class PaymentMeans(Model):
    """One saved means of payment of a payer (see the module's docstring)."""

    entity_type = "payment_means"
    Meta = table_meta("payment_means")

    payer_key = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    contact_id = UnicodeAttribute()
    kind = UnicodeAttribute()  # MEANS_KINDS
    status = UnicodeAttribute()  # MEANS_STATUSES
    stripe_customer_id = UnicodeAttribute()
    setup_intent_id = UnicodeAttribute()
    payment_method_id = UnicodeAttribute(null=True)
    # SEPA: the mandate, its reference (RUM), the date the paper mandate was signed, and the account
    # as far as we keep it (country, bank code, last 4 characters of the IBAN).
    mandate_id = UnicodeAttribute(null=True)  # real Stripe's Mandate object; localstripe has none
    mandate_reference = UnicodeAttribute(null=True)
    mandate_signed_on = DateAttribute(null=True)
    country = UnicodeAttribute(null=True)
    bank_code = UnicodeAttribute(null=True)
    last4 = UnicodeAttribute(null=True)
    # Card: brand and expiry (with last4 above).
    brand = UnicodeAttribute(null=True)
    exp_month = NumberAttribute(null=True)
    exp_year = NumberAttribute(null=True)
    failure_reason = UnicodeAttribute(null=True)
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    activated_at = UTCDateTimeAttribute(null=True)
    revoked_at = UTCDateTimeAttribute(null=True)
    revoked_by = UnicodeAttribute(null=True)
    revoke_reason = UnicodeAttribute(null=True)
    # After a revocation: when Stripe confirmed the PaymentMethod detached (or the SetupIntent
    # cancelled), so that it can never be charged again. Unset while Stripe has not confirmed it:
    # revoking again tries again.
    released_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute(null=True)
