"""Shapes kept twice on purpose, so that services never import schemas: a service's dataclass
and the pydantic model the API reads or answers with. Their fields must agree, or a field
added on one side would silently vanish on the way through."""
from __future__ import annotations

import dataclasses

from chalicelib.schemas.money import QuoteLineOut, RefundQuoteOut
from chalicelib.schemas.orders import OrderFiltersIn
from chalicelib.services.money.quotes import QuoteLine, RefundQuote
from chalicelib.services.orders.listing import OrderFilters


def _fields(dataclass_type) -> set[str]:
    return {field.name for field in dataclasses.fields(dataclass_type)}


def test_a_quote_line_has_the_fields_its_answer_shows():
    assert _fields(QuoteLine) == set(QuoteLineOut.model_fields)


def test_bulk_filters_have_the_fields_of_the_listing_filters():
    assert set(OrderFiltersIn.model_fields) == _fields(OrderFilters)


def test_every_field_of_a_quote_answer_is_read_from_the_quote():
    readable = _fields(RefundQuote) | {name for name, value in vars(RefundQuote).items() if isinstance(value, property)}
    assert set(RefundQuoteOut.model_fields) <= readable
