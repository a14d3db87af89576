"""The follow-up list over real tables: one row per order line, every filter alone and with the
others, counts exact whether from the day counters or from reading, paging without cap, and
nothing of another venue."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest

from chalicelib.adapters import clock
from chalicelib.services.catalog import catalog
from chalicelib.services.contacts import contacts
from chalicelib.services.options import listing
from chalicelib.services.orders import cancellations, orders
from chalicelib.services.shared.actors import Actor
from tests.options_helpers import all_lines, filters, hold
from tests.orders_world import build_world, line


@pytest.fixture
def world(actor):
    return build_world(actor, capacity=500)


def test_one_row_per_line_with_its_columns(actor, world):
    channel = catalog.sales_channels.create(actor, {"name": "Guichet", "kind": "box_office"})
    person = contacts.create_contact(actor, {"last_name": "Bosche", "first_name": "Lennart", "contact_type": "occasional"})
    order = hold(actor, world, line(world), line(world), line(world, world.reduced), line(world, performance=world.matinee),
                 channel_id=channel.id, buyer={"contact_id": person.id, "last_name": "Bosche", "first_name": "Lennart",
                                               "email": "lennart@exemple.fr"})
    rows, (count, places, counted_by) = all_lines(actor, filters(world))
    assert (count, places, counted_by) == (3, 4, "counters")
    by_line = {row.line: row for row in rows}
    assert sorted(by_line) == ["001", "003", "004"]  # evening full price x2, evening reduced, matinee
    assert by_line["001"].quantity == 2 and by_line["001"].amount_cents == 6400
    first = listing.views(actor, [by_line["001"]])[0]
    assert first.line_id == f"{order.id}-001" and first.product_name == "Cyrano" and first.channel_name == "Guichet"
    assert first.row.buyer_name == "Lennart Bosche" and first.row.contact_type == "occasional"
    assert first.row.mark == "release" and not first.row.locked and first.row.reminders == 0
    assert first.performance_starts_at == world.evening.starts_at and first.quota_name == "Tout public"


def test_a_paid_or_cancelled_line_leaves_the_list_and_the_counts(actor, world):
    kept, paid, cut = (hold(actor, world, line(world), line(world, world.reduced)) for _ in range(3))
    orders.mark_paid(actor, paid.id)
    cancellations.cancel_tickets(actor, cut.id, [2])
    rows, (count, places, _) = all_lines(actor, filters(world))
    assert sorted((row.order_id, row.line) for row in rows) == sorted(
        [(kept.id, "001"), (kept.id, "002"), (cut.id, "001")])
    assert (count, places) == (3, 3)


def test_every_filter_alone_and_combined_matches_a_plain_reading(actor, world):
    """Random holds; each filter set's rows and count equal what a plain reading of all the
    lines, filtered in Python, gives."""
    rng = random.Random(7)
    channel = catalog.sales_channels.create(actor, {"name": "Web", "kind": "web"})
    people = [contacts.create_contact(actor, {"last_name": f"Client{n}", "contact_type": rng.choice(["school", "group"])})
              for n in range(3)]
    for index in range(40):
        person = rng.choice(people + [None])
        buyer = {"last_name": "Anonyme"} if person is None else {"contact_id": person.id, "last_name": person.last_name}
        choices = [line(world), line(world, world.reduced), line(world, performance=world.matinee),
                   line(world, world.other_tariff, world.other_performance)]
        hold(actor, world, *rng.sample(choices, rng.randint(1, 3)), kind=rng.choice(["option", "reservation"]),
             days=rng.randint(1, 20), channel_id=rng.choice([channel.id, None]), buyer=buyer)
    everything = {kind: all_lines(actor, filters(world, kind=kind))[0] for kind in ("option", "reservation")}
    assert sum(len(rows) for rows in everything.values()) > 40
    cut = (clock.now() + timedelta(days=9)).date()
    cases = [{}, {"performance_id": world.evening.id}, {"product_id": world.show.id}, {"contact_id": people[0].id},
             {"quota_id": world.matinee_quota.id}, {"tariff_ids": (world.full_price.id, world.other_tariff.id)},
             {"channel_id": channel.id}, {"contact_types": ("school",)}, {"product_type": "show"},
             {"performance_id": world.evening.id, "tariff_ids": (world.reduced.id,)},
             {"product_id": world.show.id, "contact_id": people[1].id, "channel_id": channel.id},
             {"contact_types": ("group",), "quota_id": world.evening_quota.id}]
    for kind in ("option", "reservation"):
        for case in cases:
            for before in (cut, None):
                chosen = filters(world, kind=kind, before=before, **case)
                rows, (count, places, counted_by) = all_lines(actor, chosen, limit=7)
                expected = [row for row in everything[kind] if _matches(row, chosen)]
                assert sorted((r.order_id, r.line) for r in rows) == sorted((r.order_id, r.line) for r in expected), case
                assert (count, places) == (len(expected), sum(int(r.quantity) for r in expected)), case
                plain = not ({"quota_id", "tariff_ids", "channel_id", "contact_types", "product_type"} & set(case)) \
                    and len({"performance_id", "product_id", "contact_id"} & set(case)) <= 1
                assert counted_by == ("counters" if plain else "reading"), case
                assert [r.deadline for r in rows] == sorted(r.deadline for r in rows)  # oldest deadline first


def _matches(row, chosen: listing.LineFilters) -> bool:
    from chalicelib.values.local_time import local_day

    return (local_day(row.deadline, "Europe/Paris") <= chosen.deadline_on_or_before
            and all(getattr(chosen, name) in (None, getattr(row, name)) for name in (
                "performance_id", "product_id", "contact_id", "quota_id", "channel_id", "product_type"))
            and (not chosen.tariff_ids or row.tariff_id in chosen.tariff_ids)
            and (not chosen.contact_types or row.contact_type in chosen.contact_types))


def test_paging_has_no_cap_and_another_venue_sees_nothing(actor, world):
    for _ in range(130):
        hold(actor, world)
    rows, (count, places, _) = all_lines(actor, filters(world), limit=50)
    assert len(rows) == count == places == 130
    other = Actor("tenant-elsewhere-" + actor.tenant_id[-6:], "staff-9", frozenset({"staff"}))
    elsewhere = build_world(other)
    page = listing.find_lines(other, filters(elsewhere), limit=200, cursor=None)
    assert page.items == [] and page.matching_lines == 0
    from chalicelib.errors import InvalidInput

    with pytest.raises(InvalidInput):  # this venue's season named by the other venue
        listing.find_lines(other, filters(world), limit=10, cursor=None)


def test_today_is_the_venues_day_not_utcs(actor):
    """At 23:30 UTC on a winter night it is already the next day in Paris, the venue's default zone."""
    from datetime import date, datetime, timezone

    clock.set_clock(clock.frozen_at(datetime(2026, 12, 4, 23, 30, tzinfo=timezone.utc)))
    try:
        assert listing.venue_today(actor) == date(2026, 12, 5)
    finally:
        clock.set_clock(None)
