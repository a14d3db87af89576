"""Options and reservations to follow up, placed through the order service: a world to sell
from (the orders world), and helpers to hold places and read the follow-up list."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from chalicelib.adapters import clock
from chalicelib.services.options import listing
from chalicelib.services.orders import orders
from tests.orders_world import draft, line


def hold(actor, world, *lines, kind="option", days=3, deadline: datetime | None = None, buyer=None, **fields):
    """An option (or reservation) of ``lines`` (one full-price evening place by default), unpaid,
    with its deadline ``days`` from now."""
    deadline = deadline or clock.now() + timedelta(days=days)
    order, tickets = orders.place_order(actor, draft(world, *(lines or [line(world)]), kind=kind,
                                                     payment_type=fields.pop("payment_type", "cheque"),
                                                     deadline=deadline, buyer=buyer, **fields))
    return order


def filters(world, *, kind="option", before: date | None = None, **optional) -> listing.LineFilters:
    return listing.LineFilters(kind=kind, deadline_on_or_before=before or (clock.now() + timedelta(days=30)).date(),
                               season_id=world.show.season_id, family_id=world.show.family_id, **optional)


def all_lines(actor, chosen: listing.LineFilters, *, limit=50):
    """Every page of the list: the rows, and the counts the first page stated."""
    rows, cursor, counts = [], None, None
    while True:
        page = listing.find_lines(actor, chosen, limit=limit, cursor=cursor)
        rows += page.items
        counts = counts or (page.matching_lines, page.matching_places, page.counted_by)
        assert (page.matching_lines, page.matching_places, page.counted_by) == counts  # the same on every page
        if not page.next_cursor:
            return rows, counts
        cursor = page.next_cursor
