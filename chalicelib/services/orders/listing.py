"""How staff find orders: the listing entries of an order, and the Queries over them.

Every order has one :class:`OrderListing` entry per facet (see :mod:`chalicelib.models.orders`).
:func:`entries_for` computes them from the order; :func:`listing_changes` says which to write
and which to delete when the order changes, for the same transaction as the order itself.

:func:`find_orders` answers the staff list: one Query on the most selective facet given,
newest first, narrowed by date on the sort key and by the other filters on the entry's own
attributes. Each filter alone costs what the page costs. A combination queries the most
selective facet given (see ``FACET_PRIORITY``) and filters the others: each request then reads
one page of that facet and returns the rows that match, possibly fewer than asked (even none)
with a cursor to go on, so no request's cost grows with the table.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from chalicelib.adapters import ids
from chalicelib.models.base import starting_with, tenant_key
from chalicelib.models.orders import Order, OrderListing
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.paging import Page, paged, paged_by_reads
from chalicelib.values.text import fold, number_in

# Most selective first: the facet queried when several filters are given.
FACET_PRIORITY = ("performance", "tariff", "product", "promo", "payment", "status", "kind")
NO_VALUE = "-"


@dataclass(frozen=True)
class OrderFilters:
    status: str | None = None
    payment_type: str | None = None
    promo_code: str | None = None
    kind: str | None = None
    performance_id: str | None = None
    tariff_id: str | None = None
    product_id: str | None = None
    placed_from: datetime | None = None
    placed_to: datetime | None = None

    def facets(self) -> dict[str, str]:
        given = {"performance": self.performance_id, "tariff": self.tariff_id, "product": self.product_id,
                 "promo": self.promo_code and self.promo_code.upper(), "payment": self.payment_type,
                 "status": self.status, "kind": self.kind}
        return {facet: value for facet, value in given.items() if value}


def stamp(moment: datetime) -> str:
    """A UTC time as sortable text (sort keys of the orders list and of the follow-up)."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def buyer_name(order: Order) -> str:
    return " ".join(part for part in (order.buyer.first_name, order.buyer.last_name) if part)


def _facet_values(order: Order) -> list[tuple[str, str]]:
    values = [("all", NO_VALUE), ("status", order.status), ("payment", order.payment_type), ("kind", order.kind),
              ("number", str(order.number))]
    if order.promo_code:
        values.append(("promo", order.promo_code.upper()))
    if order.buyer.contact_id:  # the customer record's booking history
        values.append(("contact", order.buyer.contact_id))
    for facet, held in (("performance", order.performance_ids), ("tariff", order.tariff_ids),
                        ("product", order.product_ids)):
        values += [(facet, value) for value in sorted(held or ())]
    return values


def entries_for(order: Order) -> list[OrderListing]:
    """Every listing entry of ``order`` as it is now."""
    columns = dict(
        tenant_id=order.tenant_id, order_id=order.id, number=order.number, created_at=order.created_at,
        kind=order.kind, status=order.status, buyer_name=buyer_name(order), buyer_email=order.buyer.email,
        payment_type=order.payment_type, promo_code=order.promo_code, total_cents=order.total_cents,
        currency=order.currency, ticket_count=order.ticket_count, deadline=order.deadline,
        performance_ids=order.performance_ids or None, tariff_ids=order.tariff_ids or None,
        product_ids=order.product_ids or None,
    )
    placed = f"{stamp(order.created_at)}#{order.id}"
    entries = [OrderListing(facet_key=tenant_key(order.tenant_id, facet, value), sort_key=placed, **columns)
               for facet, value in _facet_values(order)]
    last, first = fold(order.buyer.last_name), fold(order.buyer.first_name)
    for name_key in dict.fromkeys((f"{last} {first}".strip(), f"{first} {last}".strip())):  # "Lefèvre" or "Élodie"
        entries.append(OrderListing(facet_key=tenant_key(order.tenant_id, "buyer"),
                                    sort_key=f"{name_key}#{placed}", **columns))
    return entries


def listing_changes(before: Order | None, after: Order) -> tuple[list[OrderListing], list[OrderListing]]:
    """``(to_write, to_delete)``: entries to (re)write, and entries of ``before`` no longer valid."""
    current = entries_for(after)
    if before is None:
        return current, []
    kept = {(entry.facet_key, entry.sort_key) for entry in current}
    stale = [entry for entry in entries_for(before) if (entry.facet_key, entry.sort_key) not in kept]
    return current, stale


def _narrowing(filters: OrderFilters, queried: str | None):
    """The filter expression for every given facet but the one queried."""
    attribute_for = {"performance": ("performance_ids", True), "tariff": ("tariff_ids", True),
                     "product": ("product_ids", True), "promo": ("promo_code", False),
                     "payment": ("payment_type", False), "status": ("status", False), "kind": ("kind", False)}
    condition = None
    for facet, value in filters.facets().items():
        if facet == queried:
            continue
        name, is_set = attribute_for[facet]
        attribute = getattr(OrderListing, name)
        term = attribute.contains(value) if is_set else attribute == value
        condition = term if condition is None else condition & term
    return condition


def _placed_between(filters: OrderFilters):
    low = stamp(filters.placed_from) if filters.placed_from else "0"
    high = (stamp(filters.placed_to) + "#~") if filters.placed_to else "9"
    if not filters.placed_from and not filters.placed_to:
        return None
    return OrderListing.sort_key.between(low, high)


def _check_references(actor: Actor, filters: OrderFilters) -> None:
    """A filter naming a performance, tariff or product the tenant does not have is a 422, as
    in every listing (the same answer for another tenant's ids as for made-up ones)."""
    from chalicelib.models.catalog import Performance, Product, Tariff
    from chalicelib.services.shared.records import require_reference

    for model, value, field in ((Performance, filters.performance_id, "performance_id"),
                                (Tariff, filters.tariff_id, "tariff_id"), (Product, filters.product_id, "product_id")):
        if value:
            require_reference(actor, model, value, field)


def find_orders(actor: Actor, filters: OrderFilters, *, limit: int, cursor: str | None) -> Page[OrderListing]:
    """One page of the tenant's orders matching ``filters``, newest first."""
    _check_references(actor, filters)
    given = filters.facets()
    facet = next((name for name in FACET_PRIORITY if name in given), None)
    key = tenant_key(actor.tenant_id, facet, given[facet]) if facet else tenant_key(actor.tenant_id, "all", NO_VALUE)
    range_condition = _placed_between(filters)
    narrowing = _narrowing(filters, facet)
    scope = f"orders:{key}:{range_condition}:{narrowing}"

    def query(start):
        return OrderListing.query(key, range_condition, filter_condition=narrowing, scan_index_forward=False,
                                  limit=limit, last_evaluated_key=start)

    if narrowing is None:
        return paged(scope, cursor, query)
    return paged_by_reads(scope, cursor, query, OrderListing)  # a combination: cost bounded per request


def _number_of(actor: Actor, order_id: str) -> int:
    from chalicelib.models.orders import Order

    try:
        return int(Order.get(actor.tenant_id, order_id).number)
    except Order.DoesNotExist:
        return 0  # no order 0: finds nothing


def search_orders(actor: Actor, text: str, *, limit: int, cursor: str | None) -> Page[OrderListing]:
    """Orders by number (all digits), by id, or by buyer name prefix, first or last name first
    (accents and case ignored)."""
    text = text.strip()
    number = number_in(text)
    if number is None and ids.is_id(text.upper()):  # an order's id, copied from a link or a log
        number = _number_of(actor, text.upper())
    if number is not None:
        key = tenant_key(actor.tenant_id, "number", str(number))
        return paged(f"orders-number:{key}", cursor, lambda start: OrderListing.query(
            key, limit=limit, last_evaluated_key=start))
    prefix = fold(text)
    key = tenant_key(actor.tenant_id, "buyer")
    page = paged(f"orders-buyer:{key}:{prefix}", cursor, lambda start: OrderListing.query(
        key, starting_with(OrderListing.sort_key, prefix), limit=limit, last_evaluated_key=start))
    # "Marie Martin" has two name entries that "mar" both matches: show her order once per page.
    unique = {entry.order_id: entry for entry in reversed(page.items)}
    return Page(items=[entry for entry in page.items if unique.get(entry.order_id) is entry], next_cursor=page.next_cursor)
