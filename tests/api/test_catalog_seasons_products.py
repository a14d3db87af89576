"""Seasons, product families and products through the API: create, read, change, list (with
cursors, and products by season), audited; references and the renewal rule enforced."""
from __future__ import annotations

from tests.api.catalog_helpers import create, history, listing, stranger_headers, world
from tests.api.helpers import assert_problem, call


def test_a_season_is_created_read_changed_listed_and_audited(client, staff_headers):
    season = create(client, staff_headers, "/seasons", {"name": "2026-2027", "starts_on": "2026-09-01",
                                                        "ends_on": "2027-06-30"})
    assert season["starts_on"] == "2026-09-01" and season["ends_on"] == "2027-06-30"

    status, changed, _ = call(client, "PATCH", f"/seasons/{season['id']}", staff_headers, {"ends_on": "2027-07-14"})
    assert status == 200 and changed["ends_on"] == "2027-07-14" and changed["name"] == "2026-2027"
    assert changed["version"] == season["version"] + 1

    status, read, _ = call(client, "GET", f"/seasons/{season['id']}", staff_headers)
    assert status == 200 and read == changed
    assert [item["id"] for item in listing(client, staff_headers, "/seasons")] == [season["id"]]
    assert history(client, staff_headers, "season", season["id"]) == ["create", "update"]


def test_a_season_ends_after_it_starts_on_create_and_on_change(client, staff_headers):
    assert_problem(call(client, "POST", "/seasons", staff_headers,
                        {"name": "Backwards", "starts_on": "2027-06-30", "ends_on": "2026-09-01"}), 422, "ends_on")
    assert_problem(call(client, "POST", "/seasons", staff_headers,
                        {"name": "One day", "starts_on": "2027-06-30", "ends_on": "2027-06-30"}), 422, "ends_on")
    season = create(client, staff_headers, "/seasons", {"name": "S", "starts_on": "2026-09-01",
                                                        "ends_on": "2027-06-30"})
    # Only one date in the change: the rule still holds against the stored other one.
    assert_problem(call(client, "PATCH", f"/seasons/{season['id']}", staff_headers,
                        {"starts_on": "2027-07-01"}), 422, "ends_on")
    assert call(client, "GET", f"/seasons/{season['id']}", staff_headers)[1]["starts_on"] == "2026-09-01"
    assert [item["name"] for item in listing(client, staff_headers, "/seasons")] == ["S"]


def test_product_families_are_created_changed_and_listed(client, staff_headers):
    names = ["Théâtre", "Musique", "Danse"]
    families = [create(client, staff_headers, "/product-families", {"name": name}) for name in names]
    status, changed, _ = call(client, "PATCH", f"/product-families/{families[1]['id']}", staff_headers,
                              {"name": "Musique classique"})
    assert status == 200 and changed["name"] == "Musique classique"
    assert call(client, "GET", f"/product-families/{families[0]['id']}", staff_headers)[1]["name"] == "Théâtre"
    assert [f["name"] for f in listing(client, staff_headers, "/product-families")] == [
        "Théâtre", "Musique classique", "Danse"]
    assert history(client, staff_headers, "product_family", families[1]["id"]) == ["create", "update"]


def test_a_product_is_created_changed_and_listed_by_season(client, staff_headers):
    w = world(client, staff_headers)
    assert w["show"]["kind"] == "show" and w["show"]["tacit_renewal"] is False and w["show"]["description"] is None
    other_season = create(client, staff_headers, "/seasons", {"name": "2027-2028", "starts_on": "2027-09-01",
                                                              "ends_on": "2028-06-30"})
    package = create(client, staff_headers, "/products", {
        "kind": "package", "name": "Forfait découverte", "family_id": w["family"]["id"],
        "season_id": other_season["id"], "description": "Trois spectacles au choix"})

    season_ids = lambda sid: [p["id"] for p in listing(client, staff_headers, "/products", season_id=sid)]  # noqa: E731
    assert season_ids(w["season"]["id"]) == [w["show"]["id"], w["subscription"]["id"]]
    assert season_ids(other_season["id"]) == [package["id"]]
    assert len(listing(client, staff_headers, "/products")) == 3

    # Moving a product to another season moves it in the season listing too.
    status, moved, _ = call(client, "PATCH", f"/products/{package['id']}", staff_headers,
                            {"season_id": w["season"]["id"], "description": None})
    assert status == 200 and moved["season_id"] == w["season"]["id"] and moved["description"] is None
    assert season_ids(other_season["id"]) == []
    assert package["id"] in season_ids(w["season"]["id"])
    assert history(client, staff_headers, "product", package["id"]) == ["create", "update"]


def test_product_references_must_exist_in_the_tenant(client, staff_headers, signer):
    w = world(client, staff_headers)
    stranger = stranger_headers(signer)
    theirs = world(client, stranger)
    valid = {"kind": "show", "name": "Phèdre", "family_id": w["family"]["id"], "season_id": w["season"]["id"]}
    for field, value in [("family_id", "01ARZ3NDEKTSV4RRFFQ69G5FAV"), ("family_id", theirs["family"]["id"]),
                         ("season_id", theirs["season"]["id"])]:
        assert_problem(call(client, "POST", "/products", staff_headers, {**valid, field: value}), 422, field)
    assert_problem(call(client, "PATCH", f"/products/{w['show']['id']}", staff_headers,
                        {"season_id": theirs["season"]["id"]}), 422, "season_id")
    assert len(listing(client, staff_headers, "/products")) == 2
    # and the stranger cannot see ours, nor filter by our ids
    assert_problem(call(client, "GET", f"/products/{w['show']['id']}", stranger), 404)
    assert_problem(call(client, "GET", f"/products?season_id={w['season']['id']}", stranger), 422, "season_id")


def test_only_a_subscription_is_renewed_tacitly_and_the_kind_is_fixed(client, staff_headers):
    w = world(client, staff_headers)
    assert w["subscription"]["tacit_renewal"] is True
    assert_problem(call(client, "POST", "/products", staff_headers, {
        "kind": "show", "name": "Phèdre", "family_id": w["family"]["id"], "season_id": w["season"]["id"],
        "tacit_renewal": True}), 422, "tacit_renewal")
    assert_problem(call(client, "PATCH", f"/products/{w['show']['id']}", staff_headers,
                        {"tacit_renewal": True}), 422, "tacit_renewal")
    assert_problem(call(client, "PATCH", f"/products/{w['show']['id']}", staff_headers,
                        {"kind": "subscription"}), 422, "kind")
    status, changed, _ = call(client, "PATCH", f"/products/{w['subscription']['id']}", staff_headers,
                              {"tacit_renewal": False})
    assert status == 200 and changed["tacit_renewal"] is False
    assert call(client, "GET", f"/products/{w['show']['id']}", staff_headers)[1] == w["show"]
