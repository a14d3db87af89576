"""Catalog requests and responses."""
from __future__ import annotations

from datetime import datetime
from zoneinfo import available_timezones

from pydantic import AfterValidator
from typing import Annotated

from chalicelib.schemas.common import InputModel, Name, OutputModel, ShortText, StringConstraints


def _known_zone(value: str) -> str:
    if value not in available_timezones():
        raise ValueError("unknown IANA time zone, e.g. Europe/Paris")
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
