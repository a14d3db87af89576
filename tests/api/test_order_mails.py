"""The mails orders send: the buyer's confirmation (with ticket types' custom messages) when
paid, once; team notifications for the chosen ticket types."""
from __future__ import annotations

import pytest

from chalicelib.services.catalog import catalog
from chalicelib.services.mail import notifications
from tests.api.helpers import assert_problem, call
from tests.orders_world import build_world, draft, line


@pytest.fixture
def world(actor):
    return build_world(actor)


def mails_of(actor, order_id):
    page = notifications.of_entity(actor, "order", order_id, limit=50, cursor=None)
    return sorted(page.items, key=lambda n: n.id)


def test_a_cash_sale_confirms_once_with_the_ticket_types_messages(client, staff_headers, world, actor):
    catalog.tariffs.update(actor, world.full_price.id, {"messages": {
        "confirmation": "Ouverture des portes 30 minutes avant le début.", "refund": "Remboursé sous 10 jours."}})
    status, order, _ = call(client, "POST", "/orders", staff_headers, draft(world))
    assert status == 201
    [confirmation] = mails_of(actor, order["id"])
    assert confirmation.template == "order_confirmation" and confirmation.recipient == "elodie@exemple.fr"
    assert confirmation.status == "sent" and confirmation.sender_name == "Théâtre des Célestins"
    assert confirmation.custom_message == "Ouverture des portes 30 minutes avant le début."
    assert confirmation.render_context["order_number"] == str(order["number"])
    assert "décembre 2026" in confirmation.render_context["performance_date"]


def test_a_cheque_order_is_confirmed_when_paid_with_the_payment_message(client, staff_headers, world, actor):
    catalog.tariffs.update(actor, world.full_price.id, {"messages": {
        "payment": "Merci pour votre chèque.", "confirmation": "Placement libre."}})
    _, order, _ = call(client, "POST", "/orders", staff_headers, draft(world, payment_type="cheque"))
    assert mails_of(actor, order["id"]) == []
    call(client, "POST", f"/orders/{order['id']}/mark-paid", staff_headers)
    [confirmation] = mails_of(actor, order["id"])
    assert confirmation.custom_message == "Merci pour votre chèque.\n\nPlacement libre."


def test_a_buyer_without_address_gets_no_mail_and_the_order_stands(client, staff_headers, world, actor):
    _, order, _ = call(client, "POST", "/orders", staff_headers, draft(world, buyer={"last_name": "Guichet"}))
    assert order["status"] == "complete" and mails_of(actor, order["id"]) == []


def test_team_rules_mail_staff_on_orders_of_their_ticket_types(client, admin_headers, world, actor):
    status, rule, _ = call(client, "POST", "/team-notifications", admin_headers, {
        "name": "Tarifs réduits", "addresses": ["billetterie@celestins.fr", "direction@celestins.fr"],
        "tariff_ids": [world.reduced.id]})
    assert status == 201, rule
    _, plain, _ = call(client, "POST", "/orders", admin_headers, draft(world))
    _, reduced, _ = call(client, "POST", "/orders", admin_headers, draft(world, line(world, world.reduced)))
    assert [m.template for m in mails_of(actor, plain["id"])] == ["order_confirmation"]
    team = [m for m in mails_of(actor, reduced["id"]) if m.template == "team_new_order"]
    assert sorted(m.recipient for m in team) == ["billetterie@celestins.fr", "direction@celestins.fr"]
    assert team[0].render_context["ticket_types"] == "Tarif réduit" and team[0].essential is False


def test_team_rules_refuse_unknown_ticket_types_and_need_admin(client, admin_headers, staff_headers, world):
    assert_problem(call(client, "POST", "/team-notifications", admin_headers, {
        "name": "x", "addresses": ["a@b.fr"], "tariff_ids": ["01ARZ3NDEKTSV4RRFFQ69G5FAV"]}), 422, "tariff_ids")
    assert_problem(call(client, "POST", "/team-notifications", admin_headers,
                        {"name": "x", "addresses": ["a@b.fr"]}), 422)
    assert_problem(call(client, "POST", "/team-notifications", staff_headers, {
        "name": "x", "addresses": ["a@b.fr"], "all_tariffs": True}), 403)
