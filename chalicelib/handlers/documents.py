"""Printable order documents (staff): a ticket per attendee, the receipt, the invoice, the credit notes.

Each answers a self-contained HTML page (``text/html; charset=utf-8``) under a Content
Security Policy that allows nothing but inline styles and ``data:`` images: the page cannot
load or send anything, whatever a buyer typed into a name.
"""
from __future__ import annotations

from chalice import Blueprint, Response

from chalicelib.handlers.http import staff_route

bp = Blueprint(__name__)
TAG = "documents"

def html_document(body: str) -> Response:
    from chalicelib.services.documents.rendering import DOCUMENT_HEADERS

    return Response(body=body, status_code=200, headers=dict(DOCUMENT_HEADERS))


@staff_route(bp, "/orders/{order_id}/tickets/{position}", query="documents:DocumentQuery", produces="text/html", answers=(409,),
             summary="Printable ticket (HTML) of the attendee at this position (1, 2...), with its check-in "
                     "QR code; 409 if the order's status does not allow viewing tickets", tag=TAG)
def ticket_document(actor, order_id, position, query):
    from chalicelib.services.documents import documents

    return html_document(documents.ticket_html(actor, order_id, position, query.lang))


@staff_route(bp, "/orders/{order_id}/receipt", query="documents:DocumentQuery", produces="text/html", answers=(409,),
             summary="Printable receipt (HTML); 409 if the order's status does not allow it (e.g. unpaid)", tag=TAG)
def receipt_document(actor, order_id, query):
    from chalicelib.services.documents import documents

    return html_document(documents.receipt_html(actor, order_id, query.lang))


@staff_route(bp, "/orders/{order_id}/invoice", query="documents:DocumentQuery", produces="text/html", answers=(409,),
             summary="Printable invoice (HTML), numbered in the tenant's gapless sequence on first issue; "
                     "409 without an organisation profile or if the status does not allow it", tag=TAG)
def invoice_document(actor, order_id, query):
    from chalicelib.services.documents import documents

    return html_document(documents.invoice_html(actor, order_id, query.lang))


@staff_route(bp, "/orders/{order_id}/credit-notes", response="documents:CreditNoteOut", many=True,
             summary="The order's credit notes (factures d'avoir), one per refund of the invoiced order, oldest first",
             tag=TAG)
def credit_notes(actor, order_id):
    from chalicelib.services.documents import credit_notes as notes
    from chalicelib.services.shared.paging import Page

    return Page(items=[{**note.attribute_values, "reference": notes.credit_note_reference(note.number)}
                       for note in notes.credit_notes_of_order(actor, order_id)], next_cursor=None)


@staff_route(bp, "/orders/{order_id}/credit-notes/{number}", query="documents:DocumentQuery", produces="text/html", answers=(409,),
             summary="Printable credit note (HTML): what a refund gave back, correcting the order's invoice", tag=TAG)
def credit_note_document(actor, order_id, number, query):
    from chalicelib.services.documents import credit_notes as notes

    return html_document(notes.credit_note_html(actor, order_id, number, query.lang))
