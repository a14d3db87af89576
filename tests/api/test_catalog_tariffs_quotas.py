"""Tariffs and quotas through the API: prices in integer cents, listed by product; quotas
listed by performance, their remaining places following capacity changes without ever
going below what is sold."""
from __future__ import annotations

import pytest

from tests.api.catalog_helpers import create, history, listing, stranger_headers, world
from tests.api.helpers import assert_problem, call


@pytest.fixture
def performance(client, staff_headers):
    w = world(client, staff_headers)
    w["performance"] = create(client, staff_headers, "/performances", {
        "product_id": w["show"]["id"], "venue_id": w["venue"]["id"], "starts_at": "2026-10-10T20:30:00+02:00"})
    return w


def test_a_tariff_is_created_changed_and_listed_by_product(client, staff_headers, performance):
    w = performance
    full = create(client, staff_headers, "/tariffs", {"product_id": w["show"]["id"], "name": "Plein tarif",
                                                      "price_cents": 3200})
    assert full["currency"] == "EUR" and full["price_cents"] == 3200
    reduced = create(client, staff_headers, "/tariffs", {"product_id": w["show"]["id"], "name": "Réduit",
                                                         "price_cents": 0, "currency": "CHF"})
    yearly = create(client, staff_headers, "/tariffs", {"product_id": w["subscription"]["id"], "name": "Abonné",
                                                        "price_cents": 12000})
    status, changed, _ = call(client, "PATCH", f"/tariffs/{full['id']}", staff_headers, {"price_cents": 3450})
    assert status == 200 and changed["price_cents"] == 3450 and changed["name"] == "Plein tarif"
    assert call(client, "GET", f"/tariffs/{reduced['id']}", staff_headers)[1]["currency"] == "CHF"
    assert [t["id"] for t in listing(client, staff_headers, "/tariffs", product_id=w["show"]["id"])] == [
        full["id"], reduced["id"]]
    assert [t["id"] for t in listing(client, staff_headers, "/tariffs", product_id=w["subscription"]["id"])] == [
        yearly["id"]]
    assert len(listing(client, staff_headers, "/tariffs")) == 3
    assert_problem(call(client, "GET", f"/tariffs?product_id={w['performance']['id']}", staff_headers),
                   422, "product_id")
    assert history(client, staff_headers, "tariff", full["id"]) == ["create", "update"]


def test_tariff_prices_are_non_negative_integer_cents_of_a_known_product(client, staff_headers, signer, performance):
    w = performance
    theirs = world(client, stranger_headers(signer))
    valid = {"product_id": w["show"]["id"], "name": "Plein tarif", "price_cents": 3200}
    for field, value in [("price_cents", -1), ("price_cents", 32.5), ("price_cents", "3200"),
                         ("price_cents", 100_000_001), ("currency", "eur"), ("currency", "EURO"),
                         ("product_id", theirs["show"]["id"])]:
        assert_problem(call(client, "POST", "/tariffs", staff_headers, {**valid, field: value}), 422, field)
    assert listing(client, staff_headers, "/tariffs") == []
    tariff = create(client, staff_headers, "/tariffs", valid)
    assert_problem(call(client, "PATCH", f"/tariffs/{tariff['id']}", staff_headers, {"price_cents": -5}),
                   422, "price_cents")
    assert_problem(call(client, "PATCH", f"/tariffs/{tariff['id']}", staff_headers,
                        {"product_id": w["subscription"]["id"]}), 422, "product_id")
    assert call(client, "GET", f"/tariffs/{tariff['id']}", staff_headers)[1] == tariff


def test_a_quota_starts_full_and_capacity_changes_move_what_remains(client, staff_headers, actor, performance):
    from chalicelib.services.catalog import catalog

    w = performance
    quota = create(client, staff_headers, "/quotas", {"performance_id": w["performance"]["id"], "name": "Orchestre",
                                                      "capacity": 100})
    assert quota["remaining"] == 100
    catalog.take_places(actor, quota["id"], 30)  # a sale

    status, grown, _ = call(client, "PATCH", f"/quotas/{quota['id']}", staff_headers, {"capacity": 120})
    assert status == 200 and (grown["capacity"], grown["remaining"]) == (120, 90)
    status, shrunk, _ = call(client, "PATCH", f"/quotas/{quota['id']}", staff_headers, {"capacity": 30})
    assert status == 200 and (shrunk["capacity"], shrunk["remaining"]) == (30, 0)

    body = assert_problem(call(client, "PATCH", f"/quotas/{quota['id']}", staff_headers, {"capacity": 29}),
                          409, "capacity")
    assert "30" in body["detail"]
    status, renamed, _ = call(client, "PATCH", f"/quotas/{quota['id']}", staff_headers, {"name": "Parterre"})
    assert (renamed["name"], renamed["capacity"], renamed["remaining"]) == ("Parterre", 30, 0)
    assert_problem(call(client, "PATCH", f"/quotas/{quota['id']}", staff_headers, {"remaining": 50}), 422, "remaining")
    assert history(client, staff_headers, "quota", quota["id"]) == ["create", "update", "update", "update"]


def test_places_are_taken_and_given_back_atomically_within_bounds(actor, client, staff_headers, performance):
    from chalicelib.errors import Conflict
    from chalicelib.services.catalog import catalog

    quota = create(client, staff_headers, "/quotas", {"performance_id": performance["performance"]["id"],
                                                      "name": "Balcon", "capacity": 10})
    taken = catalog.take_places(actor, quota["id"], 10)
    assert taken.remaining == 0 and taken.version == quota["version"] + 1  # a sale invalidates stale edits
    with pytest.raises(Conflict):
        catalog.take_places(actor, quota["id"], 1)
    assert catalog.return_places(actor, quota["id"], 4).remaining == 4
    with pytest.raises(Conflict):
        catalog.return_places(actor, quota["id"], 7)
    assert catalog.quotas.get(actor, quota["id"]).remaining == 4


def test_quotas_are_listed_by_performance_and_refuse_bad_input(client, staff_headers, signer, performance):
    w = performance
    later = create(client, staff_headers, "/performances", {
        "product_id": w["show"]["id"], "venue_id": w["venue"]["id"], "starts_at": "2026-10-11T15:00:00+02:00"})
    theirs = world(client, stranger_headers(signer))
    valid = {"performance_id": w["performance"]["id"], "name": "Orchestre", "capacity": 100}
    for field, value in [("capacity", -1), ("capacity", "100"), ("capacity", 1.5), ("capacity", None),
                         ("performance_id", "01ARZ3NDEKTSV4RRFFQ69G5FAV"),
                         ("performance_id", theirs["show"]["id"]), ("name", "")]:
        assert_problem(call(client, "POST", "/quotas", staff_headers, {**valid, field: value}), 422, field)
    assert listing(client, staff_headers, "/quotas") == []
    first = create(client, staff_headers, "/quotas", valid)
    second = create(client, staff_headers, "/quotas", {**valid, "name": "Balcon", "capacity": 0})
    other = create(client, staff_headers, "/quotas", {**valid, "performance_id": later["id"]})
    assert [q["id"] for q in listing(client, staff_headers, "/quotas", performance_id=w["performance"]["id"])] == [
        first["id"], second["id"]]
    assert [q["id"] for q in listing(client, staff_headers, "/quotas", performance_id=later["id"])] == [other["id"]]
    assert_problem(call(client, "GET", f"/quotas?performance_id={theirs['show']['id']}", staff_headers),
                   422, "performance_id")
    assert_problem(call(client, "PATCH", f"/quotas/{first['id']}", staff_headers, {"capacity": -3}), 422, "capacity")
    assert call(client, "GET", f"/quotas/{first['id']}", staff_headers)[1] == first
