"""What a new venue hit on its first day, through the API: campaign wording checked before
anything changes and editable after; a performance's status moved only by campaigns and an
audited re-opening; suppressed notices visible where staff look; mail addresses SES can deliver;
names found in either order and orders by id; refunds listed without a state; periods and
discounts that make sense; exports that say what they want; the CSV's deadline and pending
refunds; bodies of the wrong type answered as problems; the refund page's English."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from chalicelib.adapters import clock
from chalicelib.services.campaigns import affected_customers, campaigns
from chalicelib.services.catalog import catalog
from chalicelib.services.mail import recipients
from chalicelib.services.money import refunds
from chalicelib.services.orders import export, orders
from chalicelib.services.orders.listing import OrderFilters, find_orders
from tests.api.helpers import assert_problem, call
from tests.job_helpers import drive, ensure_jobs_queue
from tests.money_helpers import paid_cheque_order
from tests.orders_world import build_world, draft, line

DEADLINE = (clock.now() + timedelta(days=20)).isoformat()


@pytest.fixture
def world(actor):
    return build_world(actor)


def _campaign(client, headers, world, **extra) -> tuple[int, dict]:
    ensure_jobs_queue()
    status, body, _ = call(client, "POST", "/campaigns", headers, {
        "performance_id": world.evening.id, "kind": "cancellation", "refund_deadline": DEADLINE, **extra})
    return status, body


# -- campaigns and performances ---------------------------------------------------------------


def test_a_campaign_message_breaking_the_mail_rules_is_refused_before_anything_changes(
        client, staff_headers, world, actor, pump):
    status, problem = _campaign(client, staff_headers, world, mail_message="Infos sur www.celestins-lyon.org")
    assert status == 422 and {error["field"] for error in problem["errors"]} == {"mail_message"}
    assert catalog.get_performance(actor, world.evening.id).status == "scheduled"  # nothing changed

    status, made = _campaign(client, staff_headers, world, mail_message="Le comédien est souffrant.")
    assert status == 201
    drive(pump, actor.tenant_id, made["build_job_id"])
    assert_problem(call(client, "PATCH", f"/campaigns/{made['id']}", staff_headers,
                        {"mail_message": "Écrivez à billetterie@celestins.fr"}), 422, "mail_message")
    status, reworded, _ = call(client, "PATCH", f"/campaigns/{made['id']}", staff_headers,
                               {"mail_message": "La représentation est annulée, avec nos excuses."})
    assert status == 200 and reworded["mail_message"].startswith("La représentation est annulée")
    history = call(client, "GET", f"/audit/campaign/{made['id']}", staff_headers)[1]["items"]
    assert [event["action"] for event in history] == ["create", "reword"]


def test_a_performance_status_moves_only_through_campaigns_and_an_audited_reopening(
        client, staff_headers, world, actor, pump):
    assert_problem(call(client, "PATCH", f"/performances/{world.matinee.id}", staff_headers,
                        {"status": "postponed"}), 422, "status")
    order = paid_cheque_order(actor, world)
    status, made = _campaign(client, staff_headers, world)
    drive(pump, actor.tenant_id, made["build_job_id"])
    assert_problem(call(client, "PATCH", f"/performances/{world.evening.id}", staff_headers,
                        {"status": "scheduled"}), 422, "status")
    assert call(client, "GET", f"/performances/{world.evening.id}", staff_headers)[1]["status"] == "cancelled"

    status, reopened, _ = call(client, "POST", f"/performances/{world.evening.id}/reopen", staff_headers,
                               {"reason": "Le comédien est rétabli"})
    assert status == 200 and reopened["status"] == "scheduled"
    assert campaigns.get_campaign(actor, made["id"]).status == "closed"
    assert call(client, "POST", "/orders", staff_headers, draft(world))[0] == 201  # on sale again
    assert_problem(call(client, "POST", f"/campaigns/{made['id']}/notify", staff_headers, {}), 409)
    from chalicelib.services.campaigns import refund_page
    from chalicelib.services.campaigns.refund_links import PageAddress

    page = refund_page.page_for(PageAddress(actor.tenant_id, made["id"], order.id))
    assert page.closed and page.choices == []
    events = call(client, "GET", f"/audit/performance/{world.evening.id}", staff_headers)[1]["items"]
    assert events[-1]["action"] == "reopen" and events[-1]["after"]["reason"] == "Le comédien est rétabli"
    assert_problem(call(client, "POST", f"/performances/{world.evening.id}/reopen", staff_headers,
                        {"reason": "again"}), 409)


# -- delivery facts where staff look ---------------------------------------------------------


def test_a_notice_to_a_known_bounced_address_shows_on_the_customer_and_in_the_diagnosis(
        client, staff_headers, world, actor, pump):
    bounced, _ = orders.place_order(actor, draft(world, buyer={"last_name": "Perdu", "email": "gone@free.fr"}))
    orders.place_order(actor, draft(world, buyer={"last_name": "Là", "email": "here@free.fr"}))
    recipients.mark(actor.tenant_id, "gone@free.fr", recipients.UNDELIVERABLE, event="bounced_permanent",
                    at=clock.now())
    status, made = _campaign(client, staff_headers, world)
    drive(pump, actor.tenant_id, made["build_job_id"])
    status, job, _ = call(client, "POST", f"/campaigns/{made['id']}/notify", staff_headers, {})
    notified = drive(pump, actor.tenant_id, job["id"])
    assert (notified.done, notified.failed, notified.outcomes) == (1, 0, {"suppressed": 1})
    shown = call(client, "GET", f"/jobs/{job['id']}", staff_headers)[1]
    assert shown["outcomes"] == {"suppressed": 1}

    rows = call(client, "GET", f"/campaigns/{made['id']}/customers?q=perdu", staff_headers)[1]["items"]
    [row] = rows
    assert row["state"] == "not_notified" and row["delivery"] == "suppressed" and row["delivery_at"]
    assert "bounce" in row["delivery_detail"]
    diagnosis = call(client, "GET", f"/campaigns/{made['id']}/diagnosis?override=true", staff_headers)[1]
    assert diagnosis["totals"]["bounced"] == 1

    problem = assert_problem(call(client, "POST", f"/campaigns/{made['id']}/customers/{bounced.id}/resend",
                                  staff_headers, {}), 409, "address")
    assert problem["type"] == "/problems/address-undeliverable"
    status, resent, _ = call(client, "POST", f"/campaigns/{made['id']}/customers/{bounced.id}/resend",
                             staff_headers, {"address": "perdu.retrouve@free.fr"})
    assert status == 200 and resent["state"] == "mail_sent" and resent["email"] == "perdu.retrouve@free.fr"
    order = call(client, "GET", f"/orders/{bounced.id}", staff_headers)[1]
    assert order["buyer_delivery"]["undeliverable"] is True  # a buyer without a record: the fact on the order


def test_addresses_ses_cannot_deliver_are_refused_with_a_suggestion(client, staff_headers, world):
    problem = assert_problem(call(client, "POST", "/contacts", staff_headers, {
        "last_name": "Richard", "emails": [{"address": "benoît.richard27@orange.fr"}]}), 422, "emails.0.address")
    assert "benoit.richard27@orange.fr" in problem["errors"][0]["message"]
    status, contact, _ = call(client, "POST", "/contacts", staff_headers, {
        "last_name": "Café", "emails": [{"address": "lea@exemple.café"}]})
    assert status == 201 and contact["emails"][0]["address"] == "lea@exemple.xn--caf-dma"


# -- search and listings ---------------------------------------------------------------------


def test_names_are_found_in_either_order_and_orders_by_their_id(client, staff_headers, world, actor, pump):
    order, _ = orders.place_order(actor, draft(world, buyer={"first_name": "Claire", "last_name": "Petit",
                                                             "email": "claire@exemple.fr"}))
    status, made = _campaign(client, staff_headers, world)
    drive(pump, actor.tenant_id, made["build_job_id"])
    for q in ("claire petit", "petit claire", "Claire", order.id, order.id.lower()):
        rows = call(client, "GET", f"/campaigns/{made['id']}/customers?q={q}", staff_headers)[1]["items"]
        assert [row["order_id"] for row in rows] == [order.id], q
    for q in ("claire petit", order.id):
        found = call(client, "GET", f"/orders?q={q}", staff_headers)[1]["items"]
        assert [row["id"] for row in found] == [order.id], q


def test_refunds_are_listed_without_a_state_newest_first(client, staff_headers, world, actor):
    first = paid_cheque_order(actor, world)
    second = paid_cheque_order(actor, world)
    iban = refunds.BankAccount("FR7630006000011234567890189")
    older = refunds.request_refund(actor, first.id, [1], bank=iban)
    newer = refunds.request_refund(actor, second.id, [1], bank=iban)
    refunds.mark_paid(actor, second.id, newer.refund_id, reference=None)
    listed = call(client, "GET", "/refunds", staff_headers)[1]["items"]
    assert [item["refund_id"] for item in listed] == [newer.refund_id, older.refund_id]
    pending = call(client, "GET", "/refunds?state=pending", staff_headers)[1]["items"]
    assert [item["refund_id"] for item in pending] == [older.refund_id]


@pytest.mark.parametrize("query, field", [
    ("since=2026-12-31&until=2026-01-01", "until"), ("until=0", "until"), ("since=1970-01-01", "since"),
    ("since=9999-01-01", "since"), ("until=2026-13-01", "until"),
])
def test_nonsensical_periods_are_refused(client, staff_headers, query, field):
    assert_problem(call(client, "GET", f"/metrics?{query}", staff_headers), 422, field)


def test_a_discount_above_the_order_and_an_empty_export_are_refused_clearly(client, staff_headers, world):
    assert_problem(call(client, "POST", "/orders", staff_headers, draft(world, discount_cents=3201)), 422,
                   "discount_cents")
    problem = assert_problem(call(client, "POST", "/orders/export", staff_headers, {}), 422)
    assert "not both" not in json.dumps(problem) and "order_ids" in json.dumps(problem)


def test_notifying_unknown_orders_names_them(client, staff_headers, world, actor, pump):
    known, _ = orders.place_order(actor, draft(world))
    stranger, _ = orders.place_order(actor, draft(world, line(world, world.other_tariff, world.other_performance)))
    status, made = _campaign(client, staff_headers, world)
    drive(pump, actor.tenant_id, made["build_job_id"])
    assert_problem(call(client, "POST", f"/campaigns/{made['id']}/notify", staff_headers,
                        {"order_ids": [known.id, stranger.id]}), 422, "order_ids.1")
    link = call(client, "GET", f"/campaigns/{made['id']}/customers/{known.id}/link", staff_headers)[1]
    assert link["expires_at"] and link["url"].startswith("http")


def test_the_csv_shows_a_deadline_only_for_holds_and_says_when_a_refund_is_pending(actor, world):
    sale = paid_cheque_order(actor, world, line(world), line(world))
    option, _ = orders.place_order(actor, draft(world, kind="option", payment_type="invoice",
                                                deadline=clock.now() + timedelta(days=3)))
    refunds.request_refund(actor, sale.id, [1, 2], bank=refunds.BankAccount("FR7630006000011234567890189"))
    rows = {row.order_id: row for row in find_orders(actor, OrderFilters(), limit=10, cursor=None).items}
    sale_cells = export.row(rows[sale.id], "Europe/Paris", refund_pending=export.refund_pending(rows[sale.id]))
    option_cells = export.row(rows[option.id], "Europe/Paris", refund_pending=export.refund_pending(rows[option.id]))
    assert sale_cells[4] == "Remboursée (remboursement en cours)" and sale_cells[11] == ""
    assert option_cells[11] != ""


# -- the API's edges --------------------------------------------------------------------------


def test_a_body_of_another_type_is_a_problem_not_the_gateways_answer(client, staff_headers):
    status, problem, headers = call(client, "POST", "/venues", {**staff_headers,
                                                                 "Content-Type": "application/x-www-form-urlencoded"},
                                    b"name=Salle&city=Lyon")
    assert status == 415 and headers["Content-Type"] == "application/problem+json"
    assert problem["type"] == "/problems/unsupported-media-type"
    status, problem, headers = call(client, "GET", "/venues", {"Authorization": "Bearer garbage"})
    assert status == 401 and problem["detail"] == "The staff token is invalid."


def test_the_refund_page_speaks_english_typography_and_asks_to_choose(actor, world, pump, client):
    from chalicelib.errors import InvalidInput
    from chalicelib.services.campaigns.refund_links import PageAddress, customer_token
    from chalicelib.services.campaigns.refund_page import PageView, choose, field_reasons, page_for, render_page

    order = paid_cheque_order(actor, world)
    ensure_jobs_queue()
    made = campaigns.create_campaign(actor, {"performance_id": world.evening.id, "kind": "cancellation",
                                             "refund_deadline": clock.now() + timedelta(days=5)})
    drive(pump, actor.tenant_id, made.build_job_id)
    campaign = campaigns.get_campaign(actor, made.id)
    page = page_for(PageAddress(actor.tenant_id, campaign.id, order.id))
    english = render_page(page, customer_token(campaign, order.id), PageView(language="en"))
    assert "Performance cancelled: Cyrano" in english and " :" not in english.replace("&nbsp;:", "")
    french = render_page(page, customer_token(campaign, order.id), PageView(language="fr"))
    assert "Représentation annulée\u00a0: Cyrano" in french
    with pytest.raises(InvalidInput) as refused:
        choose(page, "", iban=None, holder=None, staff=None)
    assert field_reasons(refused.value, "en") == {"choice": "Choose one of the options."}
    assert affected_customers.get_customer(actor, campaign.id, order.id).choice is None


@pytest.mark.parametrize("written", ["0.5", "1700000000", "2026-12-31", "demain"])
def test_a_time_not_written_as_iso_8601_is_a_field_error_not_seconds_since_1970(client, staff_headers, written):
    assert_problem(call(client, "GET", f"/performances?to={written}", staff_headers), 422, "to")
