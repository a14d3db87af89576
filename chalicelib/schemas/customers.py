"""The customer record: its sections, and the booking history's rows and sorting."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal, Union

from pydantic import ConfigDict, Field

from chalicelib.schemas.audit import AuditEventOut
from chalicelib.schemas.common import (
    Cents,
    Id,
    InputModel,
    Language,
    Name,
    OutputModel,
    PageQuery,
    PlainMap,
    ShortText,
)
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


class SegmentMembershipOut(OutputModel):
    id: str
    name: str


class RecordOut(OutputModel):
    contact: ContactOut
    other_information: OtherInformationOut
    mailing_lists: list[MembershipOut] = Field(description="Lists the contact is or was on, with each consent's "
                                                           "history")
    bookings: BookingsSectionOut = Field(description="Newest first; sort and page: GET /contacts/{id}/orders")
    credit: CreditSectionOut = Field(description="Page on: GET /contacts/{id}/credit/entries")
    donations: DonationsSectionOut = Field(description="Page on: GET /contacts/{id}/donations")
    changes: ChangesSectionOut = Field(description="Who changed what, oldest first; page on: GET /audit/contact/{id}")
    segments: list[SegmentMembershipOut] = Field(description="The venue's segments the contact belongs to now "
                                                             "(computed from their rules as the record is read)")


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


# -- segments ---------------------------------------------------------------------------------

Postcode = Annotated[str, Field(min_length=1, max_length=10, pattern=r"^[0-9A-Za-z ]+$")]


class _Rule(InputModel):
    negated: bool = Field(default=False, description="Met by those who do not meet the rule")


class CriterionRule(_Rule):
    kind: Literal["criterion"]
    name: Name = Field(description="Staff's criterion (accents and case ignored)")
    value: ShortText | None = Field(default=None, description="Its value (accents and case ignored); none: any value")


class LanguageRule(_Rule):
    kind: Literal["language"]
    language: Language


class PostcodeRule(_Rule):
    kind: Literal["postcode_prefix"]
    prefix: Postcode = Field(description="One of the contact's postcodes starts so, e.g. 75 or 690")


class SeasonRule(_Rule):
    kind: Literal["bought_in_season"]
    season_id: Id = Field(description="Bought (as buyer, a sale still held) a show or package of this season")


class SubscriberRule(_Rule):
    kind: Literal["subscriber"]


class CreditRule(_Rule):
    kind: Literal["has_credit"]


class DonationRule(_Rule):
    kind: Literal["donated_more_than"]
    amount_cents: Cents = Field(description="Donations adding up to more than this")


SegmentRule = Annotated[Union[CriterionRule, LanguageRule, PostcodeRule, SeasonRule, SubscriberRule, CreditRule,
                              DonationRule], Field(discriminator="kind")]
Rules = Annotated[list[SegmentRule], Field(min_length=1, max_length=20, description="All must hold")]


class SegmentIn(InputModel):
    name: Name
    description: ShortText | None = None
    rules: Rules


class SegmentPatch(InputModel):
    name: Name = None
    description: ShortText | None = None
    rules: Rules = None


class SegmentOut(OutputModel):
    id: str
    name: str
    description: str | None
    rules: list[dict[str, Any]]
    created_at: datetime
    updated_at: datetime
    version: int | None
