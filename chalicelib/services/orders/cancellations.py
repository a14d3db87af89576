"""Cancelling tickets of an order (staff pick them): final, and felt at once everywhere.

In **one transaction**: the tickets become ``cancelled`` (their check-in value stops working,
since check-in admits valid tickets only), their places go back to their quotas, their seats
are freed for sale, the order's counts, status and listing entries follow, and the audit event
is written. Then the buyer gets the cancellation mail, with the ticket types' cancellation
messages. A cancelled ticket can still be refunded later (see the refunds service).

Cancelling a ticket that is no longer valid is refused (409) and changes nothing; a
concurrent cancellation of the same ticket fails on the order's version.
"""
from __future__ import annotations

from chalicelib.errors import Conflict, FieldError
from chalicelib.models.orders import Order, Ticket
from chalicelib.observability import logger
from chalicelib.services.ledger import ledger
from chalicelib.services.orders import orders
from chalicelib.services.orders.settlements import (
    TicketChange,
    chosen_tickets,
    free_places,
    restate,
    write_ticket_change,
)
from chalicelib.services.orders.status import require_action
from chalicelib.services.shared.actors import Actor


def _chosen(tickets: list[Ticket], positions: list[int]) -> list[Ticket]:
    chosen = chosen_tickets(tickets, positions)
    gone = [int(ticket.position) for ticket in chosen if ticket.state != "valid"]
    if gone:
        raise Conflict(f"Tickets {', '.join(map(str, gone))} are already cancelled or refunded.",
                       errors=[FieldError("positions", f"ticket {position} is not valid") for position in gone])
    return chosen


def cancel_tickets(actor: Actor, order_id: str, positions: list[int]) -> tuple[Order, list[Ticket]]:
    order = orders.get_order(actor, order_id)
    require_action(order.status, "cancel")
    tickets = orders.tickets_of(order)
    chosen = _chosen(tickets, positions)
    before = orders.copy_of(order)
    freed = free_places(chosen, "cancelled")
    restate(order, tickets)
    entry = None
    if order.paid:  # sold tickets cancelled: the metrics count them (unpaid ones were never sold)
        entry = ledger.new_entry(actor, order, "cancellation",
                                 ledger.lines_for(actor.tenant_id, ((t, {"tickets_cancelled": 1}) for t in chosen)))
    write_ticket_change(actor, TicketChange(
        action="cancel-tickets", order=order, before=before, tickets=chosen, freed=freed, entry=entry,
        ticket_condition=Ticket.state == "valid",
        details={"cancelled_positions": [int(t.position) for t in chosen]}))
    _mail_buyer(actor, order, chosen)
    return order, tickets


def release_hold(actor: Actor, order_id: str, *, reason: str) -> Order:
    """An unpaid hold that will not be paid (its payment could not even start): its valid tickets
    cancelled at once, places and seats back on sale, audited with ``reason``; no mail (the
    buyer is told on the page they are on). A paid or already released order is left as is."""
    order = orders.get_order(actor, order_id)
    tickets = orders.tickets_of(order)
    chosen = [ticket for ticket in tickets if ticket.state == "valid"]
    if order.paid or not chosen:
        return order
    before = orders.copy_of(order)
    freed = free_places(chosen, "cancelled")
    restate(order, tickets)
    write_ticket_change(actor, TicketChange(
        action="release-hold", order=order, before=before, tickets=chosen, freed=freed,
        ticket_condition=Ticket.state == "valid", details={"reason": reason}))
    return order


def _mail_buyer(actor: Actor, order: Order, chosen: list[Ticket]) -> None:
    """The cancellation mail; a problem is logged, never raised (the cancellation stands)."""
    from chalicelib.services.mail import sending as mail
    from chalicelib.services.orders import mails as order_mail

    if not order.buyer.email:
        return
    try:
        language = order.buyer.language or "fr"
        context, venue = order_mail.order_context(actor, order, chosen, language)
        positions = "-".join(str(int(ticket.position)) for ticket in chosen)
        mail.send_mail(actor, mail.MailRequest(
            template="order_cancellation", language=language, recipient=order.buyer.email, concerns_type="order",
            concerns_id=order.id, sender_name=venue.name, contact_id=order.buyer.contact_id,
            context={**context, "first_name": order.buyer.first_name or "", "cancelled_ticket_count": len(chosen)},
            custom_message=order_mail.custom_messages(actor, chosen, "cancellation"),
            idempotency_key=f"order:{order.id}:cancel:{positions}"))
    except Exception:
        logger.exception("cancellation mail not sent", extra={"order_id": order.id})
