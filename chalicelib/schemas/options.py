"""Options and reservations follow-up: the list's filters and rows, line actions, jobs, the policy."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints, field_validator

from chalicelib.schemas.common import AwareDatetime, Id, InputModel, OutputModel, PageQuery, ShortText
from chalicelib.values.unfit import Unfit

HoldKind = Literal["option", "reservation"]
LineId = Annotated[str, StringConstraints(pattern=r"^[0-9A-HJKMNP-TV-Z]{26}-[0-9]{3}$"),
                   Field(description="An order line: the order's id, a dash, the line's number (ORDERID-003)")]
ContactType = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,40}$")]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$"),
                      Field(description="A time of day, HH:MM, on the venue's clock")]


def _comma_separated(value):
    """A query string gives several values as ``a,b,c``; a JSON body gives a list."""
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


def _plausible(value: date) -> date:
    if not date(2000, 1, 1) <= value <= date(2100, 12, 31):
        raise Unfit("must be a date between 2000 and 2100", "une date entre 2000 et 2100 est attendue")
    return value


IdList = Annotated[list[Id], BeforeValidator(_comma_separated), Field(max_length=50)]
TypeList = Annotated[list[ContactType], BeforeValidator(_comma_separated), Field(max_length=20)]


class LineFiltersIn(InputModel):
    """The list's filters: four mandatory (kind, deadline, season, product family), the rest optional.
    Lists are comma-separated in a query string."""

    model_config = ConfigDict(extra="forbid", strict=False, defer_build=True)

    kind: HoldKind = Field(description="option or reservation")
    deadline_on_or_before: date = Field(description=(
        "Lines whose deadline falls on this day or before, in the venue's zone (D+5 to remind, D-7 to release)"))
    season_id: Id
    family_id: Id = Field(description="Product family")
    product_id: Id | None = None
    quota_id: Id | None = Field(default=None, description="Contingent")
    tariff_ids: IdList = Field(default_factory=list)
    channel_id: Id | None = Field(default=None, description="Sales channel")
    performance_id: Id | None = None
    contact_id: Id | None = Field(default=None, description="Purchasing contact")
    contact_types: TypeList = Field(default_factory=list)
    product_type: Literal["show", "package", "subscription"] | None = None
    seat_category_ids: IdList = Field(default_factory=list)

    @field_validator("deadline_on_or_before")
    @classmethod
    def _date(cls, value: date) -> date:
        return _plausible(value)


class LineQuery(LineFiltersIn, PageQuery):
    model_config = ConfigDict(extra="forbid", strict=False, defer_build=True)


class LineOut(OutputModel):
    line_id: str
    order_id: str = Field(description="The order, which is its own file (dossier)")
    order_number: int
    kind: str
    deadline: datetime
    contact_id: str | None
    contact_type: str | None
    buyer_name: str
    channel_id: str | None
    channel_name: str | None
    product_id: str
    product_name: str | None = Field(description="The article")
    product_type: str | None
    seat_category_id: str | None
    seat_category_name: str | None
    performance_id: str
    performance_starts_at: datetime | None
    performance_label: str | None
    audience_category: str | None
    tariff_id: str
    tariff_name: str
    quota_id: str | None
    quota_name: str | None
    quantity: int
    amount_cents: int
    currency: str
    mark: Literal["release", "keep"] = Field(description="release (libérer) or keep (ne pas libérer)")
    locked: bool
    locked_by: str | None
    locked_at: datetime | None
    lock_reason: str | None
    reminders: int = Field(description="Reminders sent for this order")
    reminded_at: datetime | None


class LinePageOut(OutputModel):
    items: list[LineOut]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null at the end")
    matching_lines: int = Field(description="How many lines match the filters, on every page")
    matching_places: int
    counted_by: Literal["counters", "reading"] = Field(description=(
        "counters: the day counters (mandatory filters and at most one of performance, product, contact); "
        "reading: counted once on the first page from the matching lines"))


class LinesIn(InputModel):
    line_ids: list[LineId] = Field(min_length=1, max_length=200)


class MarkIn(LinesIn):
    mark: Literal["release", "keep"]


class LockIn(LinesIn):
    reason: ShortText | None = None


class ReleaseIn(LinesIn):
    mail: bool = Field(default=False, description="Tell each buyer their places were released")
    reason: ShortText | None = None


class ExtendIn(LinesIn):
    deadline: AwareDatetime = Field(description="The orders' new deadline")
    reason: ShortText | None = None


class ReleaseAllIn(LineFiltersIn):
    mail: bool = False
    reason: ShortText | None = None


class ExtendAllIn(LineFiltersIn):
    deadline: AwareDatetime
    reason: ShortText | None = None


class OutcomeOut(OutputModel):
    line_id: str = Field(description="The line (or, for a reminder or an extension, the order) concerned")
    outcome: str = Field(description="done, skipped_locked, skipped_kept, skipped_paid, skipped_gone, "
                                     "skipped_already, skipped_no_address, failed")
    detail: str | None = None


class OutcomesOut(OutputModel):
    outcomes: list[OutcomeOut]
    counts: dict[str, int]


class PreviewOut(OutputModel):
    lines: int = Field(description="Lines that would be released")
    orders: int
    places: int
    amount_cents: dict[str, int] = Field(description="What the released places were to be paid, per currency")
    skipped: dict[str, int] = Field(description="Lines that would stay: skipped_locked, skipped_kept, "
                                                     "skipped_gone (no longer held)")


class PolicyIn(InputModel):
    remind_days_before: int = Field(ge=0, le=60, description="Remind N days before the deadline (0: no reminder)")
    release_days_after: int = Field(ge=0, le=60, description="Release M days after the deadline (0: never)")
    kinds: list[HoldKind] = Field(default_factory=lambda: ["option", "reservation"], max_length=2)
    quiet_from: ClockTime = "21:00"
    quiet_until: ClockTime = "08:00"
    timezone: Annotated[str, StringConstraints(min_length=1, max_length=64)] = "Europe/Paris"
    release_mail: bool = True


class PolicyOut(OutputModel):
    remind_days_before: int
    release_days_after: int
    kinds: list[str]
    quiet_from: str
    quiet_until: str
    timezone: str
    release_mail: bool
    updated_at: datetime | None
    updated_by: str | None


class DueRunOut(OutputModel):
    due: dict[str, int] = Field(description="How many reminders, releases and expired checkouts are due now")
    waiting: list[str] = Field(description="Actions left for after the quiet window")
    jobs: list[str] = Field(description="The jobs started; none when the schedule started them already")
