"""What a subscription product's terms form offers: the performances its terms may group (its
season's shows' performances, not cancelled) with the quotas each could be sold from.

Apart from :mod:`.terms` because it reads the catalog's lists: the functions that only read or
check terms (the instalment collector, the renewal notices) need no access to those tables.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.models.catalog import Performance, Product, Quota
from chalicelib.services.catalog import catalog
from chalicelib.services.shared.actors import Actor

SHOWS_OFFERED = 100  # the season's shows whose performances a terms form offers
PERFORMANCES_PER_SHOW = 60


@dataclass(frozen=True)
class Offerable:
    """A performance a product's terms may group, with its show's name and its quotas."""

    performance: Performance
    show_name: str
    quotas: list[Quota]


def offerable(actor: Actor, product: Product) -> list[Offerable]:
    """The performances ``product``'s terms may group (its season's shows' performances, not
    cancelled), in date order, each with the quotas it could be sold from: what a form offers
    (:func:`set_terms` checks the choice)."""
    shows = [show for show in catalog.products.list(actor, limit=200, cursor=None, season_id=product.season_id).items
             if show.kind == "show"][:SHOWS_OFFERED]
    found = [(performance, show.name) for show in shows
             for performance in catalog.list_performances(actor, product_id=show.id, limit=PERFORMANCES_PER_SHOW,
                                                          cursor=None).items
             if performance.status != "cancelled"]
    return [Offerable(performance, name, catalog.quotas.list(actor, limit=50, cursor=None,
                                                             performance_id=performance.id).items)
            for performance, name in sorted(found, key=lambda pair: pair[0].starts_at)]
