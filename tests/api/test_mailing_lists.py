"""Mailing lists: joining records the consent (when, how, by whom), leaving keeps it as history,
and a newsletter consent ticked on a contact's e-mail lands on the venue's newsletter lists."""
from __future__ import annotations

from tests.api.helpers import assert_problem, call


def test_a_newsletter_consent_lands_on_the_newsletter_list_with_its_proof(client, staff_headers):
    _, newsletter, _ = call(client, "POST", "/mailing-lists", staff_headers, {"name": "Lettre du théâtre",
                                                                             "newsletter": True})
    _, other, _ = call(client, "POST", "/mailing-lists", staff_headers, {"name": "Amis du théâtre"})
    status, contact, _ = call(client, "POST", "/contacts", staff_headers, {
        "last_name": "Petit", "emails": [{"address": "claire@exemple.fr", "newsletter_consent": True}]})
    assert status == 201
    [membership] = call(client, "GET", f"/contacts/{contact['id']}/mailing-lists", staff_headers)[1]["items"]
    assert membership["list_id"] == newsletter["id"] and membership["member"] is True
    [joined] = membership["history"]
    assert (joined["action"], joined["by"]) == ("joined", "staff-1") and "claire@exemple.fr" in joined["how"]

    call(client, "PATCH", f"/contacts/{contact['id']}", staff_headers,
         {"emails": [{"address": "claire@exemple.fr", "newsletter_consent": False}]})
    [membership] = call(client, "GET", f"/contacts/{contact['id']}/mailing-lists", staff_headers)[1]["items"]
    assert membership["member"] is False and [e["action"] for e in membership["history"]] == ["joined", "left"]

    path = f"/contacts/{contact['id']}/mailing-lists/{other['id']}"
    status, joined_by_hand, _ = call(client, "POST", f"{path}/join", staff_headers, {"how": "formulaire signé au guichet"})
    assert status == 200 and joined_by_hand["member"] is True
    again = call(client, "POST", f"{path}/join", staff_headers, {"how": "deux fois"})[1]
    assert len(again["history"]) == 1  # already on it: nothing recorded twice
    left = call(client, "POST", f"{path}/leave", staff_headers, {"how": "demande par téléphone"})[1]
    assert [e["how"] for e in left["history"]] == ["formulaire signé au guichet", "demande par téléphone"]

    members = call(client, "GET", f"/mailing-lists/{newsletter['id']}/members", staff_headers)[1]["items"]
    assert [(m["contact_id"], m["member"]) for m in members] == [(contact["id"], False)]
    record = call(client, "GET", f"/contacts/{contact['id']}/record", staff_headers)[1]
    assert {m["list_id"] for m in record["mailing_lists"]} == {newsletter["id"], other["id"]}
    assert call(client, "GET", "/mailing-lists/01ARZ3NDEKTSV4RRFFQ69G5FAV/members", staff_headers)[0] == 404
    assert_problem(call(client, "POST", f"/contacts/{contact['id']}/mailing-lists/01ARZ3NDEKTSV4RRFFQ69G5FAV/join",
                        staff_headers, {}), 404)
