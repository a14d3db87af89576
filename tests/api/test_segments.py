"""Segments through the API: staff's saved rules over the record, membership as the record is
read (following every change at once), and the members as a CSV file a job writes."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
import requests

from chalicelib.services.catalog import catalog
from chalicelib.services.contacts import contacts
from chalicelib.services.customers import privacy
from chalicelib.services.money import customer_money
from chalicelib.services.orders import orders
from tests.api.helpers import assert_problem, call
from tests.conftest import new_tenant_id
from tests.job_helpers import drive
from tests.orders_world import build_world, draft, line


@pytest.fixture
def world(actor):
    return build_world(actor, capacity=60)


def _person(actor, first: str, last: str, **fields):
    return contacts.create_contact(actor, {"first_name": first, "last_name": last,
                                           "emails": [{"address": f"{first.lower()}.{last.lower()}@exemple.fr"}],
                                           **fields})


def _buy(actor, world, person, *lines, **fields):
    buyer = {"contact_id": person.id, "first_name": person.first_name, "last_name": person.last_name,
             "email": person.emails[0].address}
    return orders.place_order(actor, draft(world, *lines, buyer=buyer, **fields))[0]


def _segment(client, headers, name: str, *rules: dict) -> dict:
    status, segment, _ = call(client, "POST", "/segments", headers, {"name": name, "rules": list(rules)})
    assert status == 201, segment
    return segment


def _segments_of(client, headers, person) -> list[str]:
    status, record, _ = call(client, "GET", f"/contacts/{person.id}/record", headers)
    assert status == 200, record
    return [segment["name"] for segment in record["segments"]]


def test_each_rule_and_its_negation_as_the_record_shows_them(client, staff_headers, actor, world):
    lyon = {"line1": "3 rue de la République", "postcode": "69002", "city": "Lyon"}
    claire = _person(actor, "Claire", "Petit", addresses=[lyon], criteria={"Fidèle": "Oui"})
    john = _person(actor, "John", "Smith", language="en",
                   addresses=[{"line1": "1 rue de Rivoli", "postcode": "75001", "city": "Paris"}])
    paid = _buy(actor, world, claire, line(world), line(world, world.reduced), line(world), payment_type="cash")
    customer_money.credit_tickets(actor, paid.id, [1])  # 32,00 € of credit
    customer_money.donate_tickets(actor, paid.id, [2])  # 21,00 € given; the third ticket is still held
    _segment(client, staff_headers, "Fidèles", {"kind": "criterion", "name": "fidele", "value": "OUI"})
    _segment(client, staff_headers, "Critère Fidèle", {"kind": "criterion", "name": "Fidèle"})
    _segment(client, staff_headers, "Anglophones", {"kind": "language", "language": "en"})
    _segment(client, staff_headers, "Rhône", {"kind": "postcode_prefix", "prefix": "69"})
    _segment(client, staff_headers, "Hors Rhône", {"kind": "postcode_prefix", "prefix": "69", "negated": True})
    _segment(client, staff_headers, "Public 2026-2027", {"kind": "bought_in_season", "season_id": world.show.season_id})
    _segment(client, staff_headers, "Avec avoir", {"kind": "has_credit"})
    _segment(client, staff_headers, "Donateurs 20 €", {"kind": "donated_more_than", "amount_cents": 2000})
    _segment(client, staff_headers, "Donateurs 50 €", {"kind": "donated_more_than", "amount_cents": 5000})
    _segment(client, staff_headers, "Abonnés", {"kind": "subscriber"})
    _segment(client, staff_headers, "Lyonnais fidèles avec avoir", {"kind": "postcode_prefix", "prefix": "690"},
             {"kind": "criterion", "name": "Fidèle"}, {"kind": "has_credit"})
    # Donations are not credit, and a donation of 21,00 € is more than 20 and not more than 50.
    assert _segments_of(client, staff_headers, claire) == [
        "Avec avoir", "Critère Fidèle", "Donateurs 20 €", "Fidèles", "Lyonnais fidèles avec avoir",
        "Public 2026-2027", "Rhône"]
    assert _segments_of(client, staff_headers, john) == ["Anglophones", "Hors Rhône"]


def test_membership_follows_every_change_at_once(client, staff_headers, actor, world):
    claire = _person(actor, "Claire", "Petit")
    _segment(client, staff_headers, "Public 2026-2027", {"kind": "bought_in_season", "season_id": world.show.season_id})
    _segment(client, staff_headers, "Avec avoir", {"kind": "has_credit"})
    _segment(client, staff_headers, "Abonnés", {"kind": "subscriber"})
    assert _segments_of(client, staff_headers, claire) == []
    unpaid = _buy(actor, world, claire, line(world), payment_type="invoice")
    assert _segments_of(client, staff_headers, claire) == []  # an unpaid order is not a purchase yet
    orders.mark_paid(actor, unpaid.id)
    assert _segments_of(client, staff_headers, claire) == ["Public 2026-2027"]
    customer_money.credit_tickets(actor, unpaid.id, [1])  # the only ticket becomes credit: no purchase left
    assert _segments_of(client, staff_headers, claire) == ["Avec avoir"]
    contacts.record_system_fields(actor, claire.id, {"subscriber_number": "A-1042"})
    assert _segments_of(client, staff_headers, claire) == ["Abonnés", "Avec avoir"]


def test_segments_of_another_season_and_renamed_rules(client, staff_headers, actor, world):
    later = catalog.seasons.create(actor, {"name": "2027-2028", "starts_on": date(2027, 9, 1),
                                           "ends_on": date(2028, 6, 30)})
    claire = _person(actor, "Claire", "Petit")
    _buy(actor, world, claire, line(world), payment_type="cash")
    segment = _segment(client, staff_headers, "Public 2027-2028", {"kind": "bought_in_season", "season_id": later.id})
    assert _segments_of(client, staff_headers, claire) == []
    status, changed, _ = call(client, "PATCH", f"/segments/{segment['id']}", staff_headers, {
        "name": "Public 2026-2027", "rules": [{"kind": "bought_in_season", "season_id": world.show.season_id}]})
    assert status == 200, changed
    assert _segments_of(client, staff_headers, claire) == ["Public 2026-2027"]
    status, listed, _ = call(client, "GET", "/segments", staff_headers)
    assert [item["name"] for item in listed["items"]] == ["Public 2026-2027"]
    status, history, _ = call(client, "GET", f"/audit/segment/{segment['id']}", staff_headers)
    assert [event["action"] for event in history["items"]] == ["create", "update"]


def test_bad_rules_are_refused_and_nothing_is_written(client, staff_headers, actor, world):
    for rules, field in (([], "rules"), ([{"kind": "age", "min": 18}], "rules.0"),
                         ([{"kind": "language", "language": "de"}], "rules.0.language.language"),
                         ([{"kind": "postcode_prefix", "prefix": "69=1"}], "rules.0.postcode_prefix.prefix"),
                         ([{"kind": "donated_more_than", "amount_cents": -5}], "rules.0.donated_more_than.amount_cents"),
                         ([{"kind": "bought_in_season", "season_id": "01ARZ3NDEKTSV4RRFFQ69G5FAV"}],
                          "rules.0.season_id"),
                         ([{"kind": "has_credit"}] * 21, "rules")):
        problem = assert_problem(call(client, "POST", "/segments", staff_headers, {"name": "X", "rules": rules}), 422)
        assert any(error["field"].startswith(field) for error in problem["errors"]), (rules, problem["errors"])
    assert call(client, "GET", "/segments", staff_headers)[1]["items"] == []
    assert call(client, "GET", "/segments/01ARZ3NDEKTSV4RRFFQ69G5FAV", staff_headers)[0] == 404
    assert call(client, "POST", "/segments/01ARZ3NDEKTSV4RRFFQ69G5FAV/members/export", staff_headers)[0] == 404


def test_another_venues_season_is_not_a_rule(client, signer, actor, world):
    other_tenant = {"Authorization": f"Bearer {signer.mint(new_tenant_id(), ['staff'], 'intruder')}"}
    problem = assert_problem(call(client, "POST", "/segments", other_tenant, {
        "name": "X", "rules": [{"kind": "bought_in_season", "season_id": world.show.season_id}]}), 422)
    assert [error["field"] for error in problem["errors"]] == ["rules.0.season_id"]


def _members_file(client, headers, job_id: str) -> list[list[str]]:
    status, answer, _ = call(client, "GET", f"/jobs/{job_id}/download", headers)
    assert status == 200, answer
    response = requests.get(answer["url"], timeout=10)
    assert response.status_code == 200
    assert response.content.startswith(b"\xef\xbb\xbf")  # Excel in French reads it as UTF-8
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"), newline=""), delimiter=";"))


def test_the_members_file_lists_exactly_the_members_as_the_rules_stood(client, staff_headers, actor, world, pump,
                                                                       monkeypatch):
    from chalicelib.services.customers import segments

    monkeypatch.setattr(segments, "PAGE", 7)  # several pages of contacts
    lyon = [_person(actor, f"Prénom{n}", f"Lyonnais{n}",
                    addresses=[{"line1": f"{n} quai Saint-Antoine", "postcode": "69002", "city": "Lyon"}],
                    phones=[{"number": "+33612345678"}]) for n in range(12)]
    for n in range(9):
        _person(actor, f"Prénom{n}", f"Parisien{n}", addresses=[{"line1": "1 rue de Rivoli", "postcode": "75001",
                                                                 "city": "Paris"}])
    trap = _person(actor, "Éloïse", "=HYPERLINK(1)", addresses=[{"line1": "9 rue Mercière", "postcode": "69002",
                                                                  "city": "Lyon"}])
    for n in range(0, 12, 3):  # a third of the Lyonnais bought this season
        _buy(actor, world, lyon[n], line(world), payment_type="cash")
    _buy(actor, world, trap, line(world), payment_type="cash")
    segment = _segment(client, staff_headers, "Lyonnais de la saison",
                       {"kind": "postcode_prefix", "prefix": "69"},
                       {"kind": "bought_in_season", "season_id": world.show.season_id})
    merged = lyon[3]
    contacts.mark_merging(actor, lyon[0].id, merged.id)  # a record on its way into another is nobody's row
    status, job, _ = call(client, "POST", f"/segments/{segment['id']}/members/export", staff_headers)
    assert status == 202, job
    assert job["kind"] == "customers.segment_members" and job["params"]["file_name"].startswith("segment-")
    # Changed after the request: the file is the segment as staff asked for it.
    call(client, "PATCH", f"/segments/{segment['id']}", staff_headers, {"rules": [{"kind": "language",
                                                                                    "language": "en"}]})
    done = drive(pump, actor.tenant_id, job["id"])
    assert done.status == "succeeded", done.error
    rows = _members_file(client, staff_headers, job["id"])
    assert rows[0] == ["N° client", "Civilité", "Prénom", "Nom", "E-mail", "Accord lettre d'information", "Téléphone",
                       "Adresse", "Code postal", "Ville", "Pays", "Langue"]
    names = sorted(row[3] for row in rows[1:])
    assert names == sorted(["'=HYPERLINK(1)", "Lyonnais0", "Lyonnais6", "Lyonnais9"])
    by_name = {row[3]: row for row in rows[1:]}
    assert by_name["Lyonnais6"][4:] == ["prénom6.lyonnais6@exemple.fr", "non", "'+33612345678", "6 quai Saint-Antoine",
                                        "69002", "Lyon", "FR", "fr"]
    assert done.done == 4


def test_an_erased_person_is_in_no_segment_and_no_file(client, staff_headers, admin_headers, actor, world, pump):
    claire = _person(actor, "Claire", "Petit", language="en")
    segment = _segment(client, staff_headers, "Anglophones", {"kind": "language", "language": "en"})
    assert _segments_of(client, staff_headers, claire) == ["Anglophones"]
    privacy.start_erasure(actor, claire.id, reason="demande RGPD")
    _, job, _ = call(client, "POST", f"/segments/{segment['id']}/members/export", staff_headers)
    assert drive(pump, actor.tenant_id, job["id"]).status == "succeeded"
    assert _members_file(client, staff_headers, job["id"])[1:] == []
