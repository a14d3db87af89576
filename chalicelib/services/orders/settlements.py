"""Writing a change of some tickets of an order, and of what became of their money, atomically.

Cancelling tickets, refunding them, turning them into credit or a donation, and undoing a
failed refund all change the same things together, so they share :func:`write_ticket_change`:
in **one transaction** the order (version checked: two staff members, two clicks, a Lambda
run twice, cannot both pass), the tickets (each with its own condition: a ticket is settled
once), the places and seats of tickets that stop being valid (back on sale), the order's
listing entries, the ledger entry and the metrics it moves, the operation's own records
(a refund, a credit entry...), and the audit event. Any condition failing writes nothing.
"""
from __future__ import annotations

from collections import Counter as Tally
from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock
from chalicelib.errors import ConcurrentChange, Conflict, FieldError, InvalidInput
from chalicelib.models.base import connection
from chalicelib.models.catalog import Quota
from chalicelib.models.money import LedgerEntry
from chalicelib.models.orders import Order, Ticket
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.services.ledger import ledger
from chalicelib.services.orders import orders
from chalicelib.services.orders.derived import DerivedWrites, derived_writes
from chalicelib.services.orders.status import derive_status
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event, snapshot

SETTLEMENTS = ("refund", "credit", "donation")


class TooManyForOneWrite(InvalidInput):
    title = "Too many tickets, performances or seats for one change; do it in two"
    title_fr = "Trop de billets, de séances ou de places pour un seul changement : faites-le en deux fois"


def chosen_tickets(tickets: list[Ticket], positions: list[int]) -> list[Ticket]:
    """The tickets at ``positions`` (422 naming the unknown ones), each once, in the order asked."""
    by_position = {int(ticket.position): ticket for ticket in tickets}
    unknown = [position for position in positions if position not in by_position]
    if unknown:
        raise InvalidInput("These tickets are not in the order.",
                           errors=[FieldError("positions", f"no ticket {position}") for position in unknown])
    return [by_position[position] for position in dict.fromkeys(positions)]


def refuse_settled(chosen: list[Ticket]) -> None:
    """409 if any chosen ticket's money was already refunded, credited or donated."""
    settled = [ticket for ticket in chosen if ticket.settlement]
    if settled:
        described = ", ".join(f"{int(t.position)} ({t.settlement})" for t in settled)
        raise Conflict(f"The money of tickets {described} was already given back; nothing was done.",
                       errors=[FieldError("positions", f"ticket {int(t.position)}: {t.settlement} already made")
                               for t in settled])


@dataclass
class TicketChange:
    """One atomic change of an order and some of its tickets (see the module's docstring)."""

    action: str
    order: Order
    before: Order
    tickets: list[Ticket]
    ticket_condition: Condition | None = None
    freed: list[Ticket] = field(default_factory=list)
    entry: LedgerEntry | None = None
    records: list[tuple[Any, Condition | None]] = field(default_factory=list)
    updates: list[tuple[Any, list, Condition | None]] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)
    releasing: bool = False  # a release: lines marked "do not release" refuse it (locked lines refuse any change)
    hold_rows: list | None = None  # the order's follow-up rows, when the caller read them already


def restate(order: Order, all_tickets: list[Ticket]) -> None:
    """The order's counts and status from its tickets, as they now are."""
    states = Tally(ticket.state for ticket in all_tickets)
    order.cancelled_count = states["cancelled"]
    order.refunded_count = states["refunded"]
    order.status = derive_status(bool(order.paid), (ticket.state for ticket in all_tickets))


def free_places(tickets: list[Ticket], state: str) -> list[Ticket]:
    """Move ``tickets`` to ``state``; returns those that were valid (their places go back on sale)."""
    now, freed = clock.now(), []
    for ticket in tickets:
        if ticket.state == "valid":
            freed.append(ticket)
        ticket.state, ticket.state_changed_at = state, now
    return freed


def _count_items(change: TicketChange, derived: DerivedWrites) -> int:
    places = {ticket.quota_id for ticket in change.freed if ticket.quota_id}
    seats = [ticket for ticket in change.freed if ticket.seat_id]
    entry_items = ledger.items_for(change.entry) if change.entry is not None else 0
    return (2 + len(change.tickets) + len(places) + len(seats) + derived.item_count() + entry_items
            + len(change.records) + len(change.updates))


def write_ticket_change(actor: Actor, change: TicketChange) -> None:
    order = change.order
    order.updated_at = clock.now()
    derived = derived_writes(change.before, order, tickets=change.tickets, releasing=change.releasing,
                             hold_rows=change.hold_rows)
    if _count_items(change, derived) > orders.TRANSACTION_ITEMS:
        raise TooManyForOneWrite("These tickets span too many performances, quotas or seats to change at once; "
                                 "choose fewer tickets and do the rest after.",
                                 errors=[FieldError("positions", "choose fewer tickets")])
    places = Tally(ticket.quota_id for ticket in change.freed if ticket.quota_id)
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(order)  # version checked: a concurrent change of the order fails this
            for ticket in change.tickets:
                transaction.save(ticket, condition=change.ticket_condition)
            for quota_id, count in places.items():
                transaction.update(Quota(tenant_id=actor.tenant_id, id=quota_id),
                                   actions=[Quota.remaining.add(count)], add_version_condition=False)
            for ticket in change.freed:
                if ticket.seat_id:
                    transaction.delete(orders.seat_claim(actor.tenant_id, order.id, ticket.performance_id,
                                                         ticket.seat_id),
                                       condition=UniqueKey.entity_id == order.id)
            derived.apply(transaction)
            for record, condition in change.records:
                transaction.save(record, condition=condition)
            for item, actions, condition in change.updates:
                transaction.update(item, actions=actions, condition=condition)
            if change.entry is not None:
                ledger.write(transaction, change.entry)
            transaction.save(audit_event(actor, "order", order.id, change.action, snapshot(change.before),
                                         {**(snapshot(order) or {}), **change.details}))
    except TransactWriteError as error:
        raise ConcurrentChange("The order or its tickets changed meanwhile (another change was made at the same "
                               "time); nothing was done. Reload the order and try again.") from error
