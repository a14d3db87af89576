"""A small catalog to sell from, built through the services: a venue in Lyon, a show with two
performances, two tariffs, a quota per performance, a few seats."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone

from chalicelib.services.catalog import catalog


@dataclass
class World:
    venue: object
    show: object
    other_show: object
    evening: object
    matinee: object
    full_price: object
    reduced: object
    other_tariff: object
    evening_quota: object
    matinee_quota: object
    other_performance: object
    other_quota: object
    seats: list


def build_world(actor, *, capacity: int = 100) -> World:
    venue = catalog.venues.create(actor, {"name": "Théâtre des Célestins", "city": "Lyon"})
    season = catalog.seasons.create(actor, {"name": "2026-2027", "starts_on": date(2026, 9, 1),
                                           "ends_on": date(2027, 6, 30)})
    family = catalog.product_families.create(actor, {"name": "Théâtre"})
    show = catalog.products.create(actor, {"kind": "show", "name": "Cyrano", "family_id": family.id,
                                          "season_id": season.id})
    other_show = catalog.products.create(actor, {"kind": "show", "name": "Tartuffe", "family_id": family.id,
                                                "season_id": season.id})
    evening = catalog.create_performance(actor, {"product_id": show.id, "venue_id": venue.id,
                                                 "starts_at": datetime(2026, 12, 12, 19, 30, tzinfo=timezone.utc)})
    matinee = catalog.create_performance(actor, {"product_id": show.id, "venue_id": venue.id,
                                                 "starts_at": datetime(2026, 12, 13, 14, 0, tzinfo=timezone.utc)})
    other_performance = catalog.create_performance(actor, {"product_id": other_show.id, "venue_id": venue.id,
                                                           "starts_at": datetime(2027, 1, 9, 19, 0, tzinfo=timezone.utc)})
    full_price = catalog.tariffs.create(actor, {"product_id": show.id, "name": "Plein tarif", "price_cents": 3200})
    reduced = catalog.tariffs.create(actor, {"product_id": show.id, "name": "Tarif réduit", "price_cents": 2100})
    other_tariff = catalog.tariffs.create(actor, {"product_id": other_show.id, "name": "Plein tarif",
                                                 "price_cents": 2800})
    quotas = [catalog.quotas.create(actor, {"performance_id": performance.id, "name": "Tout public",
                                           "capacity": capacity})
              for performance in (evening, matinee, other_performance)]
    seats = [catalog.create_seat(actor, {"venue_id": venue.id, "block": "Orchestre", "row": "A", "number": str(n)})
             for n in range(1, 4)]
    return World(venue, show, other_show, evening, matinee, full_price, reduced, other_tariff, quotas[0], quotas[1],
                 other_performance, quotas[2], seats)


def line(world: World, tariff=None, performance=None, quota=None, **extra) -> dict:
    performance = performance or world.evening
    quota = quota or {world.evening.id: world.evening_quota, world.matinee.id: world.matinee_quota,
                      world.other_performance.id: world.other_quota}[performance.id]
    return {"performance_id": performance.id, "tariff_id": (tariff or world.full_price).id, "quota_id": quota.id,
            **extra}


def draft(world: World, *lines: dict, buyer: dict | None = None, **fields) -> dict:
    return {"kind": "sale", "payment_type": "cash",
            "buyer": buyer or {"first_name": "Élodie", "last_name": "Lefèvre", "email": "elodie@exemple.fr"},
            "lines": list(lines) or [line(world)], **fields}
