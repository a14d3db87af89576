"""Reading subscriptions: one with its instalments, the lists staff follow them by (a
product's, a season's, a payer's; each narrowed to a state if asked), and the instalments the
collector owes on a day.

Each list is one Query a page of a keys-only index (``subscriptions_by_product``,
``subscriptions_by_season``, ``subscriptions_by_payer``, newest first) and one batch read of
the page's subscriptions; a state narrows the page after reading, so a page may hold fewer than
asked, with a cursor to go on. A day's instalments are the collector's due entries of the
venue for that day (one Query a page), with each instalment as its subscription records it.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from chalicelib.errors import FieldError, InvalidInput
from chalicelib.models.base import starting_with, tenant_key
from chalicelib.models.catalog import Product, Season
from chalicelib.models.contacts import Contact
from chalicelib.models.subscriptions import InstalmentDue, Subscription
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.paging import DEFAULT_PAGE_SIZE, Page, paged
from chalicelib.services.shared.records import by_ids, get_record, require_reference


def get_subscription(actor: Actor, subscription_id: str) -> Subscription:
    return get_record(actor, Subscription, subscription_id)


def list_subscriptions(actor: Actor, *, product_id: str | None, payer_id: str | None, state: str | None,
                       limit: int, cursor: str | None, season_id: str | None = None) -> Page[Subscription]:
    """A product's, a season's or a payer's subscriptions, newest first (422 unless exactly one
    is named)."""
    named = [name for name, value in (("product_id", product_id), ("season_id", season_id), ("payer_id", payer_id))
             if value is not None]
    if len(named) != 1:
        raise InvalidInput("Name a product, a season or a payer: one of them.",
                           errors=[FieldError(named[1] if len(named) > 1 else "product_id",
                                              "give one of product_id, season_id, payer_id")])
    if product_id is not None:
        require_reference(actor, Product, product_id, "product_id")
        index, key = Subscription.by_product, tenant_key(actor.tenant_id, product_id)
    elif season_id is not None:
        require_reference(actor, Season, season_id, "season_id")
        index, key = Subscription.by_season, tenant_key(actor.tenant_id, season_id)
    else:
        require_reference(actor, Contact, payer_id, "payer_id")
        index, key = Subscription.by_payer, tenant_key(actor.tenant_id, payer_id)
    page = paged(f"{index.Meta.index_name}:{key}", cursor, lambda start: index.query(
        key, scan_index_forward=False, limit=limit, last_evaluated_key=start))
    found = by_ids(actor, Subscription, [entry.id for entry in page.items])
    items = [found[entry.id] for entry in page.items if entry.id in found]
    return Page(items=[item for item in items if state is None or item.state == state], next_cursor=page.next_cursor)


@dataclass
class DueInstalment:
    subscription: Subscription
    number: int
    due_at: datetime

    @property
    def instalment(self) -> dict:
        return self.subscription.instalments[self.number - 1]


def instalments_of_day(actor: Actor, day: date, *, state: str | None, limit: int = DEFAULT_PAGE_SIZE,
                       cursor: str | None = None) -> Page[DueInstalment]:
    """What the collector owes the venue on ``day`` (due, announced or retried that day), a page
    of ``limit`` due entries at a time, each instalment as its subscription records it; in one
    state if asked (``scheduled``, ``processing``, ``failed``, ``awaiting_payer``, ``paid``: the
    page narrowed after reading, so it may hold fewer, with a cursor to go on)."""
    key = day.isoformat()
    page = paged(f"instalments-due:{actor.tenant_id}:{key}", cursor, lambda start: InstalmentDue.query(
        key, starting_with(InstalmentDue.due_key, f"{actor.tenant_id}#"), consistent_read=True, limit=limit,
        last_evaluated_key=start))
    found = by_ids(actor, Subscription, {entry.subscription_id for entry in page.items})
    due = [DueInstalment(found[entry.subscription_id], int(entry.number), entry.due_at)
           for entry in page.items if entry.subscription_id in found]
    return Page(items=[item for item in due if state is None or item.instalment["state"] == state],
                next_cursor=page.next_cursor)


def product_names(actor: Actor, product_ids) -> dict[str, str]:
    """The names of the venue's products among ``product_ids`` (one batch read): how staff
    read the products a run or a subscription names."""
    return {product.id: product.name for product in by_ids(actor, Product, product_ids).values()}


def venue_today() -> date:
    """Today on the venue's clock: the day whose instalments staff see first."""
    from chalicelib.adapters import clock
    from chalicelib.config import settings
    from chalicelib.values.local_time import local_day

    return local_day(clock.now(), settings.default_timezone)


def people_names(actor: Actor, contact_ids) -> dict[str, str]:
    """The names of the venue's contacts among ``contact_ids`` (one batch read): the payers and
    holders staff read in the subscription lists."""
    return {contact.id: " ".join(part for part in (contact.first_name, contact.last_name) if part)
            for contact in by_ids(actor, Contact, contact_ids).values()}
