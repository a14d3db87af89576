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

from collections import Counter as Tally

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock
from chalicelib.errors import ConcurrentChange, Conflict, FieldError, InvalidInput
from chalicelib.models.base import connection
from chalicelib.models.catalog import Quota
from chalicelib.models.orders import Order, Ticket
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.observability import logger
from chalicelib.services import order_listing, orders
from chalicelib.services.actors import Actor
from chalicelib.services.audit import audit_event, snapshot
from chalicelib.services.order_status import derive_status, require_action


def _chosen(tickets: list[Ticket], positions: list[int]) -> list[Ticket]:
    by_position = {int(ticket.position): ticket for ticket in tickets}
    unknown = [position for position in positions if position not in by_position]
    if unknown:
        raise InvalidInput("These tickets are not in the order.",
                           errors=[FieldError("positions", f"no ticket {position}") for position in unknown])
    chosen = [by_position[position] for position in dict.fromkeys(positions)]
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
    now = clock.now()
    for ticket in chosen:
        ticket.state, ticket.state_changed_at = "cancelled", now
    order.cancelled_count = int(order.cancelled_count or 0) + len(chosen)
    order.status = derive_status(bool(order.paid), (ticket.state for ticket in tickets))
    order.updated_at = now
    _write(actor, order, before, chosen)
    _mail_buyer(actor, order, chosen)
    return order, tickets


def _write(actor: Actor, order: Order, before: Order, chosen: list[Ticket]) -> None:
    to_write, to_delete = order_listing.listing_changes(before, order)
    places = Tally(ticket.quota_id for ticket in chosen if ticket.quota_id)
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(order)  # version checked: a concurrent change of the order fails this
            for ticket in chosen:
                transaction.save(ticket)
            for quota_id, count in places.items():
                transaction.update(Quota(tenant_id=actor.tenant_id, id=quota_id),
                                   actions=[Quota.remaining.add(count)], add_version_condition=False)
            for ticket in chosen:
                if ticket.seat_id:
                    transaction.delete(orders.seat_claim(actor.tenant_id, order.id, ticket.performance_id,
                                                         ticket.seat_id),
                                       condition=UniqueKey.entity_id == order.id)
            for entry in to_delete:
                transaction.delete(entry)
            for entry in to_write:
                transaction.save(entry)
            transaction.save(audit_event(actor, "order", order.id, "cancel-tickets", snapshot(before),
                                         {**(snapshot(order) or {}),
                                          "cancelled_positions": [int(t.position) for t in chosen]}))
    except TransactWriteError as error:
        raise ConcurrentChange("The order changed meanwhile; reload it and try again.") from error


def _mail_buyer(actor: Actor, order: Order, chosen: list[Ticket]) -> None:
    """The cancellation mail; a problem is logged, never raised (the cancellation stands)."""
    from chalicelib.services import mail, order_mail

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
