"""The follow-up through the API: the list's mandatory filters and bad input answered as
problems, a page's columns, line actions answering line by line, jobs for all that match, the
policy for admins only."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.adapters import clock
from tests.api.helpers import assert_problem, call
from tests.job_helpers import drive
from tests.options_helpers import hold
from tests.orders_world import build_world, line


@pytest.fixture
def world(actor):
    return build_world(actor, capacity=50)


def _query(world, **extra):
    values = {"kind": "option", "deadline_on_or_before": (clock.now() + timedelta(days=30)).date().isoformat(),
              "season_id": world.show.season_id, "family_id": world.show.family_id, **extra}
    return "&".join(f"{name}={value}" for name, value in values.items() if value is not None)


@pytest.mark.parametrize("missing", ["kind", "deadline_on_or_before", "season_id", "family_id"])
def test_each_mandatory_filter_missing_is_a_422_naming_it(client, staff_headers, world, missing):
    assert_problem(call(client, "GET", f"/options/lines?{_query(world, **{missing: None})}", staff_headers), 422,
                   missing)


@pytest.mark.parametrize("bad, field", [({"deadline_on_or_before": "31/12/2026"}, "deadline_on_or_before"),
                                        ({"deadline_on_or_before": "1900-01-01"}, "deadline_on_or_before"),
                                        ({"kind": "sale"}, "kind"),
                                        ({"tariff_ids": "not-an-id"}, "tariff_ids"),
                                        ({"contact_types": "École"}, "contact_types")])
def test_malformed_filters_are_422(client, staff_headers, world, bad, field):
    assert_problem(call(client, "GET", f"/options/lines?{_query(world, **bad)}", staff_headers), 422, field)


def test_a_filter_naming_another_venues_record_is_a_422(client, staff_headers, signer, world):
    from chalicelib.services.shared.actors import Actor
    from tests.conftest import new_tenant_id

    other = build_world(Actor(new_tenant_id(), "x", frozenset({"staff"})))
    assert_problem(call(client, "GET", f"/options/lines?{_query(world, performance_id=other.evening.id)}",
                        staff_headers), 422, "performance_id")
    assert_problem(call(client, "GET", f"/options/lines?{_query(world, tariff_ids=other.full_price.id)}",
                        staff_headers), 422, "tariff_ids")


def test_a_page_with_its_columns_and_count_then_line_actions(client, staff_headers, actor, world):
    order = hold(actor, world, line(world), line(world, world.reduced), buyer={
        "first_name": "Lennart", "last_name": "Bosche", "email": "lennart@exemple.fr"})
    status, page, _ = call(client, "GET", f"/options/lines?{_query(world)}&limit=1", staff_headers)
    assert status == 200, page
    assert (page["matching_lines"], page["matching_places"], page["counted_by"]) == (2, 2, "counters")
    [row] = page["items"]
    assert row["line_id"] == f"{order.id}-001" and row["order_number"] == order.number
    assert (row["product_name"], row["tariff_name"], row["quantity"], row["amount_cents"]) == ("Cyrano", "Plein tarif",
                                                                                                1, 3200)
    assert row["mark"] == "release" and row["locked"] is False and row["reminders"] == 0
    status, second, _ = call(client, "GET", f"/options/lines?{_query(world)}&limit=1&cursor={page['next_cursor']}",
                             staff_headers)
    assert [r["line_id"] for r in second["items"]] == [f"{order.id}-002"] and second["matching_lines"] == 2
    assert_problem(call(client, "GET", f"/options/lines?{_query(world, performance_id=world.evening.id)}&cursor="
                        f"{page['next_cursor']}", staff_headers), 422, "cursor")  # a cursor of another listing

    status, answer, _ = call(client, "POST", "/options/lines/lock", staff_headers,
                             {"line_ids": [f"{order.id}-002"], "reason": "groupe scolaire"})
    assert status == 200 and answer["counts"] == {"done": 1}
    status, preview, _ = call(client, "POST", "/options/lines/release/preview", staff_headers,
                              {"line_ids": [f"{order.id}-001", f"{order.id}-002"]})
    assert preview == {"lines": 1, "orders": 1, "places": 1, "amount_cents": {"EUR": 3200},
                       "skipped": {"skipped_locked": 1}}
    status, released, _ = call(client, "POST", "/options/lines/release", staff_headers,
                               {"line_ids": [f"{order.id}-001", f"{order.id}-002", f"{order.id}-009"]})
    assert status == 200 and released["counts"] == {"done": 1, "skipped_locked": 1, "skipped_gone": 1}
    assert_problem(call(client, "POST", "/options/lines/release", staff_headers,
                        {"line_ids": [f"{order.id}-001", "01ARZ3NDEKTSV4RRFFQ69G5FAV-001"]}), 422, "line_ids.1")
    assert_problem(call(client, "POST", "/options/lines/mark", staff_headers,
                        {"line_ids": [f"{order.id}-1"], "mark": "keep"}), 422, "line_ids")


def test_release_for_all_is_a_job_that_reports_each_outcome(client, staff_headers, actor, world, pump):
    held = [hold(actor, world, line(world), days=2) for _ in range(30)]
    later = hold(actor, world, line(world), days=20)
    call(client, "POST", "/options/lines/mark", staff_headers, {"line_ids": [f"{held[0].id}-001"], "mark": "keep"})
    body = {"kind": "option", "deadline_on_or_before": (clock.now() + timedelta(days=5)).date().isoformat(),
            "season_id": world.show.season_id, "family_id": world.show.family_id}
    status, preview, _ = call(client, "POST", "/options/release-all/preview", staff_headers, body)
    assert (preview["lines"], preview["places"], preview["skipped"]) == (29, 29, {"skipped_kept": 1})
    status, job, _ = call(client, "POST", "/options/release-all", staff_headers, {**body, "mail": False})
    assert status == 202, job
    finished = drive(pump, actor.tenant_id, job["id"])
    assert finished.status == "succeeded" and finished.outcomes == {"done": 29, "skipped_kept": 1}
    status, page, _ = call(client, "GET", f"/options/lines?{_query(world)}&limit=200", staff_headers)
    assert sorted(row["order_id"] for row in page["items"]) == sorted([held[0].id, later.id])


def test_the_policy_is_the_admins(client, staff_headers, admin_headers):
    assert call(client, "GET", "/options/policy", staff_headers)[1]["release_days_after"] == 0
    assert call(client, "PUT", "/options/policy", staff_headers, {"remind_days_before": 5,
                                                                  "release_days_after": 7})[0] == 403
    assert_problem(call(client, "PUT", "/options/policy", admin_headers, {
        "remind_days_before": 5, "release_days_after": 7, "timezone": "Mars/Olympus"}), 422, "timezone")
    assert_problem(call(client, "PUT", "/options/policy", admin_headers, {
        "remind_days_before": 5, "release_days_after": 7, "quiet_from": "25:00"}), 422, "quiet_from")
    status, saved, _ = call(client, "PUT", "/options/policy", admin_headers, {
        "remind_days_before": 5, "release_days_after": 7, "kinds": ["reservation"], "timezone": "Europe/Paris"})
    assert status == 200 and (saved["remind_days_before"], saved["kinds"]) == (5, ["reservation"])
    assert saved["updated_by"] == "admin-1"
    status, run, _ = call(client, "POST", "/options/due/run", admin_headers, {})
    assert status == 200 and run == {"due": {}, "waiting": [], "jobs": []}
