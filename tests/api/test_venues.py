"""Venues through the API: the pattern every catalog entity follows (create, read, update,
list with cursor, audit), and the auth and problem+json rules at the edge."""
from __future__ import annotations

from tests.api.helpers import assert_problem, call


def test_staff_create_read_update_a_venue_and_see_its_history(client, staff_headers):
    status, venue, _ = call(client, "POST", "/venues", staff_headers, {"name": "Théâtre des Célestins", "city": "Lyon"})
    assert status == 201
    assert venue["timezone"] == "Europe/Paris" and venue["country"] == "FR"

    status, read, _ = call(client, "GET", f"/venues/{venue['id']}", staff_headers)
    assert status == 200 and read["name"] == "Théâtre des Célestins"

    status, changed, _ = call(client, "PATCH", f"/venues/{venue['id']}", staff_headers, {"timezone": "Europe/Brussels"})
    assert status == 200 and changed["timezone"] == "Europe/Brussels" and changed["name"] == "Théâtre des Célestins"

    status, history, _ = call(client, "GET", f"/audit/venue/{venue['id']}", staff_headers)
    assert status == 200
    assert [event["action"] for event in history["items"]] == ["create", "update"]
    assert history["items"][1]["before"]["timezone"] == "Europe/Paris"
    assert history["items"][1]["after"]["timezone"] == "Europe/Brussels"
    assert history["items"][1]["actor"] == "staff-1"


def test_listing_pages_through_every_venue_with_a_cursor(client, staff_headers):
    names = {f"Salle {n}" for n in range(7)}
    for name in names:
        call(client, "POST", "/venues", staff_headers, {"name": name})
    seen, cursor = [], None
    while True:
        path = "/venues?limit=3" + (f"&cursor={cursor}" if cursor else "")
        status, page, _ = call(client, "GET", path, staff_headers)
        assert status == 200 and len(page["items"]) <= 3
        seen += [venue["name"] for venue in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert sorted(seen) == sorted(names)


def test_a_forged_cursor_is_refused(client, staff_headers):
    assert_problem(call(client, "GET", "/venues?cursor=eyJrIjoxfQ.AAAA", staff_headers), 422, "cursor")


def test_no_token_is_401_and_wrong_role_is_403(client, signer, tenant):
    assert_problem(call(client, "GET", "/venues", {}), 401)
    assert_problem(call(client, "GET", "/venues", {"Authorization": "Bearer not-a-jwt"}), 401)
    expired = signer.mint(tenant, ["staff"], ttl_seconds=-120)
    assert_problem(call(client, "GET", "/venues", {"Authorization": f"Bearer {expired}"}), 401)
    nobody = signer.mint(tenant, ["spectator"])
    assert_problem(call(client, "GET", "/venues", {"Authorization": f"Bearer {nobody}"}), 403)


def test_a_token_signed_by_another_key_is_refused(client, tmp_path, tenant):
    import os

    from devtools.tokens import LocalSigner

    stranger = LocalSigner(tmp_path / "other-keys", issuer=os.environ["JWT_ISSUER"])
    forged = stranger.mint(tenant, ["admin"])
    assert_problem(call(client, "GET", "/venues", {"Authorization": f"Bearer {forged}"}), 401)


def test_bad_venue_input_names_the_fields_and_writes_nothing(client, staff_headers):
    cases = [
        ({"name": ""}, "name"),
        ({"name": "x" * 201}, "name"),
        ({"name": 12}, "name"),
        ({}, "name"),
        ({"name": "Salle", "timezone": "Mars/Olympus"}, "timezone"),
        ({"name": "Salle", "unknown": 1}, "unknown"),
    ]
    for payload, field in cases:
        assert_problem(call(client, "POST", "/venues", staff_headers, payload), 422, field)
    assert_problem(call(client, "POST", "/venues", staff_headers, b"{not json"), 400)
    status, page, _ = call(client, "GET", "/venues", staff_headers)
    assert page["items"] == []


def test_patch_cannot_null_a_required_field(client, staff_headers):
    _, venue, _ = call(client, "POST", "/venues", staff_headers, {"name": "Salle"})
    assert_problem(call(client, "PATCH", f"/venues/{venue['id']}", staff_headers, {"name": None}), 422, "name")


def test_unknown_and_malformed_ids_are_404(client, staff_headers):
    assert_problem(call(client, "GET", "/venues/01ARZ3NDEKTSV4RRFFQ69G5FAV", staff_headers), 404)
    assert_problem(call(client, "GET", "/venues/..%2Fetc", staff_headers), 404)
