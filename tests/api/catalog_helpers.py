"""Building blocks for the catalog API tests: create through the API, a small world of
references (venue, season, family, products), and another tenant's headers."""
from __future__ import annotations

from urllib.parse import urlencode

from tests.api.helpers import call


def create(client, headers, path: str, payload: dict) -> dict:
    status, body, _ = call(client, "POST", path, headers, payload)
    assert status == 201, (path, body)
    return body


def listing(client, headers, path: str, **query) -> list[dict]:
    """Every item of a listing, following cursors (page size 2 so paging is exercised)."""
    items, cursor = [], None
    while True:
        params = {**query, "limit": 2, **({"cursor": cursor} if cursor else {})}
        status, page, _ = call(client, "GET", f"{path}?{urlencode(params)}", headers)
        assert status == 200, page
        items += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return items


def world(client, headers) -> dict:
    """A venue in Lyon, a season, a family, a show and a subscription."""
    venue = create(client, headers, "/venues", {"name": "Théâtre des Célestins", "city": "Lyon"})
    season = create(client, headers, "/seasons", {"name": "2026-2027", "starts_on": "2026-09-01",
                                                  "ends_on": "2027-06-30"})
    family = create(client, headers, "/product-families", {"name": "Théâtre"})
    show = create(client, headers, "/products", {"kind": "show", "name": "Cyrano", "family_id": family["id"],
                                                 "season_id": season["id"]})
    subscription = create(client, headers, "/products", {
        "kind": "subscription", "name": "Abonnement 5 spectacles", "family_id": family["id"],
        "season_id": season["id"], "tacit_renewal": True})
    return {"venue": venue, "season": season, "family": family, "show": show, "subscription": subscription}


def stranger_headers(signer) -> dict:
    from tests.conftest import new_tenant_id

    return {"Authorization": f"Bearer {signer.mint(new_tenant_id(), ['staff'], 'stranger')}",
            "Content-Type": "application/json"}


def history(client, headers, entity_type: str, entity_id: str) -> list[str]:
    status, page, _ = call(client, "GET", f"/audit/{entity_type}/{entity_id}", headers)
    assert status == 200, page
    return [event["action"] for event in page["items"]]
