"""Listing the venue's older orders under their buyer's customer record: orders placed before the
booking history existed have no ``contact`` listing entry. A job walks every order (the list's
``all`` entries) and, for each whose buyer has a record and no such entry, writes it in a
transaction conditioned on the order's version: an order changed meanwhile was listed by that
change. Running it twice writes nothing more."""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.models.base import connection, tenant_key
from chalicelib.models.orders import Order, OrderListing
from chalicelib.services.jobs.framework import ChunkBudget, ChunkResult, job_kind, start_job, walk_pages
from chalicelib.services.orders.listing import NO_VALUE, entries_for
from chalicelib.services.shared.actors import Actor

RELIST = "orders.list_by_contact"
PAGE = 100


def start_relisting(actor: Actor):
    return start_job(actor, RELIST, {})


@job_kind(RELIST, max_items=20)
def relist_chunk(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    """A page of the venue's orders per item of the budget."""
    outcomes: list[bool] = []
    following = walk_pages(budget, cursor, lambda start: OrderListing.query(
        tenant_key(actor.tenant_id, "all", NO_VALUE), limit=PAGE, last_evaluated_key=start),
        lambda page: outcomes.extend(_list_under_contact(actor, entry.order_id) for entry in page))
    return ChunkResult(cursor=following, done=outcomes.count(True), skipped=outcomes.count(False))


def _list_under_contact(actor: Actor, order_id: str) -> bool:
    try:
        order = Order.get(actor.tenant_id, order_id, consistent_read=True)
    except DoesNotExist:
        return False
    if not order.buyer.contact_id:
        return False
    [entry] = [entry for entry in entries_for(order) if entry.facet_key == tenant_key(
        actor.tenant_id, "contact", order.buyer.contact_id)]
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.condition_check(Order, actor.tenant_id, order.id, condition=Order.version == order.version)
            transaction.save(entry, condition=OrderListing.facet_key.does_not_exist())
        return True
    except TransactWriteError:
        return False  # already listed, or the order changed meanwhile (its change listed it)
