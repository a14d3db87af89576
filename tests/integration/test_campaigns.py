"""A cancellation campaign through the API, at a real size: 300 orders on mixed payment means,
the customers gathered by the build job, notified by the notify job through the mail pipeline,
deliveries and bounces applied from SES events, pages read and choices made, every column and
state checked, then reset and resend."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta

import pytest

from chalicelib.adapters import clock
from chalicelib.services.mail import events as mail_events
from chalicelib.services.orders import cancellations, orders
from tests.api.helpers import assert_problem, call
from tests.job_helpers import drive
from tests.mail_fixtures import ses_event
from tests.money_helpers import paid_card_order
from tests.orders_world import build_world, draft, line

DOMAINS = ("exemple.fr", "orange.fr", "gmail.com", "free.fr")
BROWSER = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0 Mobile"


@pytest.fixture
def world(actor):
    return build_world(actor, capacity=1000)


def _sell_300(actor, world) -> dict[str, list]:
    """300 orders for the evening: cash, cheque (paid), invoice (unpaid), card; some without mail."""
    made = {"cash": [], "cheque": [], "invoice": [], "card": [], "no_mail": [], "other": []}
    for index in range(288):
        means = ("cash", "cheque", "invoice")[index % 3]
        email = None if index % 50 == 7 else f"client{index}@{DOMAINS[index % 4]}"
        buyer = {"first_name": "Client", "last_name": f"Dupont{index:03d}", "email": email}
        order, _ = orders.place_order(actor, draft(world, line(world), *([line(world, world.reduced)] * (index % 2)),
                                                   payment_type=means, buyer=buyer))
        if means == "cheque":
            orders.mark_paid(actor, order.id)
        made["no_mail" if email is None else means].append(order)
    for _ in range(10):
        made["card"].append(paid_card_order(actor, world))
    gone, _ = orders.place_order(actor, draft(world, payment_type="cash"))
    cancellations.cancel_tickets(actor, gone.id, [1])  # cancelled before: not affected
    made["other"].append(orders.place_order(actor, draft(world, line(world, world.other_tariff,
                                                                          world.other_performance)))[0])
    made["cancelled_before"] = [gone]
    return made


def test_a_cancelled_performance_with_300_orders_from_notice_to_choices(client, staff_headers, world, actor, pump):
    made = _sell_300(actor, world)
    affected = 288 + 10 + 1  # the sales above, the card orders, and the one left below (2 tickets, one cancelled)
    partly, _ = orders.place_order(actor, draft(world, line(world), line(world), payment_type="cash",
                                                buyer={"last_name": "Partiel", "email": "partiel@exemple.fr"}))
    cancellations.cancel_tickets(actor, partly.id, [2])

    deadline = (clock.now() + timedelta(days=20)).isoformat()
    status, campaign, _ = call(client, "POST", "/campaigns", staff_headers, {
        "performance_id": world.evening.id, "kind": "cancellation", "refund_deadline": deadline,
        "mail_message": "Le comédien principal est souffrant."})
    assert status == 201, campaign
    assert sorted(campaign["choices"]) == ["credit", "donation", "refund"] and campaign["status"] == "building"
    assert call(client, "GET", f"/performances/{world.evening.id}", staff_headers)[1]["status"] == "cancelled"
    assert_problem(call(client, "POST", "/orders", staff_headers, draft(world)), 422, "lines.0.performance_id")
    build = drive(pump, actor.tenant_id, campaign["build_job_id"])
    assert build.status == "succeeded" and build.done == affected
    assert call(client, "GET", f"/campaigns/{campaign['id']}", staff_headers)[1]["status"] == "ready"
    counts = call(client, "GET", f"/campaigns/{campaign['id']}/counts", staff_headers)[1]
    assert counts == {"not_notified": affected, "mail_sent": 0, "mail_read": 0, "made_choices": 0}

    status, job, _ = call(client, "POST", f"/campaigns/{campaign['id']}/notify", staff_headers, {})
    assert status == 202
    notified = drive(pump, actor.tenant_id, job["id"])
    without_mail = len(made["no_mail"])
    assert (notified.done, notified.failed) == (affected - without_mail, without_mail)
    counts = call(client, "GET", f"/campaigns/{campaign['id']}/counts", staff_headers)[1]
    assert counts["mail_sent"] == affected - without_mail and counts["not_notified"] == without_mail
    again = drive(pump, actor.tenant_id, call(client, "POST", f"/campaigns/{campaign['id']}/notify", staff_headers,
                                              {})[1]["id"])
    assert again.done == 0  # nobody notified twice

    rows = _all_rows(client, staff_headers, f"/campaigns/{campaign['id']}/customers?limit=50")
    assert len(rows) == affected and len({row["order_id"] for row in rows}) == affected
    by_order = {row["order_id"]: row for row in rows}
    assert made["cancelled_before"][0].id not in by_order and made["other"][0].id not in by_order
    one = by_order[made["cheque"][1].id]  # order 4: one full-price ticket
    assert (one["kind"], one["show_id"], one["performance_id"]) == ("cancellation", world.show.id, world.evening.id)
    assert one["state"] == "mail_sent" and one["state_label"] == "Mail envoyé" and one["delivery"] == "sent"
    assert one["deadline_passed"] is False and one["refund_url"].split("/p/refund/")[1]
    assert one["ticket_count"] == 1 and one["amount_cents"] == 3200 and one["notified_at"]
    assert by_order[partly.id]["ticket_count"] == 1
    assert by_order[made["invoice"][0].id]["amount_cents"] == 0  # unpaid: nothing to give back

    # Deliveries and bounces, as SES reports them through SNS.
    bounced = [by_order[order.id] for order in made["cash"][:6]]
    for row in rows:
        if row["email"] and row not in bounced:
            _ses(actor, row, "delivery")
    for row in bounced:
        _ses(actor, row, "bounce_permanent")
    statuses = {r["order_id"]: r["delivery"] for r in _all_rows(client, staff_headers,
                                                               f"/campaigns/{campaign['id']}/customers?limit=100")}
    assert statuses[bounced[0]["order_id"]] == "bounced_permanent" and statuses[one["order_id"]] == "delivered"

    # Reads: a scanner right at delivery and a HEAD do not count; the spectator a minute later does.
    # The clock is pinned a few seconds after this customer's notice: on a slow machine the whole
    # campaign above can take longer than the scanner window in real time.
    page = one["refund_url"].split("/p/refund/")[1]
    clock.set_clock(clock.frozen_at(datetime.fromisoformat(one["notified_at"]) + timedelta(seconds=5)))
    try:
        scanned = client.request("GET", f"/p/refund/{page}", headers={"User-Agent": BROWSER})
        assert scanned.status_code == 200  # within seconds of the notice: a gateway's fetch, not a read
        clock.advance(timedelta(minutes=2))
        assert client.request("HEAD", f"/p/refund/{page}", headers={"User-Agent": BROWSER}).status_code == 200
        assert client.request("GET", f"/p/refund/{page}",
                              headers={"User-Agent": "Mozilla/5.0 (compatible; Barracuda Sentinel)"}).status_code == 200
        assert _state(client, staff_headers, campaign, one) == "mail_sent"
        readers = [by_order[o.id] for o in made["cheque"][:40] + made["cash"][6:46]]
        for row in readers:
            token = row["refund_url"].split("/p/refund/")[1]
            assert client.request("GET", f"/p/refund/{token}", headers={"User-Agent": BROWSER}).status_code == 200
        choosers = readers[:30]
        for index, row in enumerate(choosers):
            _choose(client, row, ("credit", "donation", "refund")[index % 3])
    finally:
        clock.set_clock(None)

    counts = call(client, "GET", f"/campaigns/{campaign['id']}/counts", staff_headers)[1]
    assert counts["made_choices"] == 30 and counts["mail_read"] == 50
    chosen = call(client, "GET", f"/campaigns/{campaign['id']}/customers?state=made_choices&limit=100",
                  staff_headers)[1]["items"]
    assert {row["choice"] for row in chosen} == {"credit", "donation", "refund"}
    assert {row["chosen_by"] for row in chosen} == {"spectator"}
    assert orders.get_order(actor, choosers[2]["order_id"]).refunded_cents > 0

    found = _all_rows(client, staff_headers, f"/campaigns/{campaign['id']}/customers?q=Dupónt017&limit=40")
    assert [row["buyer_name"] for row in found] == ["Client Dupont017"]
    number = call(client, "GET", f"/campaigns/{campaign['id']}/customers?q={one['order_number']}",
                  staff_headers)[1]["items"]
    assert [row["order_id"] for row in number] == [one["order_id"]]
    across = _all_rows(client, staff_headers, f"/affected-customers?performance_id={world.evening.id}&"
                                              f"state=made_choices&limit=7")
    assert len(across) == 30

    # Reset: those still in "mail sent" go back to "not notified"; readers and choosers stay.
    reset = drive(pump, actor.tenant_id, call(client, "POST", f"/campaigns/{campaign['id']}/reset",
                                              staff_headers)[1]["id"])
    still_sent = affected - without_mail - 80
    assert reset.done == still_sent
    counts = call(client, "GET", f"/campaigns/{campaign['id']}/counts", staff_headers)[1]
    assert counts == {"not_notified": without_mail + still_sent, "mail_sent": 0, "mail_read": 50, "made_choices": 30}

    # Resend one bounced customer to a corrected address.
    status, resent, _ = call(client, "POST", f"/campaigns/{campaign['id']}/customers/{bounced[0]['order_id']}/resend",
                             staff_headers, {"address": "Corrige@Exemple.fr"})
    assert status == 200, resent
    assert resent["email"] == "Corrige@exemple.fr" and resent["state"] == "mail_sent" and resent["delivery"] == "sent"
    history = call(client, "GET", f"/audit/campaign_customer/{campaign['id']}.{bounced[0]['order_id']}",
                   staff_headers)[1]["items"]
    assert history[-1]["action"] == "resend"


def _ses(actor, row, event):
    notification_id = _notification_of(actor, row)
    message = ses_event(event, actor.tenant_id, notification_id, row["email"])
    mail_events.apply_sns_record(str(uuid.uuid4()), json.dumps(message))


def _notification_of(actor, row) -> str:
    from chalicelib.services.campaigns import affected_customers

    return affected_customers.get_customer(actor, row["campaign_id"], row["order_id"]).notification_id


def _state(client, headers, campaign, row) -> str:
    rows = call(client, "GET", f"/campaigns/{campaign['id']}/customers?q={row['order_number']}", headers)[1]["items"]
    return rows[0]["state"]


def _choose(client, row, choice):
    """The spectator's form, as a browser posts it (the anti-forgery value read from the page)."""
    import re
    from urllib.parse import urlencode

    token = row["refund_url"].split("/p/refund/")[1]
    html = client.request("GET", f"/p/refund/{token}", headers={"User-Agent": BROWSER}).body.decode()
    form_value = re.search(r'name="form" value="([^"]+)"', html).group(1)
    fields = {"form": form_value, "choice": choice}
    if choice == "refund" and 'name="iban"' in html:
        fields.update(iban="FR7630006000011234567890189", holder="Client")
    answer = client.request("POST", f"/p/refund/{token}", body=urlencode(fields).encode(),
                            headers={"User-Agent": BROWSER, "Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200, answer.body.decode()[:2000]


def _all_rows(client, headers, path) -> list[dict]:
    rows, cursor = [], None
    while True:
        status, page, _ = call(client, "GET", path + (f"&cursor={cursor}" if cursor else ""), headers)
        assert status == 200, page
        rows += page["items"]
        cursor = page["next_cursor"]
        if not cursor:
            return rows


def test_staff_acting_for_a_customer_choose_for_them_without_counting_a_read(client, staff_headers, world, actor,
                                                                            pump):
    import re
    from urllib.parse import urlencode, urlsplit

    order, _ = orders.place_order(actor, draft(world, payment_type="cash",
                                               buyer={"last_name": "Martin", "email": "martin@exemple.fr"}))
    deadline = (clock.now() + timedelta(days=10)).isoformat()
    campaign = call(client, "POST", "/campaigns", staff_headers, {"performance_id": world.evening.id,
                                                                  "kind": "cancellation",
                                                                  "refund_deadline": deadline})[1]
    drive(pump, actor.tenant_id, campaign["build_job_id"])
    status, link, _ = call(client, "POST", f"/campaigns/{campaign['id']}/customers/{order.id}/act-for", staff_headers)
    assert status == 200 and "?staff=" in link["url"]
    address = urlsplit(link["url"])
    page = client.request("GET", f"{address.path}?{address.query}", headers={"User-Agent": BROWSER})
    html = page.body.decode()
    assert "Vous agissez pour ce client" in html
    form = re.search(r'name="form" value="([^"]+)"', html).group(1)
    action = re.search(r'<form method="post" action="([^"]+)"', html).group(1).replace("&amp;", "&")
    answer = client.request("POST", f"{address.path}{action}", body=urlencode({"form": form, "choice": "credit"}).encode(),
                            headers={"User-Agent": BROWSER, "Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200
    row = call(client, "GET", f"/campaigns/{campaign['id']}/customers?q={order.number}", staff_headers)[1]["items"][0]
    assert (row["state"], row["choice"], row["chosen_by"], row["read_at"]) == ("made_choices", "credit",
                                                                               "staff:staff-1", None)
    history = call(client, "GET", f"/audit/campaign_customer/{campaign['id']}.{order.id}", staff_headers)[1]["items"]
    assert [event["action"] for event in history] == ["act-for", "choice"]


def test_notifying_selected_customers_tells_only_them_and_once(client, staff_headers, world, actor, pump):
    placed = [orders.place_order(actor, draft(world, payment_type="cash", buyer={
        "last_name": f"Choisi{index}", "email": f"choisi{index}@exemple.fr"}))[0] for index in range(3)]
    deadline = (clock.now() + timedelta(days=10)).isoformat()
    campaign = call(client, "POST", "/campaigns", staff_headers, {"performance_id": world.evening.id,
                                                                  "kind": "cancellation",
                                                                  "refund_deadline": deadline})[1]
    drive(pump, actor.tenant_id, campaign["build_job_id"])
    chosen = {"order_ids": [placed[0].id, placed[2].id]}
    first = drive(pump, actor.tenant_id, call(client, "POST", f"/campaigns/{campaign['id']}/notify", staff_headers,
                                              chosen)[1]["id"])
    assert (first.done, first.skipped, first.total) == (2, 0, 2)
    states = {row["order_id"]: row["state"] for row in call(
        client, "GET", f"/campaigns/{campaign['id']}/customers", staff_headers)[1]["items"]}
    assert states == {placed[0].id: "mail_sent", placed[1].id: "not_notified", placed[2].id: "mail_sent"}
    again = drive(pump, actor.tenant_id, call(client, "POST", f"/campaigns/{campaign['id']}/notify", staff_headers,
                                              chosen)[1]["id"])
    assert (again.done, again.skipped) == (0, 2)
