"""Contacts through the API: create, read, edit, find by name; system-filled facts survive edits."""
from __future__ import annotations

import json

from tests.api.helpers import assert_problem, call

ELODIE = {
    "title": "Mme", "first_name": "Élodie", "last_name": "Lefèvre", "language": "fr",
    "emails": [{"address": "elodie@Exemple.FR", "newsletter_consent": True}],
    "phones": [{"number": "+33 6 12 34 56 78"}],
    "addresses": [{"line1": "3 rue de la République", "postcode": "69002", "city": "Lyon"}],
    "criteria": {"Stop automatic renewal": "yes"},
}


def test_create_and_read_a_contact(client, staff_headers):
    status, contact, _ = call(client, "POST", "/contacts", staff_headers, ELODIE)
    assert status == 201
    assert contact["emails"][0] == {"address": "elodie@exemple.fr", "newsletter_consent": True,
                                    "undeliverable": False, "complained": False,
                                    "delivery_note": None, "delivery_noted_at": None}
    assert contact["criteria"] == {"Stop automatic renewal": "yes"}
    status, read, _ = call(client, "GET", f"/contacts/{contact['id']}", staff_headers)
    assert status == 200 and read["last_name"] == "Lefèvre" and read["addresses"][0]["city"] == "Lyon"


def test_find_by_name_prefix_ignores_accents_and_case(client, staff_headers):
    for last, first in [("Lefèvre", "Élodie"), ("Lefebvre", "Marc"), ("Martin", "Léa")]:
        call(client, "POST", "/contacts", staff_headers, {"last_name": last, "first_name": first})
    _, found, _ = call(client, "GET", "/contacts?name=LEFE", staff_headers)
    assert sorted(c["last_name"] for c in found["items"]) == ["Lefebvre", "Lefèvre"]
    _, found, _ = call(client, "GET", "/contacts?name=lefevre%20elo", staff_headers)
    assert [c["first_name"] for c in found["items"]] == ["Élodie"]


def test_edit_keeps_system_filled_facts_and_merges_criteria(client, staff_headers, actor):
    from chalicelib.services.contacts import contacts

    _, created, _ = call(client, "POST", "/contacts", staff_headers, ELODIE)
    # The mail pipeline (not staff) learns the address bounces and a subscriber number is issued.
    contact = contacts.get_contact(actor, created["id"])
    contact.update(actions=[contacts.Contact.emails[0].undeliverable.set(True),
                            contacts.Contact.system_fields["subscriber_number"].set("AB-0042")])

    status, edited, _ = call(client, "PATCH", f"/contacts/{created['id']}", staff_headers, {
        "first_name": "Elodie",
        "emails": [{"address": "elodie@exemple.fr", "newsletter_consent": False}, {"address": "e.l@autre.fr"}],
        "criteria": {"Stop automatic renewal": None, "Stop subscription 1": "yes"},
    })
    assert status == 200, edited
    assert edited["emails"][0]["undeliverable"] is True and edited["emails"][0]["newsletter_consent"] is False
    assert edited["emails"][1]["undeliverable"] is False
    assert edited["system_fields"] == {"subscriber_number": "AB-0042"}
    assert edited["criteria"] == {"Stop subscription 1": "yes"}
    assert edited["last_name"] == "Lefèvre"
    _, found, _ = call(client, "GET", "/contacts?name=lefevre%20elodie", staff_headers)
    assert [c["id"] for c in found["items"]] == [created["id"]]


def test_system_fields_cannot_be_written_by_staff(client, staff_headers):
    _, created, _ = call(client, "POST", "/contacts", staff_headers, {"last_name": "Martin"})
    assert_problem(call(client, "PATCH", f"/contacts/{created['id']}", staff_headers,
                        {"system_fields": {"subscriber_number": "X"}}), 422, "system_fields")
    assert_problem(call(client, "POST", "/contacts", staff_headers,
                        {"last_name": "Martin", "emails": [{"address": "a@b.fr", "undeliverable": True}]}),
                   422, "emails.0.undeliverable")


def test_bad_contact_input_is_refused_and_nothing_written(client, staff_headers):
    cases = [
        ({"first_name": "Sans nom"}, "last_name"),
        ({"last_name": "X", "emails": [{"address": "not-an-address"}]}, "emails.0.address"),
        ({"last_name": "X", "emails": [{"address": "a@b"}]}, "emails.0.address"),
        ({"last_name": "X", "language": "de"}, "language"),
        ({"last_name": "X", "title": "Sir"}, "title"),
        ({"last_name": "X", "phones": [{"number": "call me"}]}, "phones.0.number"),
        ({"last_name": "X" * 201}, "last_name"),
        ({"last_name": "X", "criteria": {"k": "v" * 201}}, "criteria"),
        ({"last_name": "X", "emails": "a@b.fr"}, "emails"),
    ]
    for payload, field in cases:
        assert_problem(call(client, "POST", "/contacts", staff_headers, payload), 422, field)
    _, listing, _ = call(client, "GET", "/contacts", staff_headers)
    assert listing["items"] == []


def test_search_by_anything_through_the_api_and_its_bad_input(client, staff_headers, admin_headers, pump):
    status, created, _ = call(client, "POST", "/contacts", staff_headers, ELODIE)
    assert created["phones"][0]["number"] == "+33612345678"  # kept in E.164 whatever the writing
    for query in ("lefevre%20elodie", "06%2012%2034%2056%2078", "elodie%40exemple.fr", "69002", "republique"):
        status, page, _ = call(client, "GET", f"/contacts?q={query}", staff_headers)
        assert status == 200 and [c["id"] for c in page["items"]] == [created["id"]], query
    assert_problem(call(client, "GET", "/contacts?q=e", staff_headers), 422, "q")
    assert_problem(call(client, "GET", "/contacts?q=lef&name=lef", staff_headers), 422)
    body = assert_problem(call(client, "POST", "/contacts", staff_headers,
                               {"last_name": "X", "phones": [{"number": "06 12"}]}), 422, "phones.0.number")
    assert "06 12 34 56 78" in json.dumps(body)  # says which writing is expected
    status, job, _ = call(client, "POST", "/contacts/reindex", admin_headers, {})
    assert status == 202 and job["kind"] == "contacts.reindex"
    assert call(client, "POST", "/contacts/reindex", staff_headers, {})[0] == 403


def test_an_edit_made_from_an_older_read_is_refused_and_nothing_written(actor):
    import pytest

    from chalicelib.errors import ConcurrentChange
    from chalicelib.services.contacts import contacts

    made = contacts.create_contact(actor, {"last_name": "Roux"})
    read = made.version
    contacts.update_contact(actor, made.id, {"first_name": "Agnès"})
    with pytest.raises(ConcurrentChange):
        contacts.update_contact(actor, made.id, {"first_name": "Anne"}, read_at_version=read)
    now = contacts.get_contact(actor, made.id)
    assert now.first_name == "Agnès"
    assert contacts.update_contact(actor, made.id, {"first_name": "Anne"}, read_at_version=now.version).first_name == "Anne"
