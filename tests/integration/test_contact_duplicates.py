"""One e-mail, one customer: creating or editing a contact to an e-mail another contact of the
venue has is a 409 naming that contact, even when two staff do it at the same time; an e-mail
given up is free again; a settlement finds the buyer's record by their e-mail instead of making
a second one."""
from __future__ import annotations

import threading

import pytest

from chalicelib.errors import Duplicate
from chalicelib.models.contacts import Contact
from chalicelib.services.contacts import contacts
from chalicelib.services.money import customer_money
from chalicelib.services.orders import orders
from tests.api.helpers import assert_problem, call
from tests.orders_world import build_world, draft, line


def test_a_second_contact_with_an_e_mail_is_a_409_naming_the_first(client, staff_headers):
    status, first, _ = call(client, "POST", "/contacts", staff_headers,
                            {"last_name": "Petit", "emails": [{"address": "claire@exemple.fr"}]})
    assert status == 201
    problem = assert_problem(call(client, "POST", "/contacts", staff_headers, {
        "last_name": "Petit", "emails": [{"address": "autre@exemple.fr"}, {"address": "Claire@Exemple.fr"}]}),
        409, "emails.1")
    assert problem["type"] == "/problems/duplicate-contact" and first["id"] in problem["detail"]


def test_an_edit_cannot_take_anothers_e_mail_and_one_given_up_is_free_again(actor):
    first = contacts.create_contact(actor, {"last_name": "Un", "emails": [{"address": "un@exemple.fr"}]})
    second = contacts.create_contact(actor, {"last_name": "Deux", "emails": [{"address": "deux@exemple.fr"}]})
    with pytest.raises(Duplicate) as refused:
        contacts.update_contact(actor, second.id, {"emails": [{"address": "UN@exemple.fr"}]})
    assert first.id in refused.value.detail
    assert [e.address for e in contacts.get_contact(actor, second.id).emails] == ["deux@exemple.fr"]
    contacts.update_contact(actor, first.id, {"emails": [{"address": "un.nouveau@exemple.fr"}]})
    contacts.update_contact(actor, second.id, {"emails": [{"address": "un@exemple.fr"}]})  # free again
    assert contacts.contact_with_email(actor.tenant_id, "un@exemple.fr") == second.id
    assert contacts.contact_with_email(actor.tenant_id, "deux@exemple.fr") is None


def test_two_staff_creating_the_same_customer_at_once_make_one(actor):
    barrier, made, refused = threading.Barrier(6), [], []

    def create():
        barrier.wait()
        try:
            made.append(contacts.create_contact(actor, {"last_name": "Martin", "emails": [{"address": "lea@exemple.fr"}]}))
        except Duplicate:
            refused.append(True)

    threads = [threading.Thread(target=create) for _ in range(6)]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    assert (len(made), len(refused)) == (1, 5)
    assert len(list(Contact.query(actor.tenant_id))) == 1


def test_a_credit_lands_on_the_customer_who_has_the_buyers_e_mail(actor):
    world = build_world(actor)
    known = contacts.create_contact(actor, {"last_name": "Petit", "emails": [{"address": "claire@exemple.fr"}]})
    order, _ = orders.place_order(actor, draft(world, line(world), payment_type="cash", buyer={
        "last_name": "Petit", "email": "Claire@exemple.fr"}))  # bought without naming the record
    customer_money.credit_tickets(actor, order.id, [1])
    assert orders.get_order(actor, order.id).buyer.contact_id == known.id
    assert customer_money.credit_account(actor, known.id).balance_cents == 3200
    assert [contact.id for contact in Contact.query(actor.tenant_id)] == [known.id]
