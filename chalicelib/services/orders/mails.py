"""The mails an order sends: the buyer's confirmation (with the ticket types' custom
messages) and the team notifications staff asked for.

Sent after the order is stored, through :mod:`chalicelib.services.mail.sending` with idempotency
keys, so a retry or a double click never mails twice. A mail problem is logged and never
undoes or fails the order: the notification records what happened, and staff can resend.
"""
from __future__ import annotations

from typing import Iterable

from chalicelib.models.catalog import Performance, Product, Tariff, Venue
from chalicelib.models.orders import Order, Ticket
from chalicelib.models.team import TeamNotificationRule
from chalicelib.observability import logger
from chalicelib.services.mail import sending as mail
from chalicelib.services.orders.listing import buyer_name
from chalicelib.services.orders.ticket_links import tickets_link
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.records import get_record
from chalicelib.values.formatting import datetime_text, money


def order_context(actor: Actor, order: Order, tickets: list[Ticket], language: str) -> tuple[dict, Venue]:
    """What every order mail says about the order, in ``language``: its first performance
    names the show, the date and the venue (multi-performance orders add "and more")."""
    first = tickets[0]
    performance = get_record(actor, Performance, first.performance_id)
    product = get_record(actor, Product, first.product_id)
    venue = get_record(actor, Venue, performance.venue_id)
    others = len({ticket.performance_id for ticket in tickets}) - 1
    more = {"fr": f" (et {others} autre(s) représentation(s))", "en": f" (and {others} more)"}[language] if others else ""
    return {
        "venue_name": venue.name, "show_name": product.name + more, "order_number": str(order.number),
        "performance_date": datetime_text(performance.starts_at, venue.timezone, language),
        "ticket_count": len(tickets), "total": money(order.total_cents, order.currency, language),
    }, venue


def custom_messages(actor: Actor, tickets: Iterable[Ticket], *kinds: str) -> str | None:
    """The messages of these kinds (payment, confirmation, cancellation, refund) that the
    tickets' types carry, each once."""
    texts = []
    for tariff_id in dict.fromkeys(ticket.tariff_id for ticket in tickets):
        messages = get_record(actor, Tariff, tariff_id).messages
        for kind in kinds:
            message = getattr(messages, kind, None)
            if message and message not in texts:
                texts.append(message)
    return "\n\n".join(texts) or None


def confirmation_request(actor: Actor, order: Order, tickets: list[Ticket], *, reason: str) -> mail.MailRequest | None:
    """The buyer's confirmation with tickets, keyed once per order and ``reason`` (placed, paid,
    resend:<job>); ``None`` when the buyer left no address."""
    if not order.buyer.email:
        return None
    language = order.buyer.language or "fr"
    context, venue = order_context(actor, order, tickets, language)
    kinds = ("payment", "confirmation") if reason == "paid" else ("confirmation",)
    return mail.MailRequest(
        template="order_confirmation", language=language, recipient=order.buyer.email, concerns_type="order",
        concerns_id=order.id, sender_name=venue.name, contact_id=order.buyer.contact_id,
        context={**context, "first_name": order.buyer.first_name or ""},
        custom_message=custom_messages(actor, tickets, *kinds), action_url=tickets_link(order),
        idempotency_key=f"order:{order.id}:confirmation:{reason}")


def send_confirmation(actor: Actor, order: Order, tickets: list[Ticket], *, reason: str = "placed") -> None:
    """Send the confirmation after a sale or a payment; a problem is logged, never raised into
    the money path (the notification shows it, staff can resend)."""
    try:
        request = confirmation_request(actor, order, tickets, reason=reason)
        if request is not None:
            mail.send_mail(actor, request)
    except Exception:
        logger.exception("order confirmation not sent", extra={"order_id": order.id})


def notify_team(actor: Actor, order: Order, tickets: list[Ticket]) -> None:
    """Mail each address of each active rule matching the order's ticket types (once per order)."""
    tariff_ids = {ticket.tariff_id for ticket in tickets}
    rules = [rule for rule in TeamNotificationRule.query(actor.tenant_id)
             if rule.active and (rule.all_tariffs or tariff_ids & (rule.tariff_ids or set()))]
    if not rules:
        return
    try:
        context, venue = order_context(actor, order, tickets, "fr")
        names = ", ".join(dict.fromkeys(ticket.tariff_name for ticket in tickets))
        context.update(buyer_name=buyer_name(order), ticket_types=names,
                       ordered_at=datetime_text(order.created_at, venue.timezone, "fr"))
        for address in sorted({address for rule in rules for address in rule.addresses}):
            mail.send_mail(actor, mail.MailRequest(
                template="team_new_order", language="fr", recipient=address, concerns_type="order",
                concerns_id=order.id, sender_name=venue.name, context=context, essential=False,
                idempotency_key=f"order:{order.id}:team:{address}"))
    except Exception:
        logger.exception("team notification not sent", extra={"order_id": order.id})
