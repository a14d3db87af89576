"""Geographic limits of a performance and its unknown-location policy: requests and responses.

The writing of a prefix (no spaces, letters and digits, uppercase) is checked here; whether it
suits its country (digits only for French postcodes...) is the service's rule, since a change
may give a new country to old prefixes. Both come from :mod:`chalicelib.values.postcodes`.
"""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from chalicelib.schemas.common import InputModel, OutputModel, ShortText
from chalicelib.values.countries import is_country, not_a_country
from chalicelib.values.postcodes import prefix_problem


def _known_country(value: str) -> str:
    if not is_country(value):
        raise not_a_country()
    return value


def _written_as_prefix(value: str) -> str:
    problem = prefix_problem(None, value)
    if problem:
        raise problem
    return value


CountryCode = Annotated[str, Field(max_length=2, description="ISO 3166-1 alpha-2 code, e.g. FR"),
                        AfterValidator(_known_country)]
PostcodePrefix = Annotated[str, Field(max_length=10), AfterValidator(_written_as_prefix)]
Prefixes = Annotated[list[PostcodePrefix], Field(
    max_length=200, description='Postcode prefixes in that country ("67": the whole Bas-Rhin, "13150": one town), '
                                "no spaces, uppercase letters; digits only where the country's postcodes are digits "
                                "(FR, BE, DE, ES, IT...); empty: the whole country")]
UnknownLocation = Literal["allow", "refuse"]


class GeoLimitIn(InputModel):
    country: CountryCode
    postcode_prefixes: Prefixes = []
    label: ShortText | None = Field(default=None, description="Staff's own name for the limit")


class GeoLimitPatch(InputModel):
    country: CountryCode = None
    postcode_prefixes: Prefixes = None
    label: ShortText | None = None


class GeoLimitOut(OutputModel):
    id: str
    performance_id: str
    country: str
    postcode_prefixes: list[str]
    label: str | None
    version: int | None
    created_at: datetime
    updated_at: datetime


class GeoPolicyIn(InputModel):
    unknown_location: UnknownLocation = Field(description=(
        "For a buyer whose place is unknown (address not in the database, or no postcode where a limit of "
        "their country needs one): allow (the default) or refuse"))


class GeoPolicyOut(OutputModel):
    performance_id: str
    unknown_location: UnknownLocation
    version: int | None
    updated_at: datetime | None
    updated_by: str | None
