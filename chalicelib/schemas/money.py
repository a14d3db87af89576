"""Refunds, credit, donations and metrics: what staff send and read.

A refund is asked by ticket positions; ``amounts`` may set some tickets' amounts by hand
(never above what the ticket was paid). The summary (``/refunds/quote``) takes the same body
and writes nothing. IBANs are shown masked except in one refund's own details, where the
venue reads what to pay.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    computed_field,
    field_validator,
)

from chalicelib.schemas.common import Cents, InputModel, OutputModel, PageQuery, ShortText
from chalicelib.values import bank_accounts

Position = Annotated[int, Field(ge=1, le=40)]
Positions = Annotated[list[Position], Field(min_length=1, max_length=40,
                                            description="The tickets, by their position in the order (1, 2...)")]
RefundState = Literal["requested", "pending", "succeeded", "failed", "canceled"]


class TicketAmountIn(InputModel):
    position: Position
    amount_cents: Cents


class BankAccountIn(InputModel):
    iban: Annotated[str, StringConstraints(min_length=1, max_length=60)] = Field(
        description="Checked (country, length, check digits); spaces allowed")
    holder: ShortText | None = None


class RefundQuoteIn(InputModel):
    positions: Positions
    amounts: list[TicketAmountIn] | None = Field(default=None, max_length=40,
                                                 description="Amounts set by hand for some tickets")

    def amounts_by_position(self) -> dict[int, int] | None:
        return {item.position: item.amount_cents for item in self.amounts} if self.amounts else None


class RefundIn(RefundQuoteIn):
    bank_account: BankAccountIn | None = Field(default=None, description="Offline refunds only: where the venue "
                                                                         "sends the money")


class FeePolicyOut(OutputModel):
    kind: str
    fixed_cents: int
    percent_bp: int


class QuoteLineOut(OutputModel):
    position: int
    performance_id: str
    tariff_name: str
    attendee_name: str | None
    state: str
    paid_cents: int
    fee_kept_cents: int
    amount_cents: int


class RefundQuoteOut(OutputModel):
    order_id: str
    order_number: int
    means: str = Field(description="'card' (back on the card, through Stripe) or 'offline' (bank transfer by the "
                                   "venue)")
    payment_type: str
    currency: str
    fee_policy: FeePolicyOut
    lines: list[QuoteLineOut]
    total_cents: int
    fee_kept_cents: int
    received_cents: int
    already_returned_cents: int
    processor_fee_cents: int | None
    processor_fee_note: str | None


class RefundLineOut(OutputModel):
    position: int
    performance_id: str
    paid_cents: int
    fee_kept_cents: int
    amount_cents: int


class RefundStepOut(OutputModel):
    at: datetime
    state: str
    note: str | None


class RefundOut(OutputModel):
    refund_id: str
    order_id: str
    order_number: int
    means: str
    payment_type: str
    state: str
    attempt: int
    amount_cents: int
    fee_kept_cents: int
    currency: str
    lines: list[RefundLineOut]
    stripe_refund_id: str | None
    failure_reason: str | None
    last_error: str | None
    account_holder: str | None
    paid_reference: str | None
    origin: str
    requested_by: str
    requested_at: datetime
    updated_at: datetime
    steps: list[RefundStepOut]
    iban: str | None = Field(default=None, exclude=True)

    @computed_field(description="The IBAN given for an offline refund, masked")
    @property
    def iban_masked(self) -> str | None:
        return bank_accounts.masked(self.iban) if self.iban else None


class RefundDetailOut(RefundOut):
    iban: str | None = Field(default=None, description="The full IBAN the venue pays to (offline refunds)")


class RefundStateQuery(PageQuery):
    state: RefundState | None = Field(default=None, description="Only the refunds in this state (all without)")


class RefundPaidIn(InputModel):
    reference: ShortText | None = Field(default=None, description="The bank transfer's reference")


class RefundCancelIn(InputModel):
    reason: ShortText


class SettleTicketsIn(InputModel):
    positions: Positions


class CreditEntryOut(OutputModel):
    entry_id: str
    contact_id: str
    kind: str
    amount_cents: int
    currency: str
    balance_after_cents: int
    origin_type: str
    origin_id: str
    order_id: str | None
    positions: list[int] | None
    note: str | None
    recorded_at: datetime
    recorded_by: str


class CreditAccountOut(OutputModel):
    contact_id: str
    balance_cents: int
    issued_cents: int
    used_cents: int
    currency: str


class UseCreditIn(InputModel):
    amount_cents: Annotated[int, Field(ge=1, le=100_000_000)]
    origin_type: Literal["order-payment", "staff"] = "staff"
    origin_id: Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")] = Field(
        description="What the credit pays for (an order id, or a reference staff choose): used once per origin")
    note: ShortText | None = None


class DonationOut(OutputModel):
    donation_id: str
    contact_id: str
    order_id: str
    positions: list[int]
    amount_cents: int
    currency: str
    origin_type: str
    origin_id: str
    recorded_at: datetime
    recorded_by: str


def _business_day(value: date) -> date:
    """A day a business could have sold on: not 1970 from a stray 0, not the year 9999."""
    if not date(2000, 1, 1) <= value <= date(2100, 12, 31):
        raise ValueError("a business day between 2000-01-01 and 2100-12-31, written YYYY-MM-DD")
    return value


BusinessDay = Annotated[date, BeforeValidator(lambda value: _strict_iso(value)), AfterValidator(_business_day)]


def _strict_iso(value):
    """Query strings bring texts: only an ISO date (YYYY-MM-DD) is one, not a number of seconds."""
    if isinstance(value, str) and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError("a date written YYYY-MM-DD")
    return value


def _not_before(since: date | None, until: date | None) -> date | None:
    if since and until and until < since:
        raise ValueError(f"the period ends before it starts: until must be on or after since ({since})")
    return until


class PeriodQuery(InputModel):
    model_config = ConfigDict(extra="forbid", strict=False, defer_build=True)

    since: BusinessDay | None = Field(default=None, description="First business day included")
    until: BusinessDay | None = Field(default=None, description="Last business day included")

    @field_validator("until")
    @classmethod
    def _in_order(cls, until, info: ValidationInfo):
        return _not_before(info.data.get("since"), until)


class FiguresOut(OutputModel):
    scope: str
    scope_id: str
    since: date | None
    until: date | None
    gross_sales_cents: int
    refunds_cents: int
    net_sales_cents: int
    credits_issued_cents: int
    donations_cents: int
    tickets_sold: int
    tickets_cancelled: int
    tickets_refunded: int


class ReconcileIn(InputModel):
    model_config = ConfigDict(extra="forbid", strict=False, defer_build=True)

    since: BusinessDay
    until: BusinessDay

    @field_validator("until")
    @classmethod
    def _in_order(cls, until, info: ValidationInfo):
        return _not_before(info.data.get("since"), until)


class DifferenceOut(OutputModel):
    check: str
    subject: str
    figure: str
    expected: int = Field(description="What the ledger says")
    found: int = Field(description="What is stored, or what Stripe says")
    note: str


class ReconciliationOut(OutputModel):
    first_day: str
    last_day: str
    ledger_entries: int
    metric_rows: int
    card_orders_checked: int
    consistent: bool
    differences: list[DifferenceOut]
