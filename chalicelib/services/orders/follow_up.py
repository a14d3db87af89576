"""An order's follow-up records, written in the order's own transaction: the lines of an open
option or reservation (the follow-up list), their day counters, and what the schedule owes it.

:func:`changes` is called by every write of an order (placing it, :func:`~.orders.save_change`,
:func:`~.settlements.write_ticket_change`, a card payment) with the order before and after and
the tickets the write changed, and answers what to save, delete and count in that transaction
(:mod:`.derived` bundles it with the listing entries). The rules hold by construction:

- **Lines.** An open hold (an option or a reservation, unpaid, with a deadline) has one
  :class:`~chalicelib.models.options.HoldLine` per group of its tickets with the same
  performance, tariff, quota and seat category, listing the positions still held. A line's
  release mark and lock live on its row, which is versioned: marking or locking changes the row
  alone, and an order write that read the row before fails on its version and is retried.
- **A locked line is never released, by any path.** A write that would stop tickets of a locked
  line being held (a release, a staff cancel, any job) raises :class:`LineLocked` (409) and
  writes nothing; only a payment takes a locked line out of the list (its places are sold, not
  released). A release (``releasing=True``) also refuses a line marked *do not release*.
- **Counters.** Each row counts one line and its places on its deadline's day in the venue's
  zone, under its scope (kind, season, product family) and under its performance, product and
  contact; a write adds the difference between the rows before and after.
- **Due actions.** From the venue's policy, an open hold is owed a reminder N days before its
  deadline (until reminded for that deadline, and while it is to come) and a release M days
  after it; an unpaid card
  checkout is owed its expiry when its hold ends. The order keeps the times it was given
  (``due_actions``), so a new deadline or policy moves exactly those items, and a time already
  past when given is given as "now" so the sweep, which reads the days that have come, sees it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterable

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition

from chalicelib.adapters import clock
from chalicelib.config import settings
from chalicelib.errors import Conflict, FieldError
from chalicelib.models.base import tenant_key
from chalicelib.models.catalog import Product
from chalicelib.models.contacts import Contact
from chalicelib.models.options import HOLD_KINDS, DueAction, FollowUpPolicy, HoldLine, HoldLineCount
from chalicelib.models.orders import Order, Ticket
from chalicelib.services.orders.listing import buyer_name, stamp
from chalicelib.values.cents import allocate
from chalicelib.values.local_time import local_day

LINE_FACETS = ("performance", "product", "contact")


class LineLocked(Conflict):
    kind = "line-locked"
    title = "A locked line is never released nor cancelled; unlock it first"
    title_fr = "Une ligne verrouillée n'est jamais libérée ni annulée : déverrouillez-la d'abord"


class LineKept(Conflict):
    kind = "line-kept"
    title = "This line is marked do not release"
    title_fr = "Cette ligne est marquée « ne pas libérer »"


def is_open_hold(order: Order) -> bool:
    return order.kind in HOLD_KINDS and not order.paid and order.deadline is not None


def is_checkout_hold(order: Order) -> bool:
    """An unpaid card sale (the shop's checkout, the box office's card reader) with tickets held."""
    held = int(order.ticket_count or 0) - int(order.cancelled_count or 0) - int(order.refunded_count or 0)
    return order.kind == "sale" and order.payment_type == "card" and not order.paid and bool(order.deadline) \
        and held > 0


def policy_of(tenant_id: str) -> FollowUpPolicy | None:
    try:
        return FollowUpPolicy.get(tenant_id, consistent_read=True)
    except DoesNotExist:
        return None


def zone_of(policy: FollowUpPolicy | None) -> str:
    return policy.timezone if policy is not None else settings.default_timezone


def scope_key(tenant_id: str, kind: str, season_id: str, family_id: str) -> str:
    return tenant_key(tenant_id, kind, season_id, family_id)


def count_keys(row: HoldLine) -> list[str]:
    """The counters a row counts in: its scope, and its scope narrowed by each facet it has."""
    keys = [row.scope_key, row.performance_key, row.product_key]
    return keys + ([row.contact_key] if row.contact_key else [])


def line_of(ticket: Ticket) -> tuple[str, str, str, str]:
    """What makes tickets of an order one line: performance, tariff, quota, seat category."""
    return ticket.performance_id, ticket.tariff_id, ticket.quota_id or "", ticket.seat_category_id or ""


@dataclass
class FollowUpWrites:
    """What an order's write saves, deletes and counts beside the order."""

    saves: list[tuple[object, Condition | None]] = field(default_factory=list)
    deletes: list[object] = field(default_factory=list)
    counts: dict[tuple[str, str], list[int]] = field(default_factory=dict)

    def count(self, row: HoldLine, sign: int) -> None:
        for key in count_keys(row):
            tally = self.counts.setdefault((key, row.deadline_day), [0, 0])
            tally[0] += sign
            tally[1] += sign * int(row.quantity)

    def item_count(self) -> int:
        return len(self.saves) + len(self.deletes) + sum(1 for tally in self.counts.values() if any(tally))

    def apply(self, transaction) -> None:
        for item, condition in self.saves:
            transaction.save(item, condition=condition)
        for item in self.deletes:
            transaction.delete(item)  # a row's delete is version checked
        for (key, day), (lines, places) in self.counts.items():
            if lines or places:
                transaction.update(HoldLineCount(count_key=key, day=day),
                                   actions=[HoldLineCount.lines.add(lines), HoldLineCount.places.add(places)])


def rows_of(tenant_id: str, order_id: str) -> list[HoldLine]:
    return list(HoldLine.query(tenant_key(tenant_id, order_id), consistent_read=True))


def changes(before: Order | None, order: Order, *, tickets: Iterable[Ticket] = (),
            releasing: bool = False, hold_rows: list[HoldLine] | None = None) -> FollowUpWrites:
    """The follow-up records of ``order``'s write (see the module's docstring). ``tickets``: all
    the tickets of a new order, or those the write changed; ``hold_rows``: the order's rows when
    the caller read them (their versions guard the write all the same), else they are read."""
    writes = FollowUpWrites()
    tickets = list(tickets)
    was_hold = before is not None and before.kind in HOLD_KINDS
    if not (was_hold or order.kind in HOLD_KINDS or is_checkout_hold(order)
            or (before is not None and before.due_actions)):
        return writes  # a plain sale: nothing to follow, nothing read
    policy = policy_of(order.tenant_id) if order.kind in HOLD_KINDS else None
    zone = zone_of(policy)
    old_rows = (hold_rows if hold_rows is not None else rows_of(order.tenant_id, order.id)) if was_hold else []
    new_rows = _rows_after(before, order, old_rows, tickets, zone) if is_open_hold(order) else {}
    _refuse_locked(order, old_rows, new_rows, releasing=releasing)
    _diff_rows(writes, old_rows, new_rows)
    _due_changes(writes, before, order, has_rows=bool(new_rows), policy=policy)
    return writes


def _refuse_locked(order: Order, old_rows: list[HoldLine], new_rows: dict[str, HoldLine], *, releasing: bool) -> None:
    if order.paid:
        return  # sold, not released
    for row in old_rows:
        kept = new_rows.get(row.line)
        if kept is not None and len(kept.positions) == len(row.positions):
            continue
        label = f"line {row.line} of order {row.order_number}"
        if row.locked:
            raise LineLocked(f"The {label} is locked ({row.lock_reason or 'no reason given'}); unlock it first.",
                             errors=[FieldError("lines", f"{row.order_id}-{row.line}: locked")])
        if releasing and row.mark == "keep":
            raise LineKept(f"The {label} is marked do not release.",
                           errors=[FieldError("lines", f"{row.order_id}-{row.line}: do not release")])


def _rows_after(before: Order | None, order: Order, old_rows: list[HoldLine], tickets: list[Ticket],
                zone: str) -> dict[str, HoldLine]:
    """The rows the order has after the write: built from its tickets when new, else the rows
    it had, less the tickets the write took out, with the order's facts of now."""
    contact_type = _contact_type(order, old_rows)
    if before is None:
        return _new_rows(order, tickets, zone, contact_type)
    gone = {int(ticket.position) for ticket in tickets if ticket.state != "valid"}
    rows = {}
    for old in old_rows:
        kept = [(position, cents) for position, cents in zip(old.positions, old.position_cents)
                if int(position) not in gone]
        if not kept:
            continue
        row = HoldLine()
        row.deserialize(old.serialize())  # the same item, version included
        row.positions, row.position_cents = [p for p, _ in kept], [c for _, c in kept]
        _set_order_facts(row, order, zone, contact_type)
        rows[row.line] = row
    return rows


def _new_rows(order: Order, tickets: list[Ticket], zone: str, contact_type: str | None) -> dict[str, HoldLine]:
    ranked = sorted(tickets, key=lambda ticket: int(ticket.position))
    shares = allocate(int(order.discount_cents or 0), [int(ticket.price_cents) for ticket in ranked])
    groups: dict[tuple, list[tuple[Ticket, int]]] = {}
    for ticket, share in zip(ranked, shares):
        if ticket.state == "valid":
            groups.setdefault(line_of(ticket), []).append((ticket, int(ticket.price_cents) - share))
    products: dict[str, Product] = {}
    rows = {}
    for held in groups.values():
        first = held[0][0]
        if first.product_id not in products:
            products[first.product_id] = Product.get(order.tenant_id, first.product_id)
        product = products[first.product_id]
        row = HoldLine(order_key=tenant_key(order.tenant_id, order.id), line=f"{int(first.position):03d}",
                       tenant_id=order.tenant_id, order_id=order.id, season_id=product.season_id,
                       family_id=product.family_id, product_id=product.id, product_type=product.kind,
                       performance_id=first.performance_id, tariff_id=first.tariff_id, tariff_name=first.tariff_name,
                       quota_id=first.quota_id, seat_category_id=first.seat_category_id, currency=order.currency,
                       positions=[int(ticket.position) for ticket, _ in held],
                       position_cents=[cents for _, cents in held])
        _set_order_facts(row, order, zone, contact_type)
        rows[row.line] = row
    return rows


def _contact_type(order: Order, old_rows: list[HoldLine]) -> str | None:
    """The buyer's contact type (a filter of the list), read only when the buyer's record changed."""
    contact_id = order.buyer.contact_id
    if not contact_id:
        return None
    if old_rows and old_rows[0].contact_id == contact_id:
        return old_rows[0].contact_type
    try:
        return Contact.get(order.tenant_id, contact_id).contact_type
    except DoesNotExist:
        return None


def _set_order_facts(row: HoldLine, order: Order, zone: str, contact_type: str | None) -> None:
    row.order_number, row.kind, row.deadline = int(order.number), order.kind, order.deadline
    row.deadline_day = local_day(order.deadline, zone).isoformat()
    row.channel_id, row.contact_id, row.contact_type = order.channel_id, order.buyer.contact_id, contact_type
    row.buyer_name = buyer_name(order) or "-"
    row.reminders, row.reminded_at = int(order.reminders or 0), order.reminded_at
    row.quantity, row.amount_cents = len(row.positions), sum(int(cents) for cents in row.position_cents)
    row.scope_key = scope_key(order.tenant_id, order.kind, row.season_id, row.family_id)
    row.due_key = f"{stamp(order.deadline)}#{order.id}#{row.line}"
    row.performance_key = f"{row.scope_key}#performance#{row.performance_id}"
    row.product_key = f"{row.scope_key}#product#{row.product_id}"
    row.contact_key = f"{row.scope_key}#contact#{row.contact_id}" if row.contact_id else None


def _diff_rows(writes: FollowUpWrites, old_rows: list[HoldLine], new_rows: dict[str, HoldLine]) -> None:
    old_by_line = {row.line: row for row in old_rows}
    for line, row in new_rows.items():
        old = old_by_line.get(line)
        if old is not None and old.serialize() == row.serialize():
            continue
        if old is not None:
            writes.count(old, -1)
        writes.count(row, +1)
        writes.saves.append((row, None))  # a new row: version absent; a row read: version unchanged
    for line, old in old_by_line.items():
        if line not in new_rows:
            writes.count(old, -1)
            writes.deletes.append(old)


def due_times(order: Order, *, has_rows: bool, policy: FollowUpPolicy | None) -> dict[str, datetime]:
    """What the schedule owes the order and when, before any "not in the past" adjustment."""
    due: dict[str, datetime] = {}
    if is_checkout_hold(order):
        due["expire"] = order.deadline
    if has_rows and policy is not None and order.kind in (policy.kinds or ()):
        # A reminder announces a deadline to come: none for one already past.
        if policy.remind_days_before and order.reminded_for != order.deadline and order.deadline > clock.now():
            due["remind"] = order.deadline - timedelta(days=int(policy.remind_days_before))
        if policy.release_days_after:
            due["release"] = order.deadline + timedelta(days=int(policy.release_days_after))
    return due


def due_item(tenant_id: str, order_id: str, action: str, at: datetime) -> DueAction:
    return DueAction(due_day=at.astimezone(timezone.utc).date().isoformat(),
                     due_key=f"{tenant_id}#{action}#{stamp(at)}#{order_id}", tenant_id=tenant_id, action=action,
                     order_id=order_id, due_at=at)


def _due_changes(writes: FollowUpWrites, before: Order | None, order: Order, *, has_rows: bool,
                 policy: FollowUpPolicy | None) -> None:
    """Move the order's due actions to what it is owed now; ``order.due_actions`` records them
    as ``{action: {"for": the time owed, "at": the item's time}}``."""
    given = dict(before.due_actions or {}) if before is not None else {}
    now = clock.now()
    recorded = {}
    for action, owed in due_times(order, has_rows=has_rows, policy=policy).items():
        previous = given.get(action)
        if previous and previous.get("for") == stamp(owed):
            recorded[action] = previous
            continue
        recorded[action] = {"for": stamp(owed), "at": stamp(max(owed, now))}
    for action, previous in given.items():
        if recorded.get(action) != previous:
            writes.deletes.append(due_item(order.tenant_id, order.id, action, parse_stamp(previous["at"])))
    for action, current in recorded.items():
        if given.get(action) != current:
            writes.saves.append((due_item(order.tenant_id, order.id, action, parse_stamp(current["at"])), None))
    order.due_actions = recorded or None


def parse_stamp(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc)
