"""Reading subscriptions: one with its instalments, and the lists staff follow them by (a
product's, a payer's; either narrowed to a state).

Both lists are one Query a page of a keys-only index (``subscriptions_by_product``,
``subscriptions_by_payer``, newest first) and one batch read of the page's subscriptions; a
state narrows the page after reading, so a page may hold fewer than asked, with a cursor
to go on.
"""
from __future__ import annotations

from chalicelib.errors import FieldError, InvalidInput
from chalicelib.models.base import tenant_key
from chalicelib.models.catalog import Product
from chalicelib.models.contacts import Contact
from chalicelib.models.subscriptions import Subscription
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.paging import Page, paged
from chalicelib.services.shared.records import by_ids, get_record, require_reference


def get_subscription(actor: Actor, subscription_id: str) -> Subscription:
    return get_record(actor, Subscription, subscription_id)


def list_subscriptions(actor: Actor, *, product_id: str | None, payer_id: str | None, state: str | None,
                       limit: int, cursor: str | None) -> Page[Subscription]:
    """A product's or a payer's subscriptions, newest first (422 unless exactly one is named)."""
    if (product_id is None) == (payer_id is None):
        raise InvalidInput("Name a product or a payer.",
                           errors=[FieldError("product_id", "give product_id or payer_id, one of them")])
    if product_id is not None:
        require_reference(actor, Product, product_id, "product_id")
        index, key = Subscription.by_product, tenant_key(actor.tenant_id, product_id)
    else:
        require_reference(actor, Contact, payer_id, "payer_id")
        index, key = Subscription.by_payer, tenant_key(actor.tenant_id, payer_id)
    page = paged(f"{index.Meta.index_name}:{key}", cursor, lambda start: index.query(
        key, scan_index_forward=False, limit=limit, last_evaluated_key=start))
    found = by_ids(actor, Subscription, [entry.id for entry in page.items])
    items = [found[entry.id] for entry in page.items if entry.id in found]
    return Page(items=[item for item in items if state is None or item.state == state], next_cursor=page.next_cursor)
