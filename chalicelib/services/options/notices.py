"""The mails of the follow-up: the reminder ("Rappel d'options/réservations") and the release
notice, in the buyer's language, listing the order's lines, the deadline in the venue's zone
and how to reach the box office. Venues reword them like every mail (overrides)."""
from __future__ import annotations

from chalicelib.models.catalog import Performance, Product, Venue
from chalicelib.models.options import HoldLine
from chalicelib.models.orders import Order
from chalicelib.services.catalog.organisation import find_profile
from chalicelib.services.mail import sending as mail
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.records import by_ids, get_record
from chalicelib.values.formatting import count_noun, date_text, datetime_text, money


def hold_mail(actor: Actor, order: Order, rows: list[HoldLine], *, template: str,
              idempotency_key: str) -> mail.MailRequest | None:
    """The mail ``template`` about ``rows`` of ``order``; ``None`` when the buyer left no address."""
    if not order.buyer.email:
        return None
    language = order.buyer.language if order.buyer.language in ("fr", "en") else "fr"
    performances = by_ids(actor, Performance, [row.performance_id for row in rows])  # each read once
    venue = get_record(actor, Venue, next(iter(performances.values())).venue_id)
    product = get_record(actor, Product, rows[0].product_id)
    lines = [", ".join((datetime_text(performances[row.performance_id].starts_at, venue.timezone, language),
                        row.tariff_name, count_noun(int(row.quantity), *_places(language), language)))
             for row in rows]
    context = {
        "first_name": order.buyer.first_name or "", "venue_name": venue.name, "hold_kind": order.kind,
        "order_number": str(order.number), "show_name": product.name, "lines": lines,
        "ticket_count": sum(int(row.quantity) for row in rows),
        "total": money(sum(int(row.amount_cents) for row in rows), order.currency, language),
        "deadline": date_text(order.deadline, venue.timezone, language), "box_office": box_office(actor, venue),
    }
    return mail.MailRequest(template=template, language=language, recipient=order.buyer.email,
                            concerns_type="order", concerns_id=order.id, sender_name=venue.name,
                            contact_id=order.buyer.contact_id, context=context, idempotency_key=idempotency_key)


def _places(language: str) -> tuple[str, str]:
    return ("place", "places") if language == "fr" else ("seat", "seats")


def box_office(actor: Actor, venue: Venue) -> str:
    """How to reach the box office: its phone (the organisation's profile) and the venue's address."""
    profile = find_profile(actor.tenant_id)
    parts = [profile.invoice_phone] if profile is not None and profile.invoice_phone else []
    parts += [part for part in (venue.name, venue.address, venue.city) if part]
    return ", ".join(parts)
