"""Which orders a bulk action acts on: the orders staff selected, or "all matching" the list's
filters (no limit). Shared by the jobs over orders (:mod:`~chalicelib.services.orders.bulk`, :mod:`~chalicelib.services.orders.export`).

A selection is kept in the job's params as JSON: ``{"order_ids": [...]}`` (deduplicated, in the
order given) or ``{"filters": {...}}`` (the filters given, datetimes as ISO strings).
:func:`selection_params` checks a request and builds them; :func:`filters_of` reads the
filters back for :func:`order_listing.find_orders`.
"""
from __future__ import annotations

from datetime import datetime

from chalicelib.errors import FieldError, InvalidInput
from chalicelib.services.orders import listing as order_listing
from chalicelib.services.shared.actors import Actor

FILTER_FIELDS = ("status", "payment_type", "promo_code", "kind", "performance_id", "tariff_id", "product_id",
                 "placed_from", "placed_to")
DATETIME_FIELDS = ("placed_from", "placed_to")
# Selected ids live in the job's params, which the jobs framework limits to 16 000 characters
# of JSON (MAX_STATE_CHARS): 500 ids of 30 characters each leave room for the rest. Beyond
# that, staff select "all matching" with filters.
MAX_SELECTED = 500


def selection_params(actor: Actor, *, order_ids: list[str] | None, filters: dict | None) -> dict:
    """The job params for ``order_ids``, or for all orders matching ``filters``: a 422 unless
    exactly one is given, for too many ids, or for filters naming what the tenant lacks."""
    if bool(order_ids) == (filters is not None):
        raise InvalidInput("Give either the selected orders or the filters of 'all matching'.",
                           errors=[FieldError("order_ids", "either order_ids or filters")])
    if filters is not None:
        order_listing.find_orders(actor, filters_of(filters), limit=1, cursor=None)  # 422 on unknown references
        return {"filters": {name: value.isoformat() if isinstance(value, datetime) else value
                            for name, value in filters.items() if value is not None}}
    unique = list(dict.fromkeys(order_ids))
    if len(unique) > MAX_SELECTED:
        raise InvalidInput(f"At most {MAX_SELECTED} selected orders; use the filters for more.",
                           errors=[FieldError("order_ids", f"at most {MAX_SELECTED} orders")])
    return {"order_ids": unique}


def filters_of(raw: dict) -> order_listing.OrderFilters:
    """The filters of a selection (as given to :func:`selection_params` or as kept in params)."""
    values = {name: raw.get(name) for name in FILTER_FIELDS}
    for name in DATETIME_FIELDS:
        if isinstance(values[name], str):
            values[name] = datetime.fromisoformat(values[name])
    return order_listing.OrderFilters(**values)
