"""Releasing held lines: their tickets cancelled, their places and seats back on sale at once.

:func:`release_lines` releases lines of one order in **one transaction** with the order (the
order's version, each ticket still valid, each line's row version: see
:func:`chalicelib.services.orders.settlements.write_ticket_change`): places return to their
quotas, seats are freed, the order's counts, status, listing and follow-up rows follow, the
audit event says who released what and why. A locked line, or one marked *do not release*, is
skipped (and the order's own write refuses it if it became so meanwhile). A payment or a
confirmation racing a release ends in exactly one of the two: both write the order under its
version, and the loser reads again (a released order cannot be marked paid; a card payment
arriving after the release is refunded at once).

Lines are asked for by id (the list's displayed lines) or by filters (all that match, a job:
:mod:`.bulk`); :func:`preview` says first how many lines, orders and places would go, and for
what amount, without writing anything.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.errors import ConcurrentChange, NotFound
from chalicelib.models.options import HoldLine
from chalicelib.models.orders import Order, Ticket
from chalicelib.observability import logger
from chalicelib.services.options.listing import lines_by_order
from chalicelib.services.options.outcomes import (
    DONE,
    FAILED,
    SKIPPED_GONE,
    SKIPPED_KEPT,
    SKIPPED_LOCKED,
    SKIPPED_PAID,
    LineOutcome,
)
from chalicelib.services.orders import follow_up, orders
from chalicelib.services.orders.settlements import TicketChange, free_places, restate, write_ticket_change
from chalicelib.services.shared.actors import Actor

ATTEMPTS = 5
PREVIEW_PAGE = 500


def release_by_ids(actor: Actor, line_ids: list[str], *, mail: bool, reason: str | None) -> list[LineOutcome]:
    """Run release for the lines shown: those marked release and not locked go, each reported."""
    outcomes = []
    for order_id, lines in lines_by_order(actor, line_ids).items():
        outcomes += release_lines(actor, order_id, lines, mail=mail, reason=reason or "released by staff")
    return outcomes


def preview_ids(actor: Actor, line_ids: list[str]) -> "ReleasePreview":
    """What releasing these lines would take back (nothing written), with each line's fate in
    ``decisions``; a line no longer held (paid, released, cancelled) counts as ``skipped_gone``,
    as the release would report it."""
    summary = ReleasePreview(decisions=[])
    for order_id, lines in lines_by_order(actor, line_ids).items():
        held = [row for row in follow_up.rows_of(actor.tenant_id, order_id) if row.line in lines]
        for row in held:
            summary.add(row)
        gone = len(lines - {row.line for row in held})
        if gone:
            summary.skipped[SKIPPED_GONE] = summary.skipped.get(SKIPPED_GONE, 0) + gone
    return summary


def preview_all(actor: Actor, filters) -> "ReleasePreview":
    """What releasing every line matching ``filters`` would take back (reads them; nothing written)."""
    from chalicelib.services.options.listing import check_filters, lines_matching, venue_zone

    check_filters(actor, filters)
    zone, summary, start = venue_zone(actor.tenant_id), ReleasePreview(), None
    while True:
        rows, start = lines_matching(actor, filters, zone, limit=PREVIEW_PAGE, start=start)
        for row in rows:
            summary.add(row)
        if start is None:
            return summary


def releasable(row: HoldLine) -> str | None:
    """Why a line is not released by a release run, or ``None`` if it is."""
    if row.locked:
        return SKIPPED_LOCKED
    if row.mark == "keep":
        return SKIPPED_KEPT
    return None


def release_lines(actor: Actor, order_id: str, lines: set[str] | None, *, mail: bool, reason: str) -> list[LineOutcome]:
    """Release ``lines`` of the order (``None``: every releasable line), each reported."""
    for _ in range(ATTEMPTS):
        try:
            return _release_once(actor, order_id, lines, mail=mail, reason=reason)
        except (ConcurrentChange, follow_up.LineLocked, follow_up.LineKept):
            continue  # a payment, a mark, a lock or another release landed first: read again
    return [LineOutcome(f"{order_id}-{line}", FAILED, "the order kept changing; try again") for line in lines or ()]


def _release_once(actor: Actor, order_id: str, lines: set[str] | None, *, mail: bool,
                  reason: str) -> list[LineOutcome]:
    try:
        order = orders.get_order(actor, order_id)
    except NotFound:
        return [LineOutcome(f"{order_id}-{line}", SKIPPED_GONE, "no such order") for line in lines or ()]
    rows = follow_up.rows_of(actor.tenant_id, order_id)
    wanted = [row for row in rows if lines is None or row.line in lines]
    if order.paid or not follow_up.is_open_hold(order):
        why = SKIPPED_PAID if order.paid else SKIPPED_GONE
        return [LineOutcome(f"{order_id}-{line}", why) for line in (lines or {row.line for row in rows})]
    outcomes = [LineOutcome(f"{order_id}-{line}", SKIPPED_GONE, "no longer held")
                for line in sorted((lines or set()) - {row.line for row in rows})]
    going = []
    for row in wanted:
        why = releasable(row)
        if why:
            outcomes.append(LineOutcome(f"{order_id}-{row.line}", why))
        else:
            going.append(row)
    if going and order.payment_intent_id and not _card_payment_stopped(order):
        return outcomes + [LineOutcome(f"{order_id}-{row.line}", SKIPPED_PAID, "card payment under way")
                           for row in going]
    if going:
        _write_release(actor, order, going, rows, reason=reason)
        outcomes += [LineOutcome(f"{order_id}-{row.line}", DONE) for row in going]
        if mail:
            _tell_buyer(actor, order, going)
    return outcomes


def _card_payment_stopped(order: Order) -> bool:
    """An option being confirmed by card: its PaymentIntent cancelled before its places go, so the
    card cannot be charged for places released; ``False`` when Stripe says it is paid or being paid."""
    from chalicelib.services.orders.checkout import intent_cancelled

    return intent_cancelled(order.payment_intent_id)


def _write_release(actor: Actor, order: Order, going: list[HoldLine], rows: list[HoldLine], *, reason: str) -> None:
    """The release's one transaction; the order's ``rows`` as read above go with it (their
    versions make the write fail if a mark or a lock landed since: then it is read again)."""
    tickets = orders.tickets_of(order)
    positions = {int(position) for row in going for position in row.positions}
    chosen = [ticket for ticket in tickets if int(ticket.position) in positions and ticket.state == "valid"]
    before = orders.copy_of(order)
    freed = free_places(chosen, "cancelled")
    restate(order, tickets)
    write_ticket_change(actor, TicketChange(
        action="release", order=order, before=before, tickets=chosen, freed=freed,
        ticket_condition=Ticket.state == "valid", releasing=True, hold_rows=rows,
        details={"released_lines": [row.line for row in going], "places": len(chosen), "reason": reason}))


def _tell_buyer(actor: Actor, order: Order, going: list[HoldLine]) -> None:
    """The release notice; a problem is logged, never raised (the release stands)."""
    from chalicelib.services.mail import sending
    from chalicelib.services.options.notices import hold_mail

    try:
        lines = "-".join(row.line for row in going)
        request = hold_mail(actor, order, going, template="options_released",
                            idempotency_key=f"order:{order.id}:released:{lines}")
        if request is not None:
            sending.send_mail(actor, request)
    except Exception:
        logger.exception("release notice not sent", extra={"order_id": order.id})


@dataclass
class ReleasePreview:
    """What a release would take back: lines, orders and places, and what they were worth."""

    lines: int = 0
    orders: int = 0
    places: int = 0
    amount_cents: dict[str, int] = field(default_factory=dict)  # per currency
    skipped: dict[str, int] = field(default_factory=dict)
    # each line and why it would stay (None: released), when asked for (a few lines, not "for all")
    decisions: list[tuple[HoldLine, str | None]] | None = None
    _orders: set[str] = field(default_factory=set, repr=False)

    def add(self, row: HoldLine) -> None:
        why = releasable(row)
        if self.decisions is not None:
            self.decisions.append((row, why))
        if why:
            self.skipped[why] = self.skipped.get(why, 0) + 1
            return
        self.lines += 1
        self.places += int(row.quantity)
        self.amount_cents[row.currency] = self.amount_cents.get(row.currency, 0) + int(row.amount_cents)
        self._orders.add(row.order_id)
        self.orders = len(self._orders)


def preview(rows) -> ReleasePreview:
    summary = ReleasePreview()
    for row in rows:
        summary.add(row)
    return summary
