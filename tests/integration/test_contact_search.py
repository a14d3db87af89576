"""Finding a customer by anything in their record, over the real token index: each field in the
writings staff type, several words narrowing, the order of a page, paging without repeats, the
index following every edit at once, and nothing of another venue."""
from __future__ import annotations

import pytest

from chalicelib.errors import InvalidInput
from chalicelib.models.contacts import ContactToken
from chalicelib.services.contacts import contacts, reindex, search
from chalicelib.services.jobs.framework import ChunkBudget
from chalicelib.services.orders import orders
from chalicelib.services.shared.actors import Actor
from tests.orders_world import build_world, draft, line


def found(actor, query, *, limit=50):
    """Every page's contacts, as (last name, first name), in the order shown."""
    names, cursor = [], None
    while True:
        page = search.search(actor, query, limit=limit, cursor=cursor)
        names += [(hit.contact.last_name, hit.contact.first_name) for hit in page.items]
        if not page.next_cursor:
            return names
        cursor = page.next_cursor


@pytest.fixture
def people(actor):
    made = {
        "claire": contacts.create_contact(actor, {
            "first_name": "Claire", "last_name": "Petit", "emails": [{"address": "claire.petit@orange.fr"}],
            "phones": [{"number": "06 12 34 56 78"}],
            "addresses": [{"line1": "12 rue de la République", "postcode": "69002", "city": "Lyon"}]}),
        "elodie": contacts.create_contact(actor, {
            "first_name": "Élodie", "last_name": "Lefèvre", "emails": [{"address": "elodie.l@free.fr"}],
            "phones": [{"number": "+33 7 81 22 33 44"}],
            "addresses": [{"line1": "4 quai Saint-Antoine", "postcode": "69100", "city": "Villeurbanne"}]}),
        "martin": contacts.create_contact(actor, {
            "first_name": "Léa", "last_name": "Martin", "addresses": [{"line1": "8 cours Vitton", "postcode": "75011",
                                                                      "city": "Paris"}]}),
        "street": contacts.create_contact(actor, {
            "first_name": "Hugo", "last_name": "Bernard",
            "addresses": [{"line1": "3 rue Saint-Martin", "postcode": "69001", "city": "Lyon"}]}),
    }
    contact = made["elodie"]
    contact.system_fields = {"customer_number": "AB-0042", "subscriber_number": "ABO 7781"}
    contacts.write_contact(actor, contact, action="system-number", before=None)
    return made


@pytest.mark.parametrize("query, who", [
    ("petit", ("Petit", "Claire")), ("PET", ("Petit", "Claire")), ("claire petit", ("Petit", "Claire")),
    ("petit claire", ("Petit", "Claire")), ("lefevre", ("Lefèvre", "Élodie")), ("lefè", ("Lefèvre", "Élodie")),
    ("élo", ("Lefèvre", "Élodie")), ("claire.petit@orange.fr", ("Petit", "Claire")),
    ("claire.pe", ("Petit", "Claire")), ("06 12 34 56 78", ("Petit", "Claire")),
    ("+33612345678", ("Petit", "Claire")), ("0033 6 12 34 56 78", ("Petit", "Claire")),
    ("06.12.34", ("Petit", "Claire")), ("07 81 22 33 44", ("Lefèvre", "Élodie")), ("69100", ("Lefèvre", "Élodie")),
    ("villeur", ("Lefèvre", "Élodie")), ("republique", ("Petit", "Claire")), ("antoine", ("Lefèvre", "Élodie")),
    ("AB-0042", ("Lefèvre", "Élodie")), ("abo 7781", ("Lefèvre", "Élodie")), ("vitton", ("Martin", "Léa"))])
def test_each_field_is_found_in_the_writings_staff_type(actor, people, query, who):
    assert found(actor, query) == [who]


def test_several_words_narrow_in_any_field(actor, people):
    assert found(actor, "lyon") == [("Bernard", "Hugo"), ("Petit", "Claire")]
    assert found(actor, "lyon petit") == [("Petit", "Claire")]
    assert found(actor, "martin paris") == [("Martin", "Léa")]
    assert found(actor, "martin lyon") == [("Bernard", "Hugo")]  # rue Saint-Martin
    assert found(actor, "petit paris") == []


def test_names_come_before_other_fields_and_exact_numbers_first(actor, people):
    assert found(actor, "martin") == [("Martin", "Léa"), ("Bernard", "Hugo")]
    world = build_world(actor)
    bought, _ = orders.place_order(actor, draft(world, line(world), buyer={
        "contact_id": people["martin"].id, "last_name": "Martin", "first_name": "Léa"}))
    assert found(actor, str(bought.number))[0] == ("Martin", "Léa")  # the buyer of that order


def test_pages_show_each_contact_once(actor):
    for index in range(23):
        contacts.create_contact(actor, {"last_name": "Martin", "first_name": f"Client{index:02d}",
                                        "addresses": [{"line1": "1 rue Martinet", "city": "Martigues"}]})
    names = found(actor, "mart", limit=5)
    assert len(names) == 23 == len(set(names))


def test_the_index_follows_every_edit_at_once(actor, people):
    claire = people["claire"]
    contacts.update_contact(actor, claire.id, {"last_name": "Durand", "phones": [{"number": "06 99 88 77 66"}]})
    assert found(actor, "petit") == [] and found(actor, "06 12 34 56 78") == []
    assert found(actor, "durand claire") == [("Durand", "Claire")] and found(actor, "0699 88") == [("Durand", "Claire")]
    entries = list(ContactToken.query(search._bucket(actor.tenant_id, "pe"), ContactToken.entry.startswith("petit#")))
    assert entries == []  # the old name's entry is gone, not merely hidden


def test_another_venue_finds_nothing_and_bad_queries_are_refused(actor, people):
    other = Actor("tenant-other-" + actor.tenant_id[-6:], "staff-2", frozenset({"staff"}))
    assert found(other, "petit") == [] and found(other, "06 12 34 56 78") == []
    for bad in ("a", "- -", "un deux trois quatre cinq six sept"):
        with pytest.raises(InvalidInput):
            search.search(actor, bad, limit=10, cursor=None)


def test_contacts_written_before_the_index_are_indexed_once_by_the_job(actor):
    from chalicelib.models.contacts import Contact

    contact = Contact(tenant_id=actor.tenant_id, id="01JD3X8Y7ZQ4P2M6N5K9R0T1VW", last_name="Ancien",
                      first_name="Client", search_name="ancien client")
    contact.save()  # as an older version of the app wrote it: no index entries
    assert found(actor, "ancien") == []
    run = reindex.reindex_chunk(actor, {}, None, ChunkBudget(job_id="j", seq=0, max_items=5, seconds=60))
    assert (run.cursor, run.done) == (None, 1)
    assert found(actor, "ancien") == [("Ancien", "Client")]
    again = reindex.reindex_chunk(actor, {}, None, ChunkBudget(job_id="j", seq=0, max_items=5, seconds=60))
    assert (again.done, again.skipped) == (0, 1)
