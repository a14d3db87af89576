"""A payer's saved means of payment (SEPA mandates, saved cards): what staff send and read.

Never a full IBAN or card number: an IBAN is answered as its country, bank code and last 4
characters, a card as its brand, last 4 digits and expiry. The IBAN sent for a SEPA setup is
checked by the service (SEPA country, length, check digits) before Stripe sees it.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from chalicelib.schemas.common import EmailAddress, InputModel, Name, OutputModel, ShortText


class SepaMeansIn(InputModel):
    iban: Annotated[str, StringConstraints(min_length=1, max_length=60)] = Field(
        description="The IBAN of the signed paper mandate; spaces allowed. Checked (SEPA country, length, check "
                    "digits); never stored or answered in full")
    account_holder: Name = Field(description="The account holder, as on the mandate")
    signed_on: date = Field(description="The day the payer signed the paper mandate (not in the future)")
    email: EmailAddress | None = Field(default=None, description="Where Stripe sends the mandate and debit notices; "
                                                                 "the contact's first address if omitted")


class RevokeMeansIn(InputModel):
    reason: ShortText | None = Field(default=None, description="Why staff remove it (kept in the audit trail)")


class PaymentMeansOut(OutputModel):
    id: str
    contact_id: str
    kind: Literal["sepa_debit", "card"]
    status: Literal["pending", "active", "failed", "revoked"] = Field(
        description="pending -> active (set up) or failed (Stripe refused); revoked when staff removed it")
    stripe_customer_id: str
    setup_intent_id: str
    payment_method_id: str | None = None
    mandate_id: str | None = Field(default=None, description="SEPA: Stripe's Mandate")
    mandate_reference: str | None = Field(default=None, description="SEPA: the mandate's unique reference (RUM)")
    mandate_signed_on: date | None = Field(default=None, description="SEPA: when the paper mandate was signed")
    country: str | None = Field(default=None, description="SEPA: the IBAN's country")
    bank_code: str | None = Field(default=None, description="SEPA: the bank code within the IBAN")
    last4: str | None = Field(default=None, description="The last 4 characters of the IBAN or card number")
    brand: str | None = Field(default=None, description="Card: visa, mastercard...")
    exp_month: int | None = None
    exp_year: int | None = None
    failure_reason: str | None = None
    created_by: str
    created_at: datetime
    updated_at: datetime
    activated_at: datetime | None = None
    revoked_at: datetime | None = None
    revoked_by: str | None = None
    revoke_reason: str | None = None
    released_at: datetime | None = Field(default=None, description="Revoked: when Stripe confirmed it can no "
                                                                    "longer be charged")


class CardSetupOut(PaymentMeansOut):
    client_secret: str = Field(description="For the payer's browser: Stripe.js confirmCardSetup(client_secret, ...)")
