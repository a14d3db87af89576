"""Extending deadlines: an order's confirmation deadline moved later (or earlier), audited.

The deadline belongs to the order, so extending a line extends its order's every line. The
order's write moves its rows in the list, its day counters and what the schedule owes it (a
new deadline is a new reminder round). A locked line's order may be extended: a lock stops
releases, not patience.
"""
from __future__ import annotations

from datetime import datetime

from chalicelib.errors import ConcurrentChange
from chalicelib.services.options.listing import held_order
from chalicelib.services.options.outcomes import DONE, SKIPPED_GONE, LineOutcome
from chalicelib.services.orders import orders
from chalicelib.services.shared.actors import Actor

ATTEMPTS = 5


def extend_deadline(actor: Actor, order_id: str, deadline: datetime, *, reason: str | None) -> LineOutcome:
    for _ in range(ATTEMPTS):
        found = held_order(actor, order_id)
        if isinstance(found, LineOutcome):
            return found
        order = found.order
        if order.deadline == deadline:
            return LineOutcome(order_id, DONE, "unchanged")
        before = orders.copy_of(order)
        order.deadline = deadline
        try:
            orders.save_change(actor, order, before, action="extend-deadline",
                               details={"previous_deadline": before.deadline.isoformat(), "reason": reason})
            return LineOutcome(order_id, DONE)
        except ConcurrentChange:
            continue
    return LineOutcome(order_id, SKIPPED_GONE, "the order kept changing; try again")


def extend_by_ids(actor: Actor, line_ids: list[str], deadline: datetime, *, reason: str | None) -> list[LineOutcome]:
    """Extend the orders of the lines shown (a line's deadline is its order's)."""
    from chalicelib.services.options.listing import lines_by_order

    return [extend_deadline(actor, order_id, deadline, reason=reason) for order_id in lines_by_order(actor, line_ids)]
