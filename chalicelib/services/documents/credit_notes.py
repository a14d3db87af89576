"""Credit notes (factures d'avoir): a refund of an invoiced order gives back money the invoice
charged, and French invoicing law asks for a document correcting that invoice.

**When.** A refund of an invoiced order issues its credit note when it succeeds (card: Stripe
confirmed it; offline: staff marked it paid), once. A refund that succeeded before the order
was invoiced gets its credit note when the invoice is issued. A refund of money captured for
no ticket (``unclaimed-payment``) gave back nothing the invoice charged: it has none.

**What.** Its own gapless number series per tenant (``AV-000001``; the same one-transaction
numbering as invoices, :func:`~chalicelib.services.documents.invoices.issue_numbered`), the
reference and date of the invoice it corrects, the seller and the buyer as invoiced, one line
per performance and tariff refunded with the amount given back (VAT included, the ticket's
rate), VAT per rate and totals, and the mentions of an invoice. It is frozen at issue like an
invoice. A claim on the refund, written in the same transaction, makes a second credit note for
the same refund impossible, however many processes try at once.
"""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.errors import ConcurrentChange, NotFound
from chalicelib.models.base import tenant_key
from chalicelib.models.invoices import CreditNote, Invoice
from chalicelib.models.money import Refund
from chalicelib.models.orders import Order, Ticket
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.observability import logger
from chalicelib.services.catalog import organisation
from chalicelib.services.documents import invoices
from chalicelib.services.documents.rendering import (
    address_lines,
    document_language,
    invoice_reference,
    order_context,
    parse_time,
    performance_facts,
    person_name,
    render_document,
    seller_facts,
    seller_view,
)
from chalicelib.services.orders.orders import get_order, tickets_of
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event
from chalicelib.values.text import number_in

SEQUENCE = "credit_notes"
PREFIX = "AV-"


def credit_note_reference(number: int) -> str:
    return f"{PREFIX}{int(number):06d}"


def _claim_key(tenant_id: str, refund_id: str) -> str:
    return tenant_key(tenant_id, "credit-note", "refund", refund_id)


def credit_note_of(tenant_id: str, refund_id: str) -> CreditNote | None:
    """The credit note issued for this refund, if any."""
    try:
        claim = UniqueKey.get(_claim_key(tenant_id, refund_id), consistent_read=True)
    except DoesNotExist:
        return None
    return CreditNote.get(tenant_id, int(claim.entity_id), consistent_read=True)


def issue_for_refund(actor: Actor, refund: Refund, *, order: Order | None = None) -> CreditNote | None:
    """The refund's credit note: issued now if it is due and not issued yet (see above)."""
    if refund.state != "succeeded" or not refund.lines:
        return None
    order = order or get_order(actor, refund.order_id)
    if order.invoice_number is None:
        return None
    existing = credit_note_of(actor.tenant_id, refund.refund_id)
    if existing is not None:
        return existing
    invoice = invoices.get_invoice(actor.tenant_id, int(order.invoice_number))
    content = credit_note_content(actor, invoice, refund, tickets_of(order))
    for attempt in range(invoices.MAX_ATTEMPTS):
        made: dict[str, CreditNote] = {}

        def write(number, now, transaction):
            made["note"] = CreditNote(
                tenant_id=actor.tenant_id, number=number, order_id=order.id,
                order_key=tenant_key(actor.tenant_id, order.id), refund_id=refund.refund_id,
                invoice_number=invoice.number, amount_cents=int(refund.amount_cents), issued_at=now,
                issued_by=actor.subject, content=content)
            transaction.save(made["note"], condition=CreditNote.number.does_not_exist())
            transaction.save(UniqueKey(key=_claim_key(actor.tenant_id, refund.refund_id), entity_type="credit_note",
                                       entity_id=str(number), label="refund"),
                             condition=UniqueKey.key.does_not_exist())
            transaction.save(audit_event(actor, "order", order.id, "issue-credit-note", None, {
                "credit_note_number": number, "refund_id": refund.refund_id, "invoice_number": invoice.number,
                "amount_cents": int(refund.amount_cents)}))

        try:
            invoices.issue_numbered(actor, SEQUENCE, write)
            return made["note"]
        except invoices.NumberTaken:
            existing = credit_note_of(actor.tenant_id, refund.refund_id)
            if existing is not None:  # a concurrent issue of this very credit note won
                return existing
            invoices.backoff(attempt)
    raise ConcurrentChange("Many credit notes are being issued at this moment; please retry.")


def issue_due(actor: Actor, order: Order) -> list[CreditNote]:
    """The credit notes of every succeeded refund of an invoiced order (issued where missing)."""
    if order.invoice_number is None:
        return []
    refunds = Refund.query(tenant_key(actor.tenant_id, order.id), consistent_read=True)
    issued = [issue_for_refund(actor, refund, order=order) for refund in refunds]
    return sorted((note for note in issued if note is not None), key=lambda note: note.number)


def issue_for_refund_quietly(actor: Actor, refund: Refund) -> None:
    """Issue the refund's credit note now; a problem is logged (the next view of the order's
    credit notes issues it), never raised into the refund's own path."""
    try:
        issue_for_refund(actor, refund)
    except Exception:  # noqa: BLE001 - the money moved either way; the document follows
        logger.exception("credit note not issued yet", extra={"refund_id": refund.refund_id})


def credit_note_content(actor: Actor, invoice: Invoice, refund: Refund, tickets: list[Ticket]) -> dict[str, Any]:
    """What the credit note says, frozen at issue: the refunded amounts as lines, VAT per rate."""
    profile = organisation.find_profile(actor.tenant_id)
    seller = seller_facts(profile) if profile is not None else invoice.content["seller"]
    by_position = {int(ticket.position): ticket for ticket in tickets}
    given_back = [_as_given_back(by_position[int(line.position)], int(line.amount_cents)) for line in refund.lines]
    figures = invoices.invoice_figures(given_back, discount_cents=0, fees_cents=0,
                                       franchise=seller.get("vat_regime") == "franchise")
    facts = performance_facts(actor.tenant_id, {ticket.performance_id for ticket in given_back})
    for line in figures["lines"]:
        fact = facts[line["performance_id"]]
        line.update(show=fact.show, venue=fact.venue, timezone=fact.timezone,
                    starts_at=fact.starts_at.isoformat() if fact.starts_at else None)
    return {
        "seller": seller, "buyer": invoice.content["buyer"], "currency": refund.currency,
        "timezone": invoice.content["timezone"], "order_number": int(refund.order_number),
        "invoice_number": int(invoice.number), "invoice_issued_at": invoice.issued_at.isoformat(),
        "refund_means": refund.means, "refund_id": refund.refund_id, **figures,
    }


def _as_given_back(ticket: Ticket, amount_cents: int) -> Ticket:
    """The ticket as the credit note counts it: priced at what went back."""
    copy = Ticket()
    copy.deserialize(ticket.serialize())
    copy.price_cents = amount_cents
    return copy


def credit_notes_of_order(actor: Actor, order_id: str) -> list[CreditNote]:
    """The order's credit notes, oldest first (those due and missing are issued first)."""
    return issue_due(actor, get_order(actor, order_id))


def credit_note_html(actor: Actor, order_id: str, number: str | int, language: str | None = None) -> str:
    """A credit note as printed: the mentions of an invoice, the invoice it corrects."""
    order = get_order(actor, order_id)
    issue_due(actor, order)
    wanted = number_in(str(number), max_digits=9)
    if wanted is None:
        raise NotFound(f"No credit note {number} for this order.")
    try:
        note = CreditNote.get(actor.tenant_id, wanted, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"No credit note {number} for this order.") from None
    if note.order_id != order.id:
        raise NotFound(f"No credit note {number} for this order.")
    content = note.content
    context = {
        **content, "seller": seller_view(content["seller"]), "reference": credit_note_reference(note.number),
        "issued_at": note.issued_at, "invoice_reference": invoice_reference(content["invoice_number"]),
        "invoice_issued_at": parse_time(content["invoice_issued_at"]),
        "buyer_name": person_name(content["buyer"]), "buyer_address": address_lines(content["buyer"]),
        "franchise": content["seller"].get("vat_regime") == "franchise", "order": order_context(order),
    }
    return render_document("credit_note", document_language(order, language), context)
