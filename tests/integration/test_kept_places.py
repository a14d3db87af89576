"""Cursors whose place is kept server-side (a renewal dry run's detail carries the seats handed
out so far): the address stays short however large the place, the place comes back whole, a
retried request keeps the same item, another listing or venue cannot use the cursor, and a day
later the cursor says to start again (410) rather than showing a wrong page."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.adapters import clock, ids
from chalicelib.errors import InvalidInput
from chalicelib.services.shared.kept_places import PlaceExpired, keep_place, kept_place
from tests.conftest import new_tenant_id

API_GATEWAY_REQUEST_LINE_BYTES = 10240


def _large_place() -> dict:
    """What a dry run's page carries on a large run: 400 seats handed out, 50 orders seen."""
    performances = [ids.new_id() for _ in range(10)]
    return {"after": {"product_key": {"S": "t#p"}, "id": {"S": ids.new_id()}},
            "orders_seen": [ids.new_id() for _ in range(50)],
            "dry_seats": {performance: [ids.new_id() for _ in range(40)] for performance in performances}}


def test_a_large_place_travels_as_a_short_cursor_and_comes_back_whole(tenant):
    place = _large_place()
    scope = f"renewal-detail:{tenant}:{ids.new_id()}"
    cursor = keep_place(tenant, scope, place)
    assert len(cursor) < 200 < API_GATEWAY_REQUEST_LINE_BYTES
    assert kept_place(tenant, scope, cursor) == place
    assert keep_place(tenant, scope, place) == cursor  # asked again (a reload): the same kept item


def test_another_listing_or_venue_cannot_open_the_cursor(tenant):
    scope = f"renewal-detail:{tenant}:{ids.new_id()}"
    cursor = keep_place(tenant, scope, _large_place())
    other = new_tenant_id()
    for wrong_tenant, wrong_scope in ((tenant, f"renewal-detail:{tenant}:{ids.new_id()}"),
                                      (other, f"renewal-detail:{other}:{scope.rsplit(':', 1)[1]}")):
        with pytest.raises(InvalidInput) as refused:
            kept_place(wrong_tenant, wrong_scope, cursor)
        assert refused.value.errors[0].field == "cursor"


def test_a_day_later_the_cursor_says_to_start_again(tenant):
    scope = f"renewal-detail:{tenant}:{ids.new_id()}"
    cursor = keep_place(tenant, scope, _large_place())
    clock.advance(timedelta(hours=23))
    try:
        assert kept_place(tenant, scope, cursor)["orders_seen"]
        clock.advance(timedelta(hours=2))
        with pytest.raises(PlaceExpired) as expired:
            kept_place(tenant, scope, cursor)
    finally:
        clock.set_clock(None)
    assert expired.value.status == 410 and "first page" in expired.value.detail
