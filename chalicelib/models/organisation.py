"""The seller: what tickets, receipts, invoices and mails say about the organisation selling.

One profile per tenant (table ``organisations``). It is a :class:`TenantEntity` with the
fixed id ``profile`` (hash tenant, range ``"profile"``), so it is written, versioned and
audited like every other entity through :func:`~chalicelib.services.shared.audit.write_audited`.
"""
from __future__ import annotations

from pynamodb.attributes import NumberAttribute, UnicodeAttribute

from chalicelib.models.base import TenantEntity, table_meta

PROFILE_ID = "profile"
VAT_REGIMES = ("normal", "franchise")
FRANCHISE_MENTION_FR = "TVA non applicable, art. 293 B du CGI"
FRANCHISE_MENTION_EN = "VAT not applicable, article 293 B of the French tax code (CGI)"


class Organisation(TenantEntity):
    entity_type = "organisation"
    Meta = table_meta("organisations")

    legal_name = UnicodeAttribute()
    trade_name = UnicodeAttribute(null=True)
    legal_form = UnicodeAttribute(null=True)
    address_line1 = UnicodeAttribute()
    address_line2 = UnicodeAttribute(null=True)
    postcode = UnicodeAttribute()
    city = UnicodeAttribute()
    country = UnicodeAttribute(default="FR")
    siret = UnicodeAttribute()
    vat_number = UnicodeAttribute(null=True)
    vat_regime = UnicodeAttribute(default="normal")
    rcs = UnicodeAttribute(null=True)
    show_licences = UnicodeAttribute(null=True)
    invoice_email = UnicodeAttribute(null=True)
    invoice_phone = UnicodeAttribute(null=True)
    payment_terms_days = NumberAttribute(default=30)
    invoice_footer = UnicodeAttribute(null=True)
    # The business day (sales per day, the ledger's days) is counted in this zone.
    timezone = UnicodeAttribute(default="Europe/Paris")
    # What the organiser keeps when refunding a ticket (services/money/quotes.py): "none",
    # "fixed" (refund_fee_fixed_cents per ticket) or "percent" (refund_fee_percent_bp of its price).
    refund_fee_kind = UnicodeAttribute(default="none")
    refund_fee_fixed_cents = NumberAttribute(default=0)
    refund_fee_percent_bp = NumberAttribute(default=0)

    @property
    def display_name(self) -> str:
        """The name spectators know (the venue's), else the legal name."""
        return self.trade_name or self.legal_name

    @property
    def siren(self) -> str:
        return self.siret[:9]
