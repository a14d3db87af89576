"""Seat changes: what staff send to move a ticket (one performance) or a subscription (every
future performance) to other seats, and what they read back.

The catalog has no price per seat category, so a price difference between the old and the
new seat is given here by staff, in cents per ticket changed, with what to do with it
(``docs/seat-changes.md``).
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from chalicelib.schemas.common import Id, InputModel, OutputModel, ShortText
from chalicelib.schemas.money import BankAccountIn

ChangeId = Annotated[str, StringConstraints(min_length=8, max_length=64, pattern=r"^[A-Za-z0-9_-]+$"), Field(
    description="Chosen by the client so that a retry is the same change (asked again: the same answer, or the "
                "change resumed); omitted: every request is a new change")]
Requester = Literal["buyer", "institution"]
PerTicketCents = Annotated[int, Field(ge=0, le=10_000_000, description="Per ticket changed, in cents")]


class PriceDifferenceIn(InputModel):
    """What the new seat costs against the old one, per ticket, and what to do with it."""

    direction: Literal["supplement", "reduction"] = Field(
        description="'supplement': the new seat costs more (the buyer pays it); 'reduction': less (refunded)")
    amount_cents: PerTicketCents
    waived: bool = Field(default=False, description="Staff's choice: nothing charged or refunded, tickets keep "
                                                    "their price (audited)")
    means: Literal["cash", "cheque"] | None = Field(
        default=None, description="A supplement on a paid order: how it is collected now at the box office")
    reference: ShortText | None = Field(default=None, description="The cheque's number, the receipt's reference")
    bank_account: BankAccountIn | None = Field(
        default=None, description="A reduction refunded offline (not a card order): where the venue pays it")


class SeatChangeIn(InputModel):
    change_id: ChangeId | None = None
    seat_id: Id = Field(description="The new seat: of the performance's venue, free at that performance")
    requested_by: Requester = Field(description="Who asked for the change: the buyer or the institution")
    price_difference: PriceDifferenceIn | None = None
    note: ShortText | None = None


class SubscriptionSeatChangeIn(InputModel):
    change_id: ChangeId | None = None
    seat_id: Id | None = Field(default=None, description="One seat for every performance still to come at its "
                                                         "venue (give this or seats)")
    seats: Annotated[dict[Id, Id], Field(max_length=200)] | None = Field(
        default=None, description="The new seat of each performance named (performance id: seat id)")
    requested_by: Requester
    price_difference: PriceDifferenceIn | None = None
    note: ShortText | None = None


class SeatChangeStepOut(OutputModel):
    performance_id: str
    starts_at: str
    position: int
    old_seat_id: str | None = None
    old_seat_label: str | None = None
    new_seat_id: str
    new_seat_label: str
    old_price_cents: int
    new_price_cents: int
    state: Literal["planned", "switched", "skipped"]
    reason: str | None = None


class UntouchedOut(OutputModel):
    performance_id: str
    starts_at: str
    position: int
    reason: str = Field(description="past, cancelled, ticket cancelled/refunded, other venue, not asked, same seat")


class BlockingOut(OutputModel):
    performance_id: str
    starts_at: str
    seat_id: str
    seat_label: str


class PriceDifferenceOut(OutputModel):
    direction: str
    amount_cents: int
    waived: bool
    means: str | None = None
    reference: str | None = None
    moves: str = Field(description="waived, owed (the unpaid order's total changes), collect (paid now), refund")


class SeatChangeMoneyOut(OutputModel):
    outcome: str = Field(description="none, waived, owed, collected, refunded, not-refunded")
    amount_cents: int
    payment_id: str | None = None
    refund_id: str | None = None
    note: str | None = None


class SeatChangeOut(OutputModel):
    change_id: str
    order_id: str
    subscription_id: str | None = None
    kind: Literal["ticket", "subscription"]
    state: Literal["claiming", "switching", "done", "refused"]
    requested_by: str
    note: str | None = None
    steps: list[SeatChangeStepOut]
    untouched: list[UntouchedOut] | None = None
    blocking: list[BlockingOut] | None = None
    refusal: str | None = None
    price_difference: PriceDifferenceOut | None = None
    money: SeatChangeMoneyOut | None = None
    created_by: str
    created_at: datetime
    finished_at: datetime | None = None
