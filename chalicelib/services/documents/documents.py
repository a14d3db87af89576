"""Printable order documents for staff: a ticket per attendee, the receipt (reçu) and the
invoice (facture), as self-contained HTML pages (A4, inline CSS, inline SVG, no remote
resource), in French or English.

**Language.** The buyer's language (``fr`` if it is not ``en``), unless the request asks for
one (``?lang=en|fr``).

**Who may see what.** Each document follows the order's action matrix
(:mod:`chalicelib.services.orders.status`): ``view_ticket``, ``view_receipt``,
``view_invoice``; a forbidden one answers 409 and writes nothing. Another tenant's order is
not found (404), like an order that does not exist.

**Templates.** ``templates/documents/<name>.html.j2``, one per document, holding their own
French and English strings, rendered by :mod:`chalicelib.services.documents.rendering`.

**Facts.** Catalog facts (show name, performance time, venue) are read when the document is
printed, except for the invoice, whose content is frozen when it is first issued
(:mod:`chalicelib.services.documents.invoices`). Times are shown on the venue's clock.
"""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from chalicelib.errors import NotFound
from chalicelib.models.base import tenant_key
from chalicelib.models.orders import Order, Ticket
from chalicelib.models.organisation import Organisation
from chalicelib.services.catalog import organisation
from chalicelib.services.documents import invoices
from chalicelib.services.documents.checkin import checkin_value
from chalicelib.services.documents.rendering import (
    PerformanceFacts,
    address_lines,
    document_language,
    invoice_reference,
    on_clock,
    order_context,
    order_timezone,
    performance_facts,
    person_name,
    qr_svg,
    render_document,
    seller_facts,
    seller_of,
    seller_view,
)
from chalicelib.services.orders.orders import get_order, tickets_of
from chalicelib.services.orders.status import require_action
from chalicelib.services.shared.actors import Actor

MAX_POSITION = 1000


def _ticket(order: Order, position: str | int) -> Ticket:
    text = str(position)
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_POSITION:
        raise NotFound(f"No ticket {text!r} in this order.")
    try:
        return Ticket.get(tenant_key(order.tenant_id, order.id), int(text), consistent_read=True)
    except Ticket.DoesNotExist:
        raise NotFound(f"No ticket {text} in this order.") from None


def ticket_html(actor: Actor, order_id: str, position: str | int, language: str | None = None) -> str:
    """The ticket of the attendee at ``position`` (1, 2, ...) of the order, with its QR code.

    The QR code (the signed check-in value) is printed only on a ticket that admits entry:
    valid, of a paid order, for a performance not cancelled; otherwise the ticket says why not.
    """
    return _ticket_document(actor, get_order(actor, order_id), position, language)


def spectator_tickets_html(token: str, position: int, language: str | None) -> str:
    """The spectator's page of the ticket at ``position`` of the order their signed link names
    (the nearest existing position), with links to the order's other tickets.
    :class:`~chalicelib.errors.LinkInvalid` or ``LinkExpired`` for a bad link; ``NotFound`` or
    ``Conflict`` when the order has no ticket to show."""
    from chalicelib.services.orders.ticket_links import open_link

    tenant_id, order_id = open_link(token)
    actor = Actor.system(tenant_id, "spectator")
    order = get_order(actor, order_id)
    count = int(order.ticket_count)
    position = min(max(position, 1), count)
    label = "Billet" if document_language(order, language) == "fr" else "Ticket"
    nav = [{"url": f"?n={n}" + (f"&lang={language}" if language else ""), "label": f"{label} {n}/{count}",
            "current": n == position} for n in range(1, count + 1)] if count > 1 else []
    return _ticket_document(actor, order, position, language, nav=nav)


def _ticket_document(actor: Actor, order: Order, position: str | int, language: str | None,
                     nav: list[dict] | None = None) -> str:
    require_action(order.status, "view_ticket")
    ticket = _ticket(order, position)
    language = document_language(order, language)
    facts = performance_facts(actor.tenant_id, {ticket.performance_id})[ticket.performance_id]
    admits = ticket.state == "valid" and bool(order.paid) and facts.status != "cancelled"
    value = checkin_value(ticket) if admits else None
    title = "QR code du billet" if language == "fr" else "Ticket QR code"
    context = {
        "order": order_context(order), "seller": seller_of(organisation.find_profile(actor.tenant_id)),
        "performance": facts, "ticket": {
            "position": int(ticket.position), "count": int(order.ticket_count or 0),
            "tariff": ticket.tariff_name, "price_cents": int(ticket.price_cents), "seat": ticket.seat_label,
            "attendee": ticket.attendee_name or person_name(order.buyer), "state": ticket.state,
        },
        "admits": admits, "checkin_value": value, "qr": qr_svg(value, title) if value else None,
        "nav": nav or [],
    }
    return render_document("ticket", language, context)


def receipt_html(actor: Actor, order_id: str, language: str | None = None) -> str:
    """The receipt (reçu): what was bought, discounted, paid and refunded, and how it was paid."""
    order = get_order(actor, order_id)
    require_action(order.status, "view_receipt")
    tickets = sorted(tickets_of(order), key=lambda t: t.position)
    facts = performance_facts(actor.tenant_id, {t.performance_id for t in tickets})
    profile = organisation.find_profile(actor.tenant_id)
    lines = [{"position": int(t.position), "show": facts[t.performance_id].show,
              "starts_at": facts[t.performance_id].starts_at, "timezone": facts[t.performance_id].timezone,
              "tariff": t.tariff_name, "seat": t.seat_label, "attendee": t.attendee_name, "state": t.state,
              "price_cents": int(t.price_cents)} for t in tickets]
    context = {
        "order": order_context(order), "seller": seller_of(profile), "lines": lines,
        "timezone": order_timezone(tickets, facts),
        "franchise": profile is not None and profile.vat_regime == "franchise",
        "net_cents": int(order.total_cents or 0) - int(order.refunded_cents or 0),
    }
    return render_document("receipt", document_language(order, language), context)


def invoice_content(order: Order, tickets: list[Ticket], profile: Organisation,
                    facts: dict[str, PerformanceFacts]) -> dict[str, Any]:
    """What an invoice says, as JSON values, frozen when it is issued."""
    figures = invoices.invoice_figures(tickets, discount_cents=int(order.discount_cents or 0),
                                       fees_cents=int(order.fees_cents or 0),
                                       franchise=profile.vat_regime == "franchise")
    for line in figures["lines"]:
        if line["kind"] == "tickets":
            fact = facts[line["performance_id"]]
            line.update(show=fact.show, venue=fact.venue, timezone=fact.timezone,
                        starts_at=fact.starts_at.isoformat() if fact.starts_at else None)
    seller = seller_facts(profile)
    buyer = order.buyer.as_dict() if order.buyer else {}
    return {
        "seller": seller, "buyer": buyer, "currency": order.currency,
        "timezone": order_timezone(tickets, facts), "order_number": int(order.number),
        "order_date": order.created_at.isoformat(), "promo_code": order.promo_code,
        "payment_terms_days": int(profile.payment_terms_days or 0), **figures,
    }


def issue_order_invoice(actor: Actor, order: Order) -> invoices.Invoice:
    """The order's invoice, issued now with the next number if it has none (see
    :func:`chalicelib.services.documents.invoices.issue_invoice`); 409 without an organisation profile."""
    if order.invoice_number is not None:
        return invoices.get_invoice(actor.tenant_id, int(order.invoice_number))
    profile = organisation.require_profile(actor, "an invoice")

    def content_for(current: Order) -> dict[str, Any]:
        tickets = tickets_of(current)
        return invoice_content(current, tickets, profile,
                               performance_facts(actor.tenant_id, {t.performance_id for t in tickets}))

    invoice = invoices.issue_invoice(actor, order, content_for, reload=lambda: get_order(actor, order.id))
    from chalicelib.services.documents import credit_notes

    credit_notes.issue_due(actor, order)  # refunds made before the invoice correct it too
    return invoice


def invoice_html(actor: Actor, order_id: str, language: str | None = None) -> str:
    """The invoice (facture) with the mentions French law asks for; numbered on first issue."""
    order = get_order(actor, order_id)
    require_action(order.status, "view_invoice")
    invoice = issue_order_invoice(actor, order)
    content = invoice.content
    zone = content["timezone"]
    seller = seller_view(content["seller"])
    issued_on = on_clock(invoice.issued_at, zone).date()
    context = {
        **content, "seller": seller, "reference": invoice_reference(invoice.number), "issued_at": invoice.issued_at,
        "due_on": issued_on + timedelta(days=int(content["payment_terms_days"])),
        "buyer_name": person_name(content["buyer"]), "buyer_address": address_lines(content["buyer"]),
        "franchise": seller["vat_regime"] == "franchise", "order": order_context(order),
        "b2b": is_business(content["buyer"]),
    }
    return render_document("invoice", document_language(order, language), context)


def is_business(buyer: dict[str, Any]) -> bool:
    """A buyer who gave a company (name, SIRET or VAT number): a B2B sale."""
    return any(buyer.get(name) for name in ("company_name", "company_siret", "company_vat_number"))
