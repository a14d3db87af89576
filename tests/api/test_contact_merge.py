"""Merging two records of one customer through the API: orders (an open option's lines too),
credit, donations, e-mails with their consent, phones, addresses and criteria move to the kept
record; the other redirects, refuses edits and new orders, and leaves search; twice is once."""
from __future__ import annotations

from datetime import timedelta

from chalicelib.adapters import clock
from chalicelib.services.contacts import contacts, mailing_lists, search
from chalicelib.services.money import customer_money
from chalicelib.services.orders import follow_up, orders
from tests.api.helpers import assert_problem, call
from tests.job_helpers import drive
from tests.orders_world import build_world, draft, line


def _order(actor, world, contact, **fields):
    buyer = {"contact_id": contact.id, "last_name": contact.last_name, "first_name": contact.first_name}
    return orders.place_order(actor, draft(world, line(world), buyer=buyer, **fields))[0]


def test_a_merge_moves_everything_and_twice_is_once(client, staff_headers, actor, pump):
    world = build_world(actor)
    newsletter = mailing_lists.lists.create(actor, {"name": "Lettre", "newsletter": True})
    kept = contacts.create_contact(actor, {"first_name": "Claire", "last_name": "Petit",
                                           "emails": [{"address": "claire@exemple.fr"}], "criteria": {"VIP": "oui"}})
    other = contacts.create_contact(actor, {
        "first_name": "Claire", "last_name": "Petit-Durand",
        "emails": [{"address": "c.petit@travail.fr", "newsletter_consent": True}],
        "phones": [{"number": "+33612345678"}], "criteria": {"VIP": "non", "Abonnée": "2024"},
        "addresses": [{"line1": "3 rue Mercière", "postcode": "69002", "city": "Lyon"}]})
    mine = _order(actor, world, kept, payment_type="cash")
    theirs = _order(actor, world, other, payment_type="cash")
    held = _order(actor, world, other, kind="option", payment_type="cheque", deadline=clock.now() + timedelta(days=3))
    customer_money.credit_tickets(actor, theirs.id, [1])
    gift = _order(actor, world, other, payment_type="cash")
    customer_money.donate_tickets(actor, gift.id, [1])

    status, job, _ = call(client, "POST", f"/contacts/{kept.id}/merge", staff_headers, {"other_id": other.id})
    assert status == 202, job
    done = drive(pump, actor.tenant_id, job["id"])
    assert done.status == "succeeded" and done.outcomes == {"orders_moved": 3, "donations_moved": 1,
                                                          "lists_moved": 1, "credit_moved_cents": 3200}
    [membership] = mailing_lists.memberships(actor, kept.id)
    assert membership.list_id == newsletter.id and membership.member and len(membership.history) == 1
    status, record, _ = call(client, "GET", f"/contacts/{kept.id}/record", staff_headers)
    assert {row["order_id"] for row in record["bookings"]["items"]} == {mine.id, theirs.id, held.id, gift.id}
    assert record["credit"]["account"]["balance_cents"] == 3200
    assert [d["order_id"] for d in record["donations"]["items"]] == [gift.id]
    merged = record["contact"]
    assert [e["address"] for e in merged["emails"]] == ["claire@exemple.fr", "c.petit@travail.fr"]
    assert merged["emails"][1]["newsletter_consent"] is True and merged["phones"][0]["number"] == "+33612345678"
    assert merged["criteria"] == {"VIP": "oui", "Abonnée": "2024"}  # the kept record's criteria win
    assert [row.contact_id for row in follow_up.rows_of(actor.tenant_id, held.id)] == [kept.id]
    assert contacts.contact_with_email(actor.tenant_id, "c.petit@travail.fr") == kept.id

    status, redirect, _ = call(client, "GET", f"/contacts/{other.id}", staff_headers)
    assert redirect["merged_into"] == kept.id and redirect["emails"] == [] and redirect["phones"] == []
    assert [hit.contact.id for hit in search.search(actor, "06 12 34 56 78", limit=10, cursor=None).items] == [kept.id]
    assert search.search(actor, "durand", limit=10, cursor=None).items == []
    assert_problem(call(client, "PATCH", f"/contacts/{other.id}", staff_headers, {"language": "en"}), 409)
    assert_problem(call(client, "POST", "/orders", staff_headers, draft(world, line(world), buyer={
        "contact_id": other.id, "last_name": "Petit"})), 422, "buyer.contact_id")

    again = call(client, "POST", f"/contacts/{kept.id}/merge", staff_headers, {"other_id": other.id})[1]
    assert drive(pump, actor.tenant_id, again["id"]).outcomes == {"orders_moved": 0, "donations_moved": 0,
                                                                  "lists_moved": 0, "credit_moved_cents": 0}
    assert call(client, "GET", f"/contacts/{kept.id}/credit", staff_headers)[1]["balance_cents"] == 3200

    third = contacts.create_contact(actor, {"last_name": "Autre"})
    assert_problem(call(client, "POST", f"/contacts/{third.id}/merge", staff_headers, {"other_id": other.id}), 409)
    assert_problem(call(client, "POST", f"/contacts/{kept.id}/merge", staff_headers, {"other_id": kept.id}), 422,
                   "other_id")


def test_the_preview_says_what_a_merge_would_move_and_writes_nothing(actor, pump):
    import pytest

    from chalicelib.errors import InvalidInput
    from chalicelib.services.contacts.contacts import MergedRecord
    from chalicelib.services.customers import merge

    world = build_world(actor)
    newsletter = mailing_lists.lists.create(actor, {"name": "Lettre", "newsletter": True})
    kept = contacts.create_contact(actor, {"last_name": "Petit", "phones": [{"number": "+33612345678"}],
                                           "criteria": {"VIP": "oui"}})
    other = contacts.create_contact(actor, {
        "last_name": "Petit-Durand", "emails": [{"address": "c.petit@travail.fr", "newsletter_consent": True}],
        "phones": [{"number": "+33612345678"}, {"number": "+33478000001"}], "criteria": {"VIP": "non", "Abonnée": "2024"}})
    theirs = orders.place_order(actor, draft(world, line(world), line(world), buyer={
        "contact_id": other.id, "last_name": other.last_name}, payment_type="cash"))[0]
    _order(actor, world, other, payment_type="cash")
    customer_money.credit_tickets(actor, theirs.id, [1])
    customer_money.donate_tickets(actor, theirs.id, [2])
    version = contacts.get_contact(actor, other.id).version

    shown = merge.preview(actor, kept.id, other.id)
    assert (shown.orders, shown.tickets, shown.orders_capped) == (2, 3, False)
    assert shown.credit.balance_cents == 3200 and (shown.donations, shown.donations_cents) == (1, 3200)
    assert [m.list_id for m in shown.mailing_lists] == [newsletter.id]
    assert [(e.address, e.newsletter_consent) for e in shown.joining.emails] == [("c.petit@travail.fr", True)]
    assert [p.number for p in shown.joining.phones] == ["+33478000001"]  # the kept record has the other one
    assert shown.joining.criteria == {"Abonnée": "2024"}  # the kept record's VIP wins
    assert contacts.get_contact(actor, other.id).version == version  # nothing written
    assert contacts.get_contact(actor, other.id).merged_into is None

    with pytest.raises(InvalidInput):
        merge.preview(actor, kept.id, kept.id)
    third = contacts.create_contact(actor, {"last_name": "Petit"})
    drive(pump, actor.tenant_id, merge.start_merge(actor, kept.id, other.id).id)
    with pytest.raises(MergedRecord):
        merge.preview(actor, third.id, other.id)  # merged into another already
    with pytest.raises(MergedRecord):
        merge.preview(actor, other.id, third.id)  # a merged record keeps nothing more


def test_a_record_being_erased_is_not_merged_into_another(client, staff_headers, actor):
    """The person asked to be forgotten: their e-mails, phones and consents must not survive in
    another record. A merge asked after the erasure started is refused, the preview as well,
    and nothing moves."""
    import pytest

    from chalicelib.services.contacts.contacts import ErasedRecord
    from chalicelib.services.customers import merge

    kept = contacts.create_contact(actor, {"last_name": "Petit"})
    other = contacts.create_contact(actor, {"last_name": "Petit", "phones": [{"number": "+33612345678"}],
                                            "emails": [{"address": "oubli@exemple.fr", "newsletter_consent": True}]})
    contacts.start_erasure(actor, other.id)
    with pytest.raises(ErasedRecord):
        merge.preview(actor, kept.id, other.id)
    assert_problem(call(client, "POST", f"/contacts/{kept.id}/merge", staff_headers, {"other_id": other.id}), 409)
    assert contacts.get_contact(actor, other.id).merged_into is None
    assert contacts.get_contact(actor, kept.id).phones == [] and contacts.get_contact(actor, kept.id).emails == []
