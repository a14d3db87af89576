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
French and English strings; rendered with autoescape on and undefined values raising, so a
missing fact fails loudly rather than printing blank. Jinja is imported on first use only
(importing the app stays cheap); the environment is built once per process.

**Facts.** Catalog facts (show name, performance time, venue) are read when the document is
printed, except for the invoice, whose content is frozen when it is first issued
(:mod:`chalicelib.services.documents.invoices`). Times are shown on the venue's clock.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any

from chalicelib.config import TEMPLATES_DIR, settings
from chalicelib.errors import NotFound, Unexpected
from chalicelib.models.base import tenant_key
from chalicelib.models.catalog import Performance, Product, Venue
from chalicelib.models.orders import Order, Ticket
from chalicelib.models.organisation import Organisation
from chalicelib.services.catalog import organisation
from chalicelib.services.documents import invoices
from chalicelib.services.documents.checkin import checkin_value
from chalicelib.services.orders.orders import get_order, tickets_of
from chalicelib.services.orders.status import require_action
from chalicelib.services.shared.actors import Actor
from chalicelib.values import formatting
from chalicelib.values.french_ids import spaced_siret

TEMPLATE_DIR = TEMPLATES_DIR / "documents"
# A document can load or send nothing, whatever a buyer typed into a name (inline styles and
# data: images only), and no other site may frame it.
DOCUMENT_HEADERS = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; "
                               "base-uri 'none'; form-action 'none'",
    "X-Frame-Options": "DENY",  # no other site frames a ticket (clickjacking), for browsers without CSP 3
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store, private",
}
LANGUAGES = ("fr", "en")
INVOICE_PREFIX = "F-"
MAX_POSITION = 1000


class DocumentError(Unexpected):
    """A document template could not be rendered (a bug: a fact missing from its context)."""

    title = "A document could not be written"


# --- language and formatting ------------------------------------------------------------------


def document_language(order: Order, requested: str | None = None) -> str:
    """``requested`` if given, else the buyer's language; French unless it is English."""
    wanted = (requested or (order.buyer.language if order.buyer else None) or "fr").lower()
    return "en" if wanted.startswith("en") else "fr"


def rate_text(rate_bp: int | None, language: str = "fr") -> str:
    """A VAT rate in basis points as text: ``550`` -> ``"5,5 %"`` (fr), ``"5.5%"`` (en)."""
    if rate_bp is None:
        return "—"
    whole, rest = divmod(int(rate_bp), 100)
    number = str(whole) if not rest else f"{whole}.{rest:02d}".rstrip("0")
    if language == "en":
        return f"{number}%"
    return number.replace(".", ",") + formatting.NBSP + "%"


def invoice_reference(number: int) -> str:
    return f"{INVOICE_PREFIX}{int(number):06d}"


def _parse_time(value: Any) -> Any:
    """ISO strings from frozen invoice content back to datetimes (other values untouched)."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def _on_clock(moment: datetime | date, zone: str) -> datetime | date:
    """``moment`` on the clock of ``zone`` (a plain date stays as it is)."""
    if not isinstance(moment, datetime):
        return moment
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(zone))


def _date_text(moment: datetime | date | str | None, zone: str, language: str = "fr") -> str:
    moment = _parse_time(moment)
    return "" if moment is None else formatting.date_text(moment, zone, language)


def _datetime_text(moment: datetime | str | None, zone: str, language: str = "fr") -> str:
    moment = _parse_time(moment)
    return "" if moment is None else formatting.datetime_text(moment, zone, language)


def person_name(person: Any) -> str:
    """``Mme Élodie Lefèvre`` from a buyer (attribute or dict)."""
    values = person.as_dict() if hasattr(person, "as_dict") else dict(person or {})
    return " ".join(part for part in (values.get("title"), values.get("first_name"), values.get("last_name")) if part)


def _address_lines(values: dict[str, Any]) -> list[str]:
    town = " ".join(part for part in (values.get("postcode"), values.get("city")) if part)
    country = values.get("country")
    lines = [values.get("address_line1"), values.get("address_line2"), town]
    if country and country != "FR":
        lines.append(country)
    return [line for line in lines if line]


# --- Jinja ------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    environment = Environment(loader=FileSystemLoader(str(TEMPLATE_DIR)), undefined=StrictUndefined,
                              autoescape=True, trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    environment.filters.update({
        "money": formatting.money,
        "datetime_text": _datetime_text,
        "date_text": _date_text,
        "rate": rate_text,
    })
    return environment


def render_document(name: str, language: str, context: dict[str, Any]) -> str:
    """Render ``templates/documents/<name>.html.j2`` in ``language`` with ``context``."""
    from jinja2 import TemplateError

    try:
        return _environment().get_template(f"{name}.html.j2").render(**context, language=language)
    except TemplateError as error:
        raise DocumentError(f"Document {name} could not be rendered: {error}") from error


def qr_svg(value: str, title: str) -> Any:
    """``value`` as a QR code in inline SVG markup (no image file, no remote resource)."""
    import segno
    from markupsafe import Markup, escape

    code = segno.make(value, error="m", micro=False)
    svg = code.svg_inline(scale=1, omitsize=True, dark="#000", light="#fff", border=4)
    return Markup(svg.replace("<svg ", f'<svg role="img" aria-label="{escape(title)}" ', 1))


# --- catalog facts ----------------------------------------------------------------------------


@dataclass
class PerformanceFacts:
    show: str
    starts_at: datetime | None
    timezone: str
    venue: str
    venue_address: list[str]
    status: str


def _get(model: Any, tenant_id: str, record_id: str | None) -> Any:
    if not record_id:
        return None
    try:
        return model.get(tenant_id, record_id, consistent_read=True)
    except model.DoesNotExist:
        return None


def performance_facts(tenant_id: str, performance_ids: set[str]) -> dict[str, PerformanceFacts]:
    """What documents say about each performance; a catalog record gone since the sale
    leaves its fact blank rather than failing the document."""
    facts: dict[str, PerformanceFacts] = {}
    products: dict[str, Any] = {}
    venues: dict[str, Any] = {}
    for performance_id in sorted(performance_ids):
        performance = _get(Performance, tenant_id, performance_id)
        if performance is None:
            facts[performance_id] = PerformanceFacts("—", None, settings.default_timezone, "", [], "scheduled")
            continue
        if performance.product_id not in products:
            products[performance.product_id] = _get(Product, tenant_id, performance.product_id)
        if performance.venue_id not in venues:
            venues[performance.venue_id] = _get(Venue, tenant_id, performance.venue_id)
        product, venue = products[performance.product_id], venues[performance.venue_id]
        show = product.name if product else "—"
        if performance.label:
            show = f"{show} — {performance.label}"
        facts[performance_id] = PerformanceFacts(
            show=show, starts_at=performance.starts_at,
            timezone=(venue.timezone if venue else None) or settings.default_timezone,
            venue=venue.name if venue else "",
            venue_address=[line for line in ((venue.address if venue else None),
                                             (venue.city if venue else None)) if line],
            status=performance.status)
    return facts


def _order_timezone(tickets: list[Ticket], facts: dict[str, PerformanceFacts]) -> str:
    """The clock the order's dates are shown on: its first ticket's venue's."""
    for ticket in sorted(tickets, key=lambda t: t.position):
        if ticket.performance_id in facts:
            return facts[ticket.performance_id].timezone
    return settings.default_timezone


SELLER_FIELDS = ("legal_name", "trade_name", "legal_form", "address_line1", "address_line2", "postcode", "city",
                 "country", "siret", "vat_number", "vat_regime", "rcs", "show_licences", "invoice_email",
                 "invoice_phone", "invoice_footer")


def _seller_facts(profile: Organisation) -> dict[str, Any]:
    """The profile's fields as plain values (what an invoice freezes)."""
    return {name: getattr(profile, name) for name in SELLER_FIELDS}


def _seller_view(facts: dict[str, Any]) -> dict[str, Any]:
    """Seller facts with what templates print from them: name, address lines, spaced SIRET."""
    return {**facts, "display_name": facts.get("trade_name") or facts["legal_name"],
            "address": _address_lines(facts), "siret_text": spaced_siret(facts["siret"])}


def _seller(profile: Organisation | None) -> dict[str, Any] | None:
    return None if profile is None else _seller_view(_seller_facts(profile))


def _order_context(order: Order) -> dict[str, Any]:
    buyer = order.buyer.as_dict() if order.buyer else {}
    return {
        "number": int(order.number), "created_at": order.created_at, "kind": order.kind, "status": order.status,
        "payment_type": order.payment_type, "paid": bool(order.paid), "paid_at": order.paid_at,
        "promo_code": order.promo_code, "currency": order.currency,
        "tickets_cents": int(order.tickets_cents or 0), "discount_cents": int(order.discount_cents or 0),
        "fees_cents": int(order.fees_cents or 0), "tax_cents": int(order.tax_cents or 0),
        "total_cents": int(order.total_cents or 0), "refunded_cents": int(order.refunded_cents or 0),
        "buyer_name": person_name(buyer), "buyer_email": buyer.get("email"), "buyer_address": _address_lines(buyer),
    }


# --- the documents ----------------------------------------------------------------------------


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
        "order": _order_context(order), "seller": _seller(organisation.find_profile(actor.tenant_id)),
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
        "order": _order_context(order), "seller": _seller(profile), "lines": lines,
        "timezone": _order_timezone(tickets, facts),
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
    seller = _seller_facts(profile)
    buyer = order.buyer.as_dict() if order.buyer else {}
    return {
        "seller": seller, "buyer": buyer, "currency": order.currency,
        "timezone": _order_timezone(tickets, facts), "order_number": int(order.number),
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

    return invoices.issue_invoice(actor, order, content_for, reload=lambda: get_order(actor, order.id))


def invoice_html(actor: Actor, order_id: str, language: str | None = None) -> str:
    """The invoice (facture) with the mentions French law asks for; numbered on first issue."""
    order = get_order(actor, order_id)
    require_action(order.status, "view_invoice")
    invoice = issue_order_invoice(actor, order)
    content = invoice.content
    zone = content["timezone"]
    seller = _seller_view(content["seller"])
    issued_on = _on_clock(invoice.issued_at, zone).date()
    context = {
        **content, "seller": seller, "reference": invoice_reference(invoice.number), "issued_at": invoice.issued_at,
        "due_on": issued_on + timedelta(days=int(content["payment_terms_days"])),
        "buyer_name": person_name(content["buyer"]), "buyer_address": _address_lines(content["buyer"]),
        "franchise": seller["vat_regime"] == "franchise", "order": _order_context(order),
    }
    return render_document("invoice", document_language(order, language), context)
