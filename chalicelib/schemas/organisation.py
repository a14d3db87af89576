"""The organisation profile: what documents and mails need to know about the seller.

``PUT /organisation`` replaces the whole profile (every field is sent; an optional field left
out is cleared). SIRET and VAT number are checked (Luhn, VAT key) and stored normalised
(``73282932000074``, ``FR44732829320``). The rules across fields (French postcode, VAT number
required under the normal regime and carrying the SIRET's SIREN) are the service's.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from chalicelib.schemas.catalog import TimeZone
from chalicelib.schemas.common import EmailAddress, InputModel, Name, OutputModel, ShortText, StringConstraints
from chalicelib.values import french_ids

Siret = Annotated[str, StringConstraints(max_length=40), AfterValidator(french_ids.check_siret),
                  Field(description="14 digits (SIREN + NIC); spaces allowed, stored without")]
VatNumber = Annotated[str, StringConstraints(max_length=40), AfterValidator(french_ids.check_vat_number),
                      Field(description="French intra-community VAT number: FR + 2-digit key + SIREN")]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
Postcode = Annotated[str, StringConstraints(min_length=2, max_length=10, pattern=r"^[A-Za-z0-9 -]+$")]
Phone = Annotated[str, StringConstraints(max_length=30, pattern=r"^\+?[0-9 .()-]{6,30}$")]
Footer = Annotated[str, StringConstraints(max_length=1000)]


class OrganisationIn(InputModel):
    legal_name: Name = Field(description="Raison sociale, as registered (e.g. 'Association Les Amis du Théâtre')")
    trade_name: ShortText | None = Field(default=None, description="The name spectators know (the venue's)")
    legal_form: ShortText | None = Field(default=None, description="e.g. 'SAS au capital de 10 000 €', "
                                                                   "'Association loi 1901'")
    address_line1: Name
    address_line2: ShortText | None = None
    postcode: Postcode
    city: Name
    country: Country = "FR"
    siret: Siret
    vat_number: VatNumber | None = None
    vat_regime: Literal["normal", "franchise"] = Field(
        default="normal", description="'franchise': franchise en base, invoices say 'TVA non applicable, "
                                      "art. 293 B du CGI' and charge no VAT")
    rcs: ShortText | None = Field(default=None, description="e.g. 'RCS Lyon B 732 829 320' (companies)")
    show_licences: ShortText | None = Field(default=None, description="Licences d'entrepreneur de spectacles, "
                                                                      "printed on tickets")
    invoice_email: EmailAddress | None = None
    invoice_phone: Phone | None = None
    payment_terms_days: int = Field(default=30, ge=0, le=60, description="Days to pay an unpaid invoice "
                                                                           "(French law: at most 60)")
    invoice_footer: Footer | None = None
    timezone: TimeZone = Field(default="Europe/Paris", description="The zone business days are counted in "
                                                                   "(daily sales, the money ledger)")
    refund_fee_kind: Literal["none", "fixed", "percent"] = Field(
        default="none", description="What is kept from each refunded ticket: nothing, a fixed amount, or a "
                                    "percentage of what the ticket was paid")
    refund_fee_fixed_cents: int = Field(default=0, ge=0, le=100_000)
    refund_fee_percent_bp: int = Field(default=0, ge=0, le=10_000, description="Basis points: 500 = 5 %")


class OrganisationOut(OutputModel):
    legal_name: str
    trade_name: str | None
    legal_form: str | None
    address_line1: str
    address_line2: str | None
    postcode: str
    city: str
    country: str
    siret: str
    vat_number: str | None
    vat_regime: str
    rcs: str | None
    show_licences: str | None
    invoice_email: str | None
    invoice_phone: str | None
    payment_terms_days: int
    invoice_footer: str | None
    timezone: str
    refund_fee_kind: str
    refund_fee_fixed_cents: int
    refund_fee_percent_bp: int
    version: int | None
    created_at: datetime
    updated_at: datetime
