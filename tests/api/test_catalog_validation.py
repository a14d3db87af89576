"""Bad input on every catalog write endpoint: wrong types, missing or unknown fields,
oversized texts, nulls where a value is required, fields fixed at creation. Each answer is a
422 problem+json naming the field, and nothing is written (listings and records unchanged)."""
from __future__ import annotations

import pytest

from tests.api.catalog_helpers import create, listing, world
from tests.api.helpers import assert_problem, call

ANY_ID = "01ARZ3NDEKTSV4RRFFQ69G5FAV"


def _refs(client, headers) -> dict:
    w = world(client, headers)
    performance = create(client, headers, "/performances", {
        "product_id": w["show"]["id"], "venue_id": w["venue"]["id"], "starts_at": "2026-10-10T20:30:00+02:00"})
    return {"venue": w["venue"]["id"], "season": w["season"]["id"], "family": w["family"]["id"],
            "show": w["show"]["id"], "performance": performance["id"]}


# POST path, listing path, valid payload, required fields (all others optional)
ENDPOINTS = {
    "seasons": ("/seasons", "/seasons",
                lambda r: {"name": "S", "starts_on": "2026-09-01", "ends_on": "2027-06-30"},
                {"name", "starts_on", "ends_on"}),
    "families": ("/product-families", "/product-families", lambda r: {"name": "Théâtre"}, {"name"}),
    "products": ("/products", "/products",
                 lambda r: {"kind": "show", "name": "Phèdre", "family_id": r["family"], "season_id": r["season"],
                            "tacit_renewal": False, "description": "Racine"},
                 {"kind", "name", "family_id", "season_id"}),
    "performances": ("/performances", "/performances",
                     lambda r: {"product_id": r["show"], "venue_id": r["venue"],
                                "starts_at": "2026-10-11T20:30:00+02:00", "label": "Relâche", "status": "scheduled"},
                     {"product_id", "venue_id", "starts_at"}),
    "tariffs": ("/tariffs", "/tariffs",
                lambda r: {"product_id": r["show"], "name": "Plein", "price_cents": 100, "currency": "EUR"},
                {"product_id", "name", "price_cents"}),
    "quotas": ("/quotas", "/quotas", lambda r: {"performance_id": r["performance"], "name": "Q", "capacity": 10},
               {"performance_id", "name", "capacity"}),
    "seat-categories": ("/seat-categories", "/seat-categories",
                        lambda r: {"venue_id": r["venue"], "name": "Cat", "color": "#AA0000"}, {"venue_id", "name"}),
    "seats": ("/venues/{venue}/seats", "/venues/{venue}/seats",
              lambda r: {"block": "A", "row": "1", "number": "1", "category_id": None}, {"block", "row", "number"}),
    "sales-channels": ("/sales-channels", "/sales-channels",
                       lambda r: {"name": "Guichet", "kind": "box_office", "geo_refusal_message": "Non"},
                       {"name", "kind"}),
}


def _wrong_type(value):
    """A JSON value of another type that a lax parser might coerce: strict models must not."""
    if isinstance(value, bool):
        return "true"
    if isinstance(value, int):
        return str(value)
    return 12


def _bad_variants(valid: dict, required: set) -> list[tuple[dict, str]]:
    variants = [({**valid, "unexpected": 1}, "unexpected")]
    for field, value in valid.items():
        variants.append(({**valid, field: _wrong_type(value)}, field))
        variants.append(({**valid, field: [value]}, field))
        if isinstance(value, str):
            variants.append(({**valid, field: "x" * 4001}, field))
        if field in required:
            variants.append(({name: v for name, v in valid.items() if name != field}, field))
            variants.append(({**valid, field: None}, field))
        if isinstance(value, int) and not isinstance(value, bool):
            variants.append(({**valid, field: -1}, field))
    return variants


@pytest.mark.parametrize("entity", sorted(ENDPOINTS))
def test_bad_create_input_is_refused_and_writes_nothing(client, staff_headers, entity):
    refs = _refs(client, staff_headers)
    post_path, list_path, payload, required = ENDPOINTS[entity]
    post_path, list_path = post_path.format(**refs), list_path.format(**refs)
    before = listing(client, staff_headers, list_path)
    valid = payload(refs)
    for variant, field in _bad_variants(valid, required):
        assert_problem(call(client, "POST", post_path, staff_headers, variant), 422, field)
    assert_problem(call(client, "POST", post_path, staff_headers, b"{not json"), 400)
    assert_problem(call(client, "POST", post_path, staff_headers, [valid]), 422)
    assert_problem(call(client, "POST", post_path, staff_headers, None), 422)
    assert listing(client, staff_headers, list_path) == before
    # and the valid payload itself is accepted, so each refusal above was about its one field
    create(client, staff_headers, post_path, valid)


# What a PATCH may not do: null a required field, change a field fixed at creation, wrong types.
PATCHES = {
    "seasons": ("/seasons", [({"name": None}, "name"), ({"starts_on": "1 Sept"}, "starts_on"),
                             ({"ends_on": "2026-02-30"}, "ends_on")]),
    "families": ("/product-families", [({"name": None}, "name"), ({"name": ""}, "name")]),
    "products": ("/products", [({"kind": "package"}, "kind"), ({"family_id": None}, "family_id"),
                               ({"season_id": ANY_ID}, "season_id"), ({"tacit_renewal": 1}, "tacit_renewal"),
                               ({"description": "x" * 4001}, "description")]),
    "performances": ("/performances", [({"starts_at": None}, "starts_at"), ({"status": None}, "status"),
                                       ({"venue_id": ANY_ID}, "venue_id"), ({"label": "x" * 201}, "label")]),
    "tariffs": ("/tariffs", [({"price_cents": None}, "price_cents"), ({"price_cents": 1.0}, "price_cents"),
                             ({"currency": None}, "currency")]),
    "quotas": ("/quotas", [({"capacity": None}, "capacity"), ({"performance_id": ANY_ID}, "performance_id"),
                           ({"capacity": True}, "capacity")]),
    "seat-categories": ("/seat-categories", [({"name": None}, "name"), ({"color": "red"}, "color")]),
    "seats": ("/seats", [({"row": None}, "row"), ({"number": "1#2"}, "number"),
                         ({"category_id": ANY_ID}, "category_id")]),
    "sales-channels": ("/sales-channels", [({"kind": None}, "kind"), ({"name": "x" * 201}, "name")]),
}


@pytest.mark.parametrize("entity", sorted(PATCHES))
def test_bad_changes_are_refused_and_change_nothing(client, staff_headers, entity):
    refs = _refs(client, staff_headers)
    post_path, _, payload, _ = ENDPOINTS[entity]
    record = create(client, staff_headers, post_path.format(**refs), payload(refs))
    base, cases = PATCHES[entity]
    path = f"{base}/{record['id']}"
    for changes, field in cases + [({"unexpected": 1}, "unexpected")]:
        assert_problem(call(client, "PATCH", path, staff_headers, changes), 422, field)
    assert_problem(call(client, "PATCH", path, staff_headers, b"[1,"), 400)
    assert_problem(call(client, "PATCH", f"{base}/{ANY_ID}", staff_headers, {}), 404)
    assert call(client, "GET", path, staff_headers)[1] == record
