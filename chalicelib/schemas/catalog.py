"""Catalog requests and responses: venues, seasons, product families, products, performances,
tariffs, quotas, seat categories, seats, sales channels.

Per entity: ``XIn`` (create), ``XPatch`` (change: ``field: T = None`` may be omitted but
never nulled; ``T | None = None`` may be cleared with null; fields fixed at creation are
absent, so sending them is an unknown-field 422), ``XOut`` and, for filtered listings,
``XQuery``. Datetimes arrive with an offset and are turned into UTC here.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Literal
from zoneinfo import available_timezones

from pydantic import AfterValidator, Field, ValidationInfo, field_validator

from chalicelib.schemas.common import (
    AwareDatetime,
    Cents,
    Currency,
    Id,
    InputModel,
    LongText,
    Name,
    OutputModel,
    PageQuery,
    ShortText,
    StringConstraints,
)
from chalicelib.values.unfit import Unfit


def _known_zone(value: str) -> str:
    if value not in available_timezones():
        raise Unfit("unknown IANA time zone, e.g. Europe/Paris", "fuseau horaire inconnu : écrivez par exemple Europe/Paris")
    return value


TimeZone = Annotated[str, StringConstraints(max_length=64), AfterValidator(_known_zone)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


class VenueIn(InputModel):
    name: Name
    timezone: TimeZone = "Europe/Paris"
    address: ShortText | None = None
    city: ShortText | None = None
    country: Country = "FR"


class VenuePatch(InputModel):
    name: Name = None
    timezone: TimeZone = None
    address: ShortText | None = None
    city: ShortText | None = None
    country: Country = None


class VenueOut(OutputModel):
    id: str
    name: str
    timezone: str
    address: str | None
    city: str | None
    country: str
    version: int | None
    created_at: datetime
    updated_at: datetime


# --- building blocks -------------------------------------------------------------------

def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc)


UTCDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]
SeatLabel = Annotated[str, StringConstraints(min_length=1, max_length=20, pattern=r"^[^#\x00-\x1f]+$")]
Color = Annotated[str, StringConstraints(pattern=r"^#[0-9A-Fa-f]{6}$"), Field(description="#RRGGBB")]
Places = Annotated[int, Field(ge=0, le=1_000_000)]
ProductKind = Literal["show", "package", "subscription"]
PerformanceStatus = Literal["scheduled", "postponed", "cancelled"]
ChannelKind = Literal["box_office", "web", "partner", "phone"]


class RecordOut(OutputModel):
    """What every catalog answer carries besides its own fields."""

    id: str
    version: int | None
    created_at: datetime
    updated_at: datetime


# --- seasons -----------------------------------------------------------------------------

class SeasonIn(InputModel):
    name: Name
    starts_on: date
    ends_on: date = Field(description="Must be after starts_on")


class SeasonPatch(InputModel):
    name: Name = None
    starts_on: date = None
    ends_on: date = None


class SeasonOut(RecordOut):
    name: str
    starts_on: date
    ends_on: date


# --- product families ------------------------------------------------------------------

class ProductFamilyIn(InputModel):
    name: Name


class ProductFamilyPatch(InputModel):
    name: Name = None


class ProductFamilyOut(RecordOut):
    name: str


# --- products ------------------------------------------------------------------------------

class ProductIn(InputModel):
    kind: ProductKind
    name: Name
    family_id: Id
    season_id: Id
    tacit_renewal: bool = Field(default=False, description="Subscriptions only: renewed tacitly")
    description: LongText | None = None


class ProductPatch(InputModel):
    """The kind of a product is fixed at creation."""

    name: Name = None
    family_id: Id = None
    season_id: Id = None
    tacit_renewal: bool = None
    description: LongText | None = None


class ProductOut(RecordOut):
    kind: str
    name: str
    family_id: str
    season_id: str
    tacit_renewal: bool
    description: str | None


class ProductQuery(PageQuery):
    season_id: Id | None = None


# --- performances ------------------------------------------------------------------------

class PerformanceIn(InputModel):
    product_id: Id = Field(description="A show")
    venue_id: Id
    starts_at: UTCDatetime
    label: ShortText | None = None
    status: Literal["scheduled"] = Field(default="scheduled", description=(
        "A performance starts scheduled; postponing or cancelling it is a campaign (POST /campaigns)"))


class PerformancePatch(InputModel):
    """The product of a performance is fixed at creation."""

    venue_id: Id = None
    starts_at: UTCDatetime = None
    label: ShortText | None = None
    status: PerformanceStatus = Field(default=None, description=(
        "Never changed here: a performance is postponed or cancelled by a campaign (POST /campaigns), and "
        "re-opened by POST /performances/{id}/reopen"))

    @field_validator("status")
    @classmethod
    def _status_moves_through_campaigns(cls, value):
        raise ValueError("the status moves only through a campaign (POST /campaigns) or a re-opening "
                         "(POST /performances/{id}/reopen)")


class ReopenIn(InputModel):
    reason: Name = Field(description="Why the performance is back on (kept in the audit trail)")


class PerformanceOut(RecordOut):
    product_id: str
    venue_id: str
    starts_at: datetime = Field(description="UTC")
    label: str | None
    status: str
    venue_timezone: str
    starts_at_local: str = Field(description="starts_at on the venue's clock, ISO 8601 with offset")


class PerformanceQuery(PageQuery):
    """Without ``product_id``: every performance of the tenant; both in date order."""

    product_id: Id | None = None
    from_: UTCDatetime | None = Field(default=None, alias="from", description="Starts at or after (with offset)")
    to: UTCDatetime | None = Field(default=None, description="Starts at or before (with offset)")

    @field_validator("to")
    @classmethod
    def _after_from(cls, value: datetime | None, info: ValidationInfo) -> datetime | None:
        start = info.data.get("from_")
        if value is not None and start is not None and value < start:
            raise ValueError("must not be before 'from'")
        return value


# --- tariffs ---------------------------------------------------------------------------------

class TariffMessagesIn(InputModel):
    """Custom messages of a ticket type, added to its payment, confirmation, cancellation and
    refund mails (plain text)."""

    payment: LongText | None = None
    confirmation: LongText | None = None
    cancellation: LongText | None = None
    refund: LongText | None = None


class TariffIn(InputModel):
    product_id: Id
    name: Name
    price_cents: Cents
    currency: Currency = "EUR"
    audience_category: ShortText | None = Field(default=None, description=(
        "Who the tariff is for (catégorie de public): adult, child, group, occasional customer..."))
    messages: TariffMessagesIn = Field(default_factory=TariffMessagesIn)


class TariffPatch(InputModel):
    """The product of a tariff is fixed at creation; ``messages`` replaces them all."""

    name: Name = None
    price_cents: Cents = None
    currency: Currency = None
    audience_category: ShortText | None = None
    messages: TariffMessagesIn = None


class TariffMessagesOut(OutputModel):
    payment: str | None = None
    confirmation: str | None = None
    cancellation: str | None = None
    refund: str | None = None


class TariffOut(RecordOut):
    product_id: str
    name: str
    price_cents: int
    currency: str
    audience_category: str | None = None
    messages: TariffMessagesOut


class TariffQuery(PageQuery):
    product_id: Id | None = None


# --- quotas ----------------------------------------------------------------------------------

class QuotaIn(InputModel):
    performance_id: Id
    name: Name
    capacity: Places


class QuotaPatch(InputModel):
    """A capacity change moves ``remaining`` by the same amount; it cannot go below what is sold."""

    name: Name = None
    capacity: Places = None


class QuotaOut(RecordOut):
    performance_id: str
    name: str
    capacity: int
    remaining: int


class QuotaQuery(PageQuery):
    performance_id: Id | None = None


# --- seat categories -------------------------------------------------------------------------

class SeatCategoryIn(InputModel):
    venue_id: Id
    name: Name
    color: Color | None = None


class SeatCategoryPatch(InputModel):
    """The venue of a category is fixed at creation."""

    name: Name = None
    color: Color | None = None


class SeatCategoryOut(RecordOut):
    venue_id: str
    name: str
    color: str | None


class SeatCategoryQuery(PageQuery):
    venue_id: Id | None = None


# --- seats -----------------------------------------------------------------------------------

class SeatIn(InputModel):
    block: SeatLabel
    row: SeatLabel
    number: SeatLabel
    category_id: Id | None = Field(default=None, description="A category of the same venue")


class SeatPatch(InputModel):
    block: SeatLabel = None
    row: SeatLabel = None
    number: SeatLabel = None
    category_id: Id | None = None


class SeatOut(RecordOut):
    venue_id: str
    block: str
    row: str
    number: str
    category_id: str | None


class SeatBatchIn(InputModel):
    seats: list[SeatIn] = Field(min_length=1, max_length=500)


class SeatRefusal(OutputModel):
    index: int = Field(description="Position of the seat in the request's list")
    reason: Literal["duplicate", "invalid"]
    detail: str
    block: str
    row: str
    number: str


class SeatBatchOut(OutputModel):
    """Each seat is created on its own: ``created`` were written, ``refused`` were not."""

    created: list[SeatOut]
    refused: list[SeatRefusal]


# --- sales channels --------------------------------------------------------------------------

class SalesChannelIn(InputModel):
    name: Name
    kind: ChannelKind
    geo_refusal_message: LongText | None = Field(
        default=None, description="Shown (in French) when a geographic restriction refuses a sale here; null: the "
                                  "generic \"Une erreur est survenue lors de l'ajout au panier.\"")
    geo_refusal_message_en: LongText | None = Field(
        default=None, description="The same in English; null: the generic \"An error occurred while adding to the "
                                  "cart.\"")


class SalesChannelPatch(InputModel):
    name: Name = None
    kind: ChannelKind = None
    geo_refusal_message: LongText | None = None
    geo_refusal_message_en: LongText | None = None


class SalesChannelOut(RecordOut):
    name: str
    kind: str
    geo_refusal_message: str | None
    geo_refusal_message_en: str | None
