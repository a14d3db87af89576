"""A customer's booking history: their orders (as buyer), one row each, sorted by any column.

The orders list keeps one entry per order under the buyer's contact (facet ``contact``), sorted
by order time, so the history by date is one Query a page, either way. Sorted by another column
(show, performance date, order number, total, balance due, status), the customer's entries are
read whole, up to :data:`MAX_SORTED` (a customer's orders, not the venue's), sorted, and paged
by position; beyond that, a 422 asks to sort by date. Show names and performance dates are read
once per request for the products and performances involved.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from chalicelib.errors import FieldError, InvalidInput
from chalicelib.models.base import tenant_key
from chalicelib.models.catalog import Performance, Product
from chalicelib.models.orders import OrderListing
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.paging import Page, invalid_cursor, open_place, paged, sign_place
from chalicelib.services.shared.records import by_ids

SORTS = ("date", "show", "performance_date", "number", "total", "balance_due", "status")
MAX_SORTED = 2000


@dataclass
class Booking:
    """One order of the customer as the record shows it."""

    entry: OrderListing
    show: str | None
    performance_date: datetime | None
    balance_due_cents: int


def balance_due(entry: OrderListing) -> int:
    """What the buyer still owes: an unpaid order's total, nothing once paid (orders are paid whole)."""
    return int(entry.total_cents) if entry.status == "unpaid" else 0


def bookings(actor: Actor, contact_id: str, *, sort: str = "date", descending: bool = True, limit: int,
             cursor: str | None) -> Page[Booking]:
    key = tenant_key(actor.tenant_id, "contact", contact_id)
    if sort == "date":
        page = paged(f"bookings:{key}:{descending}", cursor, lambda start: OrderListing.query(
            key, scan_index_forward=not descending, limit=limit, last_evaluated_key=start))
        return Page(items=_described(actor, page.items), next_cursor=page.next_cursor)
    scope = f"bookings:{key}:{sort}:{descending}"
    offset = _offset(scope, cursor)
    entries = list(OrderListing.query(key, limit=MAX_SORTED + 1))
    if len(entries) > MAX_SORTED:
        raise InvalidInput(f"This customer has more than {MAX_SORTED} orders: sort them by date.",
                           errors=[FieldError("sort", "sort by date beyond this many orders")])
    rows = _described(actor, entries)
    rows.sort(key=lambda row: _sort_value(row, sort), reverse=descending)
    following = offset + limit
    next_cursor = sign_place(scope, {"o": following}) if following < len(rows) else None
    return Page(items=rows[offset:following], next_cursor=next_cursor)


def _offset(scope: str, cursor: str | None) -> int:
    if not cursor:
        return 0
    offset = open_place(scope, cursor).get("o")
    if not isinstance(offset, int) or offset < 0:
        raise invalid_cursor()
    return offset


def _sort_value(row: Booking, sort: str):
    entry = row.entry
    values = {"show": (row.show or "").casefold(), "number": int(entry.number), "total": int(entry.total_cents),
              "performance_date": row.performance_date.isoformat() if row.performance_date else "",
              "balance_due": row.balance_due_cents, "status": entry.status}
    return values[sort], int(entry.number)  # ties: by order number


def _described(actor: Actor, entries: list[OrderListing]) -> list[Booking]:
    """Rows with the show's name and the first performance's date (each record read once)."""
    product_ids = {product for entry in entries for product in (entry.product_ids or ())}
    performance_ids = {performance for entry in entries for performance in (entry.performance_ids or ())}
    products = by_ids(actor, Product, product_ids)
    performances = by_ids(actor, Performance, performance_ids)
    rows = []
    for entry in entries:
        names = sorted(products[p].name for p in (entry.product_ids or ()) if p in products)
        dates = sorted(performances[p].starts_at for p in (entry.performance_ids or ()) if p in performances)
        rows.append(Booking(entry, " + ".join(names) or None, dates[0] if dates else None, balance_due(entry)))
    return rows

