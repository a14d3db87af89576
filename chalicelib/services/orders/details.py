"""An order as staff read it: its fields, itemised totals, tickets, payments, and the actions
its status allows on it and on each ticket."""
from __future__ import annotations

from chalicelib.models.orders import Order, Ticket
from chalicelib.services.orders.orders import payments_of, tickets_of
from chalicelib.services.orders.status import order_actions, status_label, ticket_actions


def _ticket_fields(ticket) -> dict:
    return {name: getattr(ticket, name) for name in (
        "position", "performance_id", "product_id", "tariff_id", "tariff_name", "quota_id", "seat_id", "seat_label",
        "price_cents", "attendee_name", "attendee_email", "state")}


def order_details(order: Order, tickets: list[Ticket] | None = None) -> dict:
    """An order as staff read it: fields, totals, tickets and the actions its status allows."""
    tickets = tickets_of(order) if tickets is None else tickets
    valid = sum(1 for ticket in tickets if ticket.state == "valid")
    return {
        "id": order.id, "number": order.number, "kind": order.kind, "deadline": order.deadline,
        "status": order.status, "status_label": status_label(order.status, valid, len(tickets)),
        "buyer": order.buyer.as_dict(), "payment_type": order.payment_type, "paid": order.paid,
        "paid_at": order.paid_at, "promo_code": order.promo_code, "ticket_count": order.ticket_count,
        "totals": {"tickets_cents": order.tickets_cents, "discount_cents": order.discount_cents,
                   "fees_cents": order.fees_cents, "tax_cents": order.tax_cents,
                   "refunded_cents": order.refunded_cents, "total_cents": order.total_cents,
                   "currency": order.currency},
        "tickets": [{**_ticket_fields(ticket),
                     "actions": ticket_actions(order.status, bool(order.paid), ticket.state)} for ticket in tickets],
        "actions": order_actions(order.status, bool(order.paid), order.payment_type), "created_at": order.created_at,
        "created_by": order.created_by, "version": order.version, "payment_intent_id": order.payment_intent_id,
        "payments": payments_of(order), "buyer_delivery": buyer_delivery(order),
    }


def buyer_delivery(order: Order) -> dict | None:
    """What the mail system learned of the buyer's address (a bounce, a complaint, when), shown
    on the order itself: a buyer without a customer record has nowhere else to show it."""
    from chalicelib.services.mail.recipients import standing_of

    standing = standing_of(order.tenant_id, order.buyer.email) if order.buyer.email else None
    if standing is None:
        return None
    return {"undeliverable": bool(standing.undeliverable), "complained": bool(standing.complained),
            "last_event": standing.last_event, "last_event_at": standing.last_event_at}
