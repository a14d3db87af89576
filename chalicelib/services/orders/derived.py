"""What an order's write carries beside the order, in the same transaction: its listing entries
(:mod:`.listing`) and its follow-up records (:mod:`.follow_up`: held lines, their counters, the
schedule's due actions). Every write path (placing an order, :func:`~.orders.save_change`,
:func:`~.settlements.write_ticket_change`, a card payment) takes them from :func:`derived_writes`,
so none can forget one."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from chalicelib.models.orders import Order, OrderListing, Ticket
from chalicelib.services.orders import follow_up
from chalicelib.services.orders import listing as order_listing


@dataclass
class DerivedWrites:
    listing_saves: list[OrderListing]
    listing_deletes: list[OrderListing]
    follow: follow_up.FollowUpWrites

    def item_count(self) -> int:
        return len(self.listing_saves) + len(self.listing_deletes) + self.follow.item_count()

    def apply(self, transaction) -> None:
        for entry in self.listing_deletes:
            transaction.delete(entry)
        for entry in self.listing_saves:
            transaction.save(entry)
        self.follow.apply(transaction)


def derived_writes(before: Order | None, order: Order, *, tickets: Iterable[Ticket] = (),
                   releasing: bool = False, hold_rows: list | None = None) -> DerivedWrites:
    """The records to write with ``order`` (``tickets``: all of a new order's, or those the write
    changed; ``releasing``: the write is a release, which refuses lines marked do not release;
    ``hold_rows``: the order's follow-up rows if the caller read them). Call it before the
    transaction: it records the order's due actions on ``order``."""
    follow = follow_up.changes(before, order, tickets=tickets, releasing=releasing, hold_rows=hold_rows)
    saves, deletes = order_listing.listing_changes(before, order)
    return DerivedWrites(saves, deletes, follow)
