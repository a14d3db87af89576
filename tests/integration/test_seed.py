"""The demo data of `make dev` (devtools.seed), written through the real services once."""
from __future__ import annotations

import random

from chalicelib.services.catalog import catalog
from chalicelib.services.contacts import contacts
from chalicelib.services.orders import orders
from devtools import seed


def test_demo_tenant_is_seeded_once_through_the_services(monkeypatch, actor):
    monkeypatch.setattr(seed, "DEMO_TENANT", actor.tenant_id)
    monkeypatch.setattr(seed, "CONTACT_COUNT", 5)  # the shape matters here, not the 200

    assert seed.seed_demo_if_missing() is True
    assert seed.seed_demo_if_missing() is False  # the venue is the marker: nothing written twice

    venues = catalog.venues.list(actor, limit=10, cursor=None).items
    assert [venue.city for venue in venues] == ["Lyon", "Lyon"]
    assert {venue.timezone for venue in venues} == {"Europe/Paris"}
    shows = [product for product in catalog.products.list(actor, limit=50, cursor=None).items if product.kind == "show"]
    assert len(shows) == len(seed.SHOWS)
    performances = catalog.list_performances(actor, limit=200, cursor=None).items
    assert len(performances) == sum(show[3] for show in seed.SHOWS)
    assert all(performance.starts_at.astimezone(seed.ZONE).hour == 20 for performance in performances)
    assert len(catalog.quotas.list(actor, limit=200, cursor=None).items) == 2 * len(performances)
    assert len(contacts.list_contacts(actor, name_prefix=None, limit=50, cursor=None).items) == 5

    # The follow-up to watch: a policy, an option past its deadline (released by the first sweep),
    # one to remind, one locked, and a reservation.
    from datetime import timedelta

    from chalicelib.adapters import clock
    from chalicelib.services.options import listing, policy

    assert (policy.get_policy(actor).remind_days_before, policy.get_policy(actor).release_days_after) == (3, 1)
    season = catalog.seasons.list(actor, limit=1, cursor=None).items[0]
    theatre = next(family for family in catalog.product_families.list(actor, limit=5, cursor=None).items
                   if family.name == "Théâtre")
    day = (clock.now() + timedelta(days=30)).date()
    options = listing.find_lines(actor, listing.LineFilters("option", day, season.id, theatre.id), limit=10,
                                 cursor=None).items
    assert sorted(int(row.quantity) for row in options) == [1, 2, 4]
    assert [int(row.quantity) for row in options if row.locked] == [4]
    due = {action for row in options for action in (orders.get_order(actor, row.order_id).due_actions or {})}
    assert due == {"remind", "release"}
    reservations = listing.find_lines(actor, listing.LineFilters("reservation", day, season.id, theatre.id),
                                      limit=10, cursor=None)
    assert reservations.matching_places == 3


def test_demo_contacts_are_plausible_and_reproducible():
    people = [seed.demo_contact(random.Random(7), index) for index in (1, 2)]
    assert people == [seed.demo_contact(random.Random(7), index) for index in (1, 2)]
    person = people[0]
    assert person["first_name"] in seed.FIRST_NAMES and person["last_name"] in seed.LAST_NAMES
    assert person["emails"][0]["address"].isascii() and person["emails"][0]["address"].endswith("@example.org")
    assert person["addresses"][0]["city"] == "Lyon" and person["addresses"][0]["postcode"].startswith("6900")
