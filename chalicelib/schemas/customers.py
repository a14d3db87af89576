"""The customer record: its sections, and the booking history's rows and sorting."""
from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from chalicelib.schemas.audit import AuditEventOut
from chalicelib.schemas.common import Id, InputModel, OutputModel, PageQuery, PlainMap, ShortText
from chalicelib.schemas.contacts import ContactOut, MembershipOut
from chalicelib.schemas.money import CreditAccountOut, CreditEntryOut, DonationOut


class BookingQuery(PageQuery):
    model_config = ConfigDict(extra="forbid", strict=False, defer_build=True)

    sort: Literal["date", "show", "performance_date", "number", "total", "balance_due", "status"] = "date"
    direction: Literal["asc", "desc"] = "desc"


class BookingOut(OutputModel):
    order_id: str
    number: int
    placed_at: datetime
    show: str | None = Field(description="The show or package (several joined by +)")
    performance_date: datetime | None = Field(description="The order's first performance")
    total_cents: int
    balance_due_cents: int = Field(description="What the buyer still owes (an unpaid order's total)")
    currency: str
    status: str
    kind: str


class OtherInformationOut(OutputModel):
    system_fields: PlainMap = Field(description="Filled by the system (subscriber number, customer number...): "
                                                "staff edits never change them")
    criteria: PlainMap = Field(description="Staff's criteria")


class HistoryOut(OutputModel):
    next_cursor: str | None = Field(description="Page on through the section's own route with this cursor")


class CreditSectionOut(HistoryOut):
    account: CreditAccountOut
    entries: list[CreditEntryOut]


class DonationsSectionOut(HistoryOut):
    items: list[DonationOut]


class BookingsSectionOut(HistoryOut):
    items: list[BookingOut]


class ChangesSectionOut(HistoryOut):
    items: list[AuditEventOut]


class RecordOut(OutputModel):
    contact: ContactOut
    other_information: OtherInformationOut
    mailing_lists: list[MembershipOut] = Field(description="Lists the contact is or was on, with each consent's "
                                                           "history")
    bookings: BookingsSectionOut = Field(description="Newest first; sort and page: GET /contacts/{id}/orders")
    credit: CreditSectionOut = Field(description="Page on: GET /contacts/{id}/credit/entries")
    donations: DonationsSectionOut = Field(description="Page on: GET /contacts/{id}/donations")
    changes: ChangesSectionOut = Field(description="Who changed what, oldest first; page on: GET /audit/contact/{id}")


class MergeIn(InputModel):
    other_id: Id = Field(description="The other record of the same customer: merged into this one, then a redirect")


class EraseIn(InputModel):
    reason: ShortText = Field(min_length=3, description="Why (the person's request, its date): kept in the audit trail")


class PersonalDataOut(OutputModel):
    contact: dict[str, Any]
    mailing_lists: list[dict[str, Any]]
    credit: dict[str, Any]
    donations: list[dict[str, Any]]
    orders: list[dict[str, Any]]
    mails: list[dict[str, Any]]
    changes: list[dict[str, Any]]
    capped: list[str] = Field(description="Parts cut at 5,000 items (ask again once they are erased or exported)")
    kept_by_law: str
