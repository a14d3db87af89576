"""Privacy requests: everything held on a person, then erasing them, while the accounting stays.
After the erasure nothing personal is found anywhere (search, orders, mails, audit trail, the
person's own export), the amounts and documents are as they were, and the record refuses use."""
from __future__ import annotations

import json
from datetime import timedelta

from chalicelib.adapters import clock
from chalicelib.models.audit import AuditEvent
from chalicelib.models.base import tenant_key
from chalicelib.services.contacts import contacts, mailing_lists, search
from chalicelib.services.mail import notifications
from chalicelib.services.money import customer_money
from chalicelib.services.orders import orders
from chalicelib.services.orders.listing import search_orders
from tests.api.helpers import assert_problem, call
from tests.job_helpers import drive
from tests.orders_world import build_world, draft, line


def test_access_then_erasure_keeps_the_accounting_and_nothing_personal(client, staff_headers, admin_headers, actor,
                                                                      pump):
    world = build_world(actor)
    mailing_lists.lists.create(actor, {"name": "Lettre", "newsletter": True})
    person = contacts.create_contact(actor, {
        "first_name": "Bénédicte", "last_name": "Zorglub", "phones": [{"number": "+33612345678"}],
        "emails": [{"address": "benedicte.zorglub@exemple.fr", "newsletter_consent": True}],
        "addresses": [{"line1": "7 rue Mercière", "postcode": "69002", "city": "Lyon"}], "criteria": {"Note": "allergie"}})
    buyer = {"contact_id": person.id, "first_name": "Bénédicte", "last_name": "Zorglub",
             "email": "benedicte.zorglub@exemple.fr", "address_line1": "7 rue Mercière", "city": "Lyon"}
    paid, _ = orders.place_order(actor, draft(world, line(world, attendee_name="Bénédicte Zorglub"),
                                               line(world, world.reduced), payment_type="cash", buyer=buyer))
    held, _ = orders.place_order(actor, draft(world, line(world), kind="option", payment_type="cheque",
                                               deadline=clock.now() + timedelta(days=5), buyer=buyer))
    customer_money.credit_tickets(actor, paid.id, [2])

    assert call(client, "GET", f"/contacts/{person.id}/personal-data", staff_headers)[0] == 403
    status, held_data, _ = call(client, "GET", f"/contacts/{person.id}/personal-data", admin_headers)
    assert status == 200, held_data
    text = json.dumps(held_data, ensure_ascii=False)
    assert "benedicte.zorglub@exemple.fr" in text and "allergie" in text and "Bénédicte Zorglub" in text
    assert {o["order"]["id"] for o in held_data["orders"]} == {paid.id, held.id}
    assert held_data["mails"] and held_data["mailing_lists"][0]["history"]
    assert held_data["credit"]["account"]["balance_cents"] == 2100 and held_data["capped"] == []

    status, job, _ = call(client, "POST", f"/contacts/{person.id}/erase", admin_headers, {"reason": "demande du 3/12"})
    assert status == 202, job
    assert drive(pump, actor.tenant_id, job["id"]).outcomes["orders_erased"] == 2

    erased = contacts.get_contact(actor, person.id)
    assert (erased.last_name, erased.emails, erased.phones, erased.addresses) == ("Effacé", [], [], [])
    assert erased.erased_at and not erased.criteria.as_dict()
    for query in ("zorglub", "benedicte.zorglub@exemple.fr", "06 12 34 56 78"):
        assert search.search(actor, query, limit=10, cursor=None).items == []
    assert search_orders(actor, "zorglub", limit=10, cursor=None).items == []
    order = orders.get_order(actor, paid.id)
    assert (order.buyer.last_name, order.buyer.email, order.buyer.address_line1) == ("Client effacé", None, None)
    assert (order.total_cents, order.status, order.paid_cents) == (paid.total_cents, "partially_complete",
                                                                    paid.total_cents)  # the accounting stays
    assert {ticket.attendee_name for ticket in orders.tickets_of(order)} == {None}
    assert customer_money.credit_account(actor, person.id).balance_cents == 2100
    mails = notifications.of_entity(actor, "order", paid.id, limit=10, cursor=None).items
    assert mails and all(mail.subject is None and "zorglub" not in mail.recipient for mail in mails)
    trail = json.dumps([e.before for e in AuditEvent.query(tenant_key(actor.tenant_id, "contact", person.id))] +
                       [e.after for e in AuditEvent.query(tenant_key(actor.tenant_id, "order", paid.id))],
                       ensure_ascii=False)
    assert "Zorglub" not in trail and "benedicte" not in trail
    assert mailing_lists.memberships(actor, person.id) == []
    after = json.dumps(call(client, "GET", f"/contacts/{person.id}/personal-data", admin_headers)[1],
                       ensure_ascii=False)
    assert "Zorglub" not in after and "benedicte" not in after

    assert_problem(call(client, "PATCH", f"/contacts/{person.id}", staff_headers, {"language": "en"}), 409)
    assert_problem(call(client, "POST", "/orders", staff_headers, draft(world, line(world), buyer={
        "contact_id": person.id, "last_name": "X"})), 422, "buyer.contact_id")
    newcomer = contacts.create_contact(actor, {"last_name": "Neuf", "emails": [{"address": "benedicte.zorglub@exemple.fr"}]})
    assert newcomer.id != person.id  # the e-mail is free again
    again = call(client, "POST", f"/contacts/{person.id}/erase", admin_headers, {"reason": "deux fois"})[1]
    assert drive(pump, actor.tenant_id, again["id"]).status == "succeeded"
