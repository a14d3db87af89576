"""Shared schema building blocks: strict input models, bounded texts, money, paging, problems.

Input models forbid unknown fields and are strict (``"12"`` is not a price), and every
text has a length bound, so bad input is refused at the edge with the offending field named.
``defer_build`` keeps schema construction out of the cold start: a model is built the
first time a request needs it.
"""
from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StringConstraints

from chalicelib.values.email import normalise_email
from chalicelib.values.unfit import Unfit

T = TypeVar("T")


class InputModel(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True, str_strip_whitespace=True)


class OutputModel(BaseModel):
    model_config = ConfigDict(from_attributes=True, defer_build=True)


_ISO_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}")


def _iso_written(value):
    """A time is written as ISO 8601, read here (the lax parsing of query strings would
    otherwise take ``0.5`` or ``1700000000`` for seconds since 1970)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and _ISO_DATETIME.match(value):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise Unfit("must be an ISO 8601 date and time with its offset, e.g. 2026-12-31T20:30:00+01:00",
                "une date et une heure sont attendues, par exemple 31/12/2026 20:30")


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise Unfit("must include a time zone offset, e.g. 2026-12-31T20:30:00+01:00",
                    "l'heure doit dire son fuseau, par exemple 2026-12-31T20:30:00+01:00")
    return value


def _one_line(value: str) -> str:
    """Names and short texts reach mail headers (a venue's name is the sender's), subjects and
    CSV cells: a line break or another control character there is refused at input."""
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise Unfit("must be one line, without control characters (no line break, no tab)",
                    "sur une seule ligne, sans retour à la ligne ni tabulation")
    return value


Name = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_one_line)]
ShortText = Annotated[str, StringConstraints(max_length=200), AfterValidator(_one_line)]
LongText = Annotated[str, StringConstraints(max_length=4000)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.-]+$")]
Id = Annotated[str, StringConstraints(min_length=26, max_length=26, pattern=r"^[0-9A-HJKMNP-TV-Z]{26}$")]
Cents = Annotated[int, Field(ge=0, le=100_000_000, description="Amount in minor units (cents)")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$"), Field(description="ISO 4217 code")]
AwareDatetime = Annotated[datetime, BeforeValidator(_iso_written), AfterValidator(_aware)]
Language = Annotated[str, StringConstraints(pattern=r"^(fr|en)$")]


def _plain(value):
    """A PynamoDB MapAttribute read from a model, as the plain dict a response shows."""
    return value.as_dict() if hasattr(value, "as_dict") else value


PlainMap = Annotated[dict[str, str], BeforeValidator(_plain)]


class PageQuery(InputModel):
    model_config = ConfigDict(extra="forbid", strict=False, defer_build=True)

    limit: int = Field(default=50, ge=1, le=200)
    cursor: Annotated[str, StringConstraints(max_length=2000)] | None = None


class PageOut(OutputModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(description="Pass as `cursor` to get the next page; null at the end")


class FieldProblem(BaseModel):
    field: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] = []


EmailAddress = Annotated[str, StringConstraints(max_length=254), AfterValidator(normalise_email)]
