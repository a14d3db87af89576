"""Bad input is a clear 4xx naming the field, never a 500: digits that are not ASCII, forged
cursors, an incomplete or oversized preview context, line breaks where mail headers go."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.adapters import clock
from chalicelib.services.campaigns import campaigns
from tests.api.helpers import assert_problem, call
from tests.job_helpers import drive, ensure_jobs_queue
from tests.orders_world import build_world


@pytest.fixture
def world(actor):
    return build_world(actor)


@pytest.mark.parametrize("digits", ["²", "١٢", "12³", "٣"])
def test_searching_orders_with_digits_that_are_not_ascii_finds_nothing_without_failing(
        client, staff_headers, digits):
    status, page, _ = call(client, "GET", f"/orders?q={digits}", staff_headers)
    assert status == 200 and page["items"] == []


def test_searching_a_campaigns_customers_with_such_digits_is_no_failure(client, staff_headers, actor, world, pump):
    ensure_jobs_queue()
    campaign = campaigns.create_campaign(actor, {"performance_id": world.evening.id, "kind": "cancellation",
                                                 "refund_deadline": clock.now() + timedelta(days=5)})
    drive(pump, actor.tenant_id, campaign.build_job_id)
    assert call(client, "GET", f"/campaigns/{campaign.id}/customers?q=²", staff_headers)[0] == 200


@pytest.mark.parametrize("path", ["/affected-customers", "/orders", "/contacts", "/jobs", "/refunds?state=failed"])
@pytest.mark.parametrize("cursor", ["forged", "eyJrIjogIm5vIn0.AAAA", "a" * 500, "%00"])
def test_a_forged_cursor_is_a_422_on_cursor(client, staff_headers, path, cursor):
    joiner = "&" if "?" in path else "?"
    assert_problem(call(client, "GET", f"{path}{joiner}cursor={cursor}", staff_headers), 422, "cursor")


def test_a_preview_with_an_incomplete_context_names_each_missing_value(client, staff_headers):
    problem = assert_problem(call(client, "POST", "/mail/preview", staff_headers, {
        "template": "order_confirmation", "context": {"first_name": "Léa"}}), 422, "context.venue_name",
        "context.order_number")
    assert "first_name" not in {error["field"] for error in problem["errors"]}


@pytest.mark.parametrize("context", [
    {f"key{index}": "x" for index in range(61)},  # too many keys
    {"first_name": "x" * 1001},  # a value too long
    {"Not A Key": "x"},  # a key no template uses
    {"first_name": {"nested": "objects"}},  # not a value a template shows
])
def test_a_preview_context_is_bounded(client, staff_headers, context):
    assert call(client, "POST", "/mail/preview", staff_headers, {"template": "order_confirmation",
                                                                  "context": context})[0] == 422


@pytest.mark.parametrize("name", ["Théâtre\r\nBcc: everyone@example.org", "Théâtre\nLyon", "Tab\there"])
def test_a_venue_name_with_a_line_break_is_refused_at_input(client, admin_headers, name):
    assert_problem(call(client, "POST", "/venues", admin_headers, {"name": name, "city": "Lyon"}), 422, "name")
