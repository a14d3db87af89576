"""What every printed document shares: the Jinja environment over ``templates/documents``, the
headers a document is sent with, and the facts documents print (the seller, the buyer, a
performance on its venue's clock), each built one way for the ticket, the receipt, the
invoice and the credit note.

Templates are rendered with autoescape on and undefined values raising, so a missing fact
fails loudly rather than printing blank. Jinja is imported on first use only (importing the
app stays cheap); the environment is built once per process.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from chalicelib.config import TEMPLATES_DIR, settings
from chalicelib.errors import Unexpected
from chalicelib.models.catalog import Performance, Product, Venue
from chalicelib.models.orders import Order, Ticket
from chalicelib.models.organisation import Organisation
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


class DocumentError(Unexpected):
    """A document template could not be rendered (a bug: a fact missing from its context)."""

    title = "A document could not be written"
    title_fr = "Un document n'a pas pu être produit"


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


def parse_time(value: Any) -> Any:
    """ISO strings from frozen invoice content back to datetimes (other values untouched)."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def on_clock(moment: datetime | date, zone: str) -> datetime | date:
    """``moment`` on the clock of ``zone`` (a plain date stays as it is)."""
    if not isinstance(moment, datetime):
        return moment
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(zone))


def _date_text(moment: datetime | date | str | None, zone: str, language: str = "fr") -> str:
    moment = parse_time(moment)
    return "" if moment is None else formatting.date_text(moment, zone, language)


def _datetime_text(moment: datetime | str | None, zone: str, language: str = "fr") -> str:
    moment = parse_time(moment)
    return "" if moment is None else formatting.datetime_text(moment, zone, language)


def person_name(person: Any) -> str:
    """``Mme Élodie Lefèvre`` from a buyer (attribute or dict)."""
    values = person.as_dict() if hasattr(person, "as_dict") else dict(person or {})
    return " ".join(part for part in (values.get("title"), values.get("first_name"), values.get("last_name")) if part)


def address_lines(values: dict[str, Any]) -> list[str]:
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


def order_timezone(tickets: list[Ticket], facts: dict[str, PerformanceFacts]) -> str:
    """The clock the order's dates are shown on: its first ticket's venue's."""
    for ticket in sorted(tickets, key=lambda t: t.position):
        if ticket.performance_id in facts:
            return facts[ticket.performance_id].timezone
    return settings.default_timezone


SELLER_FIELDS = ("legal_name", "trade_name", "legal_form", "address_line1", "address_line2", "postcode", "city",
                 "country", "siret", "vat_number", "vat_regime", "rcs", "show_licences", "invoice_email",
                 "invoice_phone", "invoice_footer")


def seller_facts(profile: Organisation) -> dict[str, Any]:
    """The profile's fields as plain values (what an invoice freezes)."""
    return {name: getattr(profile, name) for name in SELLER_FIELDS}


def seller_view(facts: dict[str, Any]) -> dict[str, Any]:
    """Seller facts with what templates print from them: name, address lines, spaced SIRET."""
    return {**facts, "display_name": facts.get("trade_name") or facts["legal_name"],
            "address": address_lines(facts), "siret_text": spaced_siret(facts["siret"])}


def seller_of(profile: Organisation | None) -> dict[str, Any] | None:
    return None if profile is None else seller_view(seller_facts(profile))


def order_context(order: Order) -> dict[str, Any]:
    buyer = order.buyer.as_dict() if order.buyer else {}
    return {
        "number": int(order.number), "created_at": order.created_at, "kind": order.kind, "status": order.status,
        "payment_type": order.payment_type, "paid": bool(order.paid), "paid_at": order.paid_at,
        "promo_code": order.promo_code, "currency": order.currency,
        "tickets_cents": int(order.tickets_cents or 0), "discount_cents": int(order.discount_cents or 0),
        "fees_cents": int(order.fees_cents or 0), "tax_cents": int(order.tax_cents or 0),
        "total_cents": int(order.total_cents or 0), "refunded_cents": int(order.refunded_cents or 0),
        "buyer_name": person_name(buyer), "buyer_email": buyer.get("email"), "buyer_address": address_lines(buyer),
    }


# --- the documents ----------------------------------------------------------------------------
