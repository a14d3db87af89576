"""Performances through the API: stored in UTC, shown on the venue's clock, listed in date
order (all of them, or a product's) and between two dates; only shows have performances."""
from __future__ import annotations

from tests.api.catalog_helpers import create, history, listing, stranger_headers, world
from tests.api.helpers import assert_problem, call


def _performance(client, headers, w, starts_at: str, **extra) -> dict:
    return create(client, headers, "/performances", {"product_id": w["show"]["id"], "venue_id": w["venue"]["id"],
                                                     "starts_at": starts_at, **extra})


def test_a_performance_is_stored_in_utc_and_shown_on_the_venue_clock(client, staff_headers):
    w = world(client, staff_headers)
    summer = _performance(client, staff_headers, w, "2026-10-10T20:30:00+02:00", label="Première")
    assert summer["starts_at"] == "2026-10-10T18:30:00Z"
    assert summer["starts_at_local"] == "2026-10-10T20:30:00+02:00"
    assert summer["venue_timezone"] == "Europe/Paris"
    assert summer["status"] == "scheduled" and summer["label"] == "Première"
    # Given in UTC, shown in Paris winter time.
    winter = _performance(client, staff_headers, w, "2027-01-15T19:00:00Z")
    assert winter["starts_at_local"] == "2027-01-15T20:00:00+01:00"

    status, read, _ = call(client, "GET", f"/performances/{summer['id']}", staff_headers)
    assert status == 200 and read == summer

    # The venue moves to another zone: the same instant reads differently there.
    call(client, "PATCH", f"/venues/{w['venue']['id']}", staff_headers, {"timezone": "America/Montreal"})
    assert call(client, "GET", f"/performances/{summer['id']}", staff_headers)[1]["starts_at_local"] == \
        "2026-10-10T14:30:00-04:00"


def test_a_performance_is_changed_and_audited(client, staff_headers):
    w = world(client, staff_headers)
    performance = _performance(client, staff_headers, w, "2026-10-10T20:30:00+02:00", label="Première")
    brussels = create(client, staff_headers, "/venues", {"name": "La Monnaie", "timezone": "Europe/Brussels",
                                                         "country": "BE"})
    status, changed, _ = call(client, "PATCH", f"/performances/{performance['id']}", staff_headers, {
        "starts_at": "2026-11-14T21:00:00+01:00", "venue_id": brussels["id"], "label": None})
    assert status == 200, changed
    assert changed["starts_at"] == "2026-11-14T20:00:00Z" and changed["starts_at_local"] == "2026-11-14T21:00:00+01:00"
    assert changed["venue_id"] == brussels["id"] and changed["status"] == "scheduled" and changed["label"] is None
    assert history(client, staff_headers, "performance", performance["id"]) == ["create", "update"]
    # the product is fixed at creation; the status moves only through campaigns and re-openings
    refused = assert_problem(call(client, "PATCH", f"/performances/{performance['id']}", staff_headers,
                                  {"status": "postponed"}), 422, "status")
    assert "campaign" in refused["errors"][0]["message"]
    assert_problem(call(client, "PATCH", f"/performances/{performance['id']}", staff_headers,
                        {"product_id": w["subscription"]["id"]}), 422, "product_id")
    assert_problem(call(client, "PATCH", f"/performances/{performance['id']}", staff_headers,
                        {"status": "moved"}), 422, "status")


def test_performances_are_listed_in_date_order_and_between_dates(client, staff_headers):
    w = world(client, staff_headers)
    other_show = create(client, staff_headers, "/products", {
        "kind": "show", "name": "Phèdre", "family_id": w["family"]["id"], "season_id": w["season"]["id"]})
    created = {}
    for starts_at in ["2026-12-31T21:00:00+01:00", "2026-10-01T20:00:00+02:00", "2027-03-05T20:00:00+01:00",
                      "2026-11-20T20:00:00+01:00", "2027-01-10T15:00:00+01:00"]:
        created[starts_at] = _performance(client, staff_headers, w, starts_at)["id"]
    elsewhere = create(client, staff_headers, "/performances", {
        "product_id": other_show["id"], "venue_id": w["venue"]["id"], "starts_at": "2026-11-01T20:00:00+01:00"})

    by_product = listing(client, staff_headers, "/performances", product_id=w["show"]["id"])
    starts = [p["starts_at"] for p in by_product]
    assert starts == sorted(starts) and len(starts) == 5
    assert starts[0] == "2026-10-01T18:00:00Z" and starts[-1] == "2027-03-05T19:00:00Z"

    window = listing(client, staff_headers, "/performances", product_id=w["show"]["id"],
                     **{"from": "2026-11-20T20:00:00+01:00", "to": "2027-01-10T15:00:00+01:00"})
    assert [p["starts_at_local"] for p in window] == [
        "2026-11-20T20:00:00+01:00", "2026-12-31T21:00:00+01:00", "2027-01-10T15:00:00+01:00"]  # bounds included
    after = listing(client, staff_headers, "/performances", product_id=w["show"]["id"],
                    **{"from": "2027-01-01T00:00:00Z"})
    assert len(after) == 2
    before = listing(client, staff_headers, "/performances", product_id=w["show"]["id"], to="2026-10-31T23:59:59Z")
    assert [p["id"] for p in before] == [created["2026-10-01T20:00:00+02:00"]]

    everything = listing(client, staff_headers, "/performances")
    assert len(everything) == 6 and [p["starts_at"] for p in everything] == sorted(p["starts_at"] for p in everything)
    november = listing(client, staff_headers, "/performances", **{"from": "2026-11-01T00:00:00+01:00",
                                                                  "to": "2026-11-30T23:59:59+01:00"})
    assert [p["id"] for p in november] == [elsewhere["id"], created["2026-11-20T20:00:00+01:00"]]

    assert_problem(call(client, "GET", "/performances?from=2027-01-01T00:00:00Z&to=2026-01-01T00:00:00Z",
                        staff_headers), 422, "to")
    assert_problem(call(client, "GET", "/performances?from=2027-01-01T00:00:00", staff_headers), 422, "from")
    assert_problem(call(client, "GET", "/performances?product_id=nope", staff_headers), 422, "product_id")
    assert_problem(call(client, "GET", "/performances?product_id=01ARZ3NDEKTSV4RRFFQ69G5FAV", staff_headers),
                   422, "product_id")


def test_a_cursor_belongs_to_its_listing(client, staff_headers):
    w = world(client, staff_headers)
    for day in range(1, 4):
        _performance(client, staff_headers, w, f"2026-10-0{day}T20:00:00+02:00")
    _, page, _ = call(client, "GET", f"/performances?limit=1&product_id={w['show']['id']}", staff_headers)
    assert page["next_cursor"]
    assert_problem(call(client, "GET", f"/performances?limit=1&cursor={page['next_cursor']}", staff_headers),
                   422, "cursor")
    assert_problem(call(client, "GET", f"/tariffs?limit=1&product_id={w['show']['id']}"
                                       f"&cursor={page['next_cursor']}", staff_headers), 422, "cursor")


def test_a_performance_is_of_a_show_at_a_venue_of_the_tenant(client, staff_headers, signer):
    w = world(client, staff_headers)
    theirs = world(client, stranger_headers(signer))
    valid = {"product_id": w["show"]["id"], "venue_id": w["venue"]["id"], "starts_at": "2026-10-10T20:30:00+02:00"}
    assert_problem(call(client, "POST", "/performances", staff_headers,
                        {**valid, "product_id": w["subscription"]["id"]}), 422, "product_id")
    assert_problem(call(client, "POST", "/performances", staff_headers,
                        {**valid, "product_id": theirs["show"]["id"]}), 422, "product_id")
    assert_problem(call(client, "POST", "/performances", staff_headers,
                        {**valid, "venue_id": theirs["venue"]["id"]}), 422, "venue_id")
    assert_problem(call(client, "POST", "/performances", staff_headers,
                        {**valid, "venue_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}), 422, "venue_id")
    assert_problem(call(client, "POST", "/performances", staff_headers,
                        {**valid, "starts_at": "2026-10-10T20:30:00"}), 422, "starts_at")
    assert listing(client, staff_headers, "/performances") == []
    performance = create(client, staff_headers, "/performances", valid)
    assert_problem(call(client, "PATCH", f"/performances/{performance['id']}", staff_headers,
                        {"venue_id": theirs["venue"]["id"]}), 422, "venue_id")
    assert call(client, "GET", f"/performances/{performance['id']}", staff_headers)[1] == performance
