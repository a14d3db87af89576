"""Seat categories and seats through the API: a seat's block/row/number is unique in its
venue (409 on a duplicate, also when a change would collide), seats list in natural order,
a seat's category belongs to its venue, and seats can be created in batches."""
from __future__ import annotations

import pytest

from tests.api.catalog_helpers import create, history, listing, stranger_headers
from tests.api.helpers import assert_problem, call


@pytest.fixture
def venues(client, staff_headers):
    return (create(client, staff_headers, "/venues", {"name": "Grande salle"}),
            create(client, staff_headers, "/venues", {"name": "Petite salle"}))


def _seat(block="Orchestre", row="A", number="1", **extra) -> dict:
    return {"block": block, "row": row, "number": number, **extra}


def test_seat_categories_are_created_changed_and_listed_by_venue(client, staff_headers, venues):
    big, small = venues
    gold = create(client, staff_headers, "/seat-categories", {"venue_id": big["id"], "name": "Catégorie 1",
                                                              "color": "#D4AF37"})
    silver = create(client, staff_headers, "/seat-categories", {"venue_id": big["id"], "name": "Catégorie 2"})
    small_one = create(client, staff_headers, "/seat-categories", {"venue_id": small["id"], "name": "Unique"})
    assert silver["color"] is None
    status, changed, _ = call(client, "PATCH", f"/seat-categories/{gold['id']}", staff_headers, {"color": None})
    assert status == 200 and changed["color"] is None and changed["name"] == "Catégorie 1"
    assert [c["id"] for c in listing(client, staff_headers, "/seat-categories", venue_id=big["id"])] == [
        gold["id"], silver["id"]]
    assert [c["id"] for c in listing(client, staff_headers, "/seat-categories", venue_id=small["id"])] == [
        small_one["id"]]
    assert len(listing(client, staff_headers, "/seat-categories")) == 3
    assert history(client, staff_headers, "seat_category", gold["id"]) == ["create", "update"]


def test_seat_category_input_is_checked(client, staff_headers, signer, venues):
    theirs = create(client, stranger_headers(signer), "/venues", {"name": "Ailleurs"})
    valid = {"venue_id": venues[0]["id"], "name": "Catégorie 1"}
    for field, value in [("color", "gold"), ("color", "#12345"), ("color", "#GGGGGG"), ("venue_id", theirs["id"]),
                         ("name", "x" * 201)]:
        assert_problem(call(client, "POST", "/seat-categories", staff_headers, {**valid, field: value}), 422, field)
    assert listing(client, staff_headers, "/seat-categories") == []
    assert_problem(call(client, "GET", f"/seat-categories?venue_id={theirs['id']}", staff_headers), 422, "venue_id")
    category = create(client, staff_headers, "/seat-categories", valid)
    assert_problem(call(client, "PATCH", f"/seat-categories/{category['id']}", staff_headers,
                        {"venue_id": venues[1]["id"]}), 422, "venue_id")


def test_a_seat_is_created_read_changed_and_audited(client, staff_headers, venues):
    big, _ = venues
    category = create(client, staff_headers, "/seat-categories", {"venue_id": big["id"], "name": "Catégorie 1"})
    seat = create(client, staff_headers, f"/venues/{big['id']}/seats", _seat(category_id=category["id"]))
    assert (seat["venue_id"], seat["block"], seat["row"], seat["number"], seat["category_id"]) == (
        big["id"], "Orchestre", "A", "1", category["id"])
    assert call(client, "GET", f"/seats/{seat['id']}", staff_headers)[1] == seat
    status, changed, _ = call(client, "PATCH", f"/seats/{seat['id']}", staff_headers, {"category_id": None})
    assert status == 200 and changed["category_id"] is None
    assert history(client, staff_headers, "seat", seat["id"]) == ["create", "update"]


def test_a_seat_position_is_unique_in_its_venue(client, staff_headers, venues):
    big, small = venues
    first = create(client, staff_headers, f"/venues/{big['id']}/seats", _seat())
    body = assert_problem(call(client, "POST", f"/venues/{big['id']}/seats", staff_headers, _seat()), 409, "position")
    assert body["type"] == "/problems/duplicate"
    create(client, staff_headers, f"/venues/{small['id']}/seats", _seat())  # same labels, other venue: fine
    second = create(client, staff_headers, f"/venues/{big['id']}/seats", _seat(number="2"))

    # Moving a seat onto a taken position is refused and changes nothing ...
    assert_problem(call(client, "PATCH", f"/seats/{second['id']}", staff_headers, {"number": "1"}), 409, "position")
    assert call(client, "GET", f"/seats/{second['id']}", staff_headers)[1] == second
    # ... moving it to a free one frees its old position for another seat.
    status, moved, _ = call(client, "PATCH", f"/seats/{second['id']}", staff_headers, {"row": "B"})
    assert status == 200 and (moved["row"], moved["number"]) == ("B", "2")
    create(client, staff_headers, f"/venues/{big['id']}/seats", _seat(number="2"))
    # A change that keeps the position (or sets it to itself) is no collision with itself.
    status, same, _ = call(client, "PATCH", f"/seats/{first['id']}", staff_headers, {"number": "1"})
    assert status == 200 and same["version"] == first["version"] + 1
    assert len(listing(client, staff_headers, f"/venues/{big['id']}/seats")) == 3


def test_seats_list_by_venue_in_natural_order(client, staff_headers, venues):
    big, small = venues
    for block, row, number in [("Balcon", "B", "10"), ("Balcon", "B", "2"), ("Balcon", "A", "1"),
                               ("Orchestre", "10", "1"), ("Orchestre", "9", "1")]:
        create(client, staff_headers, f"/venues/{big['id']}/seats", _seat(block, row, number))
    create(client, staff_headers, f"/venues/{small['id']}/seats", _seat())
    seats = listing(client, staff_headers, f"/venues/{big['id']}/seats")
    assert [(s["block"], s["row"], s["number"]) for s in seats] == [
        ("Balcon", "A", "1"), ("Balcon", "B", "2"), ("Balcon", "B", "10"), ("Orchestre", "9", "1"),
        ("Orchestre", "10", "1")]


def test_seat_input_is_checked(client, staff_headers, signer, venues):
    big, small = venues
    stranger = stranger_headers(signer)
    small_category = create(client, staff_headers, "/seat-categories", {"venue_id": small["id"], "name": "Cat"})
    their_venue = create(client, stranger, "/venues", {"name": "Ailleurs"})
    their_category = create(client, stranger, "/seat-categories", {"venue_id": their_venue["id"], "name": "Cat"})
    for payload, field in [(_seat(category_id=small_category["id"]), "category_id"),
                           (_seat(category_id=their_category["id"]), "category_id"),
                           (_seat(block="A#B"), "block"), (_seat(row=""), "row"), (_seat(number="1" * 21), "number"),
                           (_seat(number=12), "number"), ({"block": "A", "row": "1"}, "number"),
                           (_seat(venue_id=small["id"]), "venue_id")]:
        assert_problem(call(client, "POST", f"/venues/{big['id']}/seats", staff_headers, payload), 422, field)
    assert listing(client, staff_headers, f"/venues/{big['id']}/seats") == []
    assert_problem(call(client, "POST", f"/venues/{their_venue['id']}/seats", staff_headers, _seat()), 404)
    assert_problem(call(client, "GET", f"/venues/{their_venue['id']}/seats", staff_headers), 404)
    assert listing(client, stranger, f"/venues/{their_venue['id']}/seats") == []
    seat = create(client, staff_headers, f"/venues/{big['id']}/seats", _seat())
    assert_problem(call(client, "PATCH", f"/seats/{seat['id']}", staff_headers,
                        {"category_id": small_category["id"]}), 422, "category_id")
    assert_problem(call(client, "PATCH", f"/seats/{seat['id']}", staff_headers, {"block": None}), 422, "block")
    assert call(client, "GET", f"/seats/{seat['id']}", staff_headers)[1] == seat


def test_a_batch_creates_each_seat_and_reports_duplicates_and_invalid_ones(client, staff_headers, venues):
    big, small = venues
    category = create(client, staff_headers, "/seat-categories", {"venue_id": big["id"], "name": "Cat 1"})
    alien = create(client, staff_headers, "/seat-categories", {"venue_id": small["id"], "name": "Cat 2"})
    create(client, staff_headers, f"/venues/{big['id']}/seats", _seat(number="3"))
    seats = [_seat(number=str(n), category_id=category["id"]) for n in range(1, 6)]
    seats[1] = _seat(number="1")               # duplicate of seats[0], inside the batch
    seats[4] = _seat(number="5", category_id=alien["id"])
    status, result, _ = call(client, "POST", f"/venues/{big['id']}/seats/batch", staff_headers, {"seats": seats})
    assert status == 200, result
    assert [(s["number"], s["category_id"]) for s in result["created"]] == [("1", category["id"]),
                                                                            ("4", category["id"])]
    assert [(r["index"], r["reason"], r["number"]) for r in result["refused"]] == [
        (1, "duplicate", "1"), (2, "duplicate", "3"), (4, "invalid", "5")]
    assert [s["number"] for s in listing(client, staff_headers, f"/venues/{big['id']}/seats")] == ["1", "3", "4"]


def test_a_batch_is_bounded_and_checked_whole_before_writing(client, staff_headers, venues):
    big, _ = venues
    path = f"/venues/{big['id']}/seats/batch"
    assert_problem(call(client, "POST", path, staff_headers, {"seats": []}), 422, "seats")
    assert_problem(call(client, "POST", path, staff_headers, {"seats": [_seat(number=str(n)) for n in range(501)]}),
                   422, "seats")
    assert_problem(call(client, "POST", path, staff_headers, {"seats": [_seat(), _seat(row=None)]}), 422, "seats.1.row")
    assert_problem(call(client, "POST", "/venues/01ARZ3NDEKTSV4RRFFQ69G5FAV/seats/batch", staff_headers,
                        {"seats": [_seat()]}), 404)
    assert listing(client, staff_headers, f"/venues/{big['id']}/seats") == []
