"""Issued invoices, frozen as issued.

A French invoice may not change once issued: a later edit of the buyer, of the organisation
profile or of the catalog must not rewrite it. So the first issue of an order's invoice stores
what it says (seller, buyer, lines, totals per VAT rate) in an :class:`Invoice` item, keyed
by tenant and invoice number, which also makes a duplicated number impossible (the item is
written only if absent). Payment facts (paid or not, when) are read from the order at each
printing: an invoice printed after payment says it was paid ("facture acquittée").

A refund of an invoiced order issues a :class:`CreditNote` (facture d'avoir), frozen the same
way, in its own gapless series; ``credit_notes_by_order`` lists an order's credit notes.
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection
from pynamodb.models import Model

from chalicelib.models.base import index_meta, table_meta


class Invoice(Model):
    Meta = table_meta("invoices")

    tenant_id = UnicodeAttribute(hash_key=True)
    number = NumberAttribute(range_key=True)
    order_id = UnicodeAttribute()
    issued_at = UTCDateTimeAttribute()
    issued_by = UnicodeAttribute()
    content = JSONAttribute()


class CreditNotesByOrder(GlobalSecondaryIndex):
    Meta = index_meta("credit_notes_by_order", KeysOnlyProjection())

    order_key = UnicodeAttribute(hash_key=True)
    number = NumberAttribute(range_key=True)


class CreditNote(Model):
    """A credit note (facture d'avoir): what a refund gave back of an invoiced order, numbered in
    the tenant's own gapless series, referring to the invoice it corrects, frozen at issue."""

    Meta = table_meta("credit_notes")

    tenant_id = UnicodeAttribute(hash_key=True)
    number = NumberAttribute(range_key=True)
    order_id = UnicodeAttribute()
    order_key = UnicodeAttribute()
    refund_id = UnicodeAttribute()
    invoice_number = NumberAttribute()
    amount_cents = NumberAttribute()
    issued_at = UTCDateTimeAttribute()
    issued_by = UnicodeAttribute()
    content = JSONAttribute()

    by_order = CreditNotesByOrder()
