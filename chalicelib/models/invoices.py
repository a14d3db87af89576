"""Issued invoices, frozen as issued.

A French invoice may not change once issued: a later edit of the buyer, of the organisation
profile or of the catalog must not rewrite it. So the first issue of an order's invoice stores
what it says (seller, buyer, lines, totals per VAT rate) in an :class:`Invoice` item, keyed
by tenant and invoice number, which also makes a duplicated number impossible (the item is
written only if absent). Payment facts (paid or not, when) are read from the order at each
printing: an invoice printed after payment says it was paid ("facture acquittée").
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.models import Model

from chalicelib.models.base import table_meta


class Invoice(Model):
    Meta = table_meta("invoices")

    tenant_id = UnicodeAttribute(hash_key=True)
    number = NumberAttribute(range_key=True)
    order_id = UnicodeAttribute()
    issued_at = UTCDateTimeAttribute()
    issued_by = UnicodeAttribute()
    content = JSONAttribute()
