"""Cursor paging over DynamoDB Queries, without row caps.

A page is one Query with ``Limit``; its ``LastEvaluatedKey`` goes back to the client as an
opaque cursor, signed and bound to the listing's *scope* (which includes the tenant), so a
cursor cannot be forged, edited, or replayed against another listing or tenant. (A place too
large for an address is kept server-side: ``kept_places.py``.)
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterable, TypeVar

from chalicelib.adapters import signing
from chalicelib.errors import FieldError, InvalidInput

T = TypeVar("T")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 200


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def _purpose(scope: str) -> str:
    return f"cursor:{scope}"


def sign_place(scope: str, place: dict) -> str:
    """A cursor standing for ``place`` (a listing's own position, e.g. across several Queries)."""
    return signing.sign(_purpose(scope), place)


def open_place(scope: str, cursor: str) -> dict:
    """The place a cursor of this listing stands for, or a 422 naming ``cursor``: the one check
    every cursor goes through (forged, edited, of another listing or tenant)."""
    try:
        place = signing.verify(_purpose(scope), cursor)
    except (signing.BadSignature, ValueError) as error:
        raise invalid_cursor() from error
    if not isinstance(place, dict):
        raise invalid_cursor()
    return place


def invalid_cursor() -> InvalidInput:
    """The 422 every listing answers to a cursor it did not produce."""
    return InvalidInput("The cursor is not one this listing produced.",
                        errors=[FieldError("cursor", "invalid cursor for this listing")])


def start_key(scope: str, cursor: str | None) -> dict | None:
    """The ``ExclusiveStartKey`` a cursor stands for, or a 422 naming ``cursor``."""
    if not cursor:
        return None
    try:
        return json.loads(open_place(scope, cursor)["k"])
    except (KeyError, TypeError, ValueError) as error:
        raise invalid_cursor() from error


def paged(scope: str, cursor: str | None, run_query: Callable[[dict | None], Iterable[T]]) -> Page[T]:
    """Run ``run_query(exclusive_start_key)`` (a PynamoDB result iterator) into one page."""
    results = run_query(start_key(scope, cursor))
    items = list(results)
    last_key = getattr(results, "last_evaluated_key", None)
    next_cursor = sign_place(scope, {"k": json.dumps(last_key, sort_keys=True)}) if last_key else None
    return Page(items=items, next_cursor=next_cursor)


def paged_by_reads(scope: str, cursor: str | None, run_query: Callable[[dict | None], Any], model: Any) -> Page:
    """Like :func:`paged`, but exactly one DynamoDB Query per call, reading at most its ``Limit``.

    For a Query narrowed by a filter expression: DynamoDB applies the filter after reading, so
    a page may hold fewer rows than asked (even none) and still have a next cursor. That keeps
    every request's cost to one page's reads, however rare the matches; :func:`paged` would
    keep querying until the page is full.
    """
    results = run_query(start_key(scope, cursor))
    page = next(results.page_iter, None) or {}
    items = [model.from_raw_data(raw) for raw in page.get("Items", [])]
    last_key = results.page_iter.last_evaluated_key
    next_cursor = sign_place(scope, {"k": json.dumps(last_key, sort_keys=True)}) if last_key else None
    return Page(items=items, next_cursor=next_cursor)
