"""Subscriptions through the API: a product's terms checked against the catalog, a sale of one
payer's subscriptions for several holders in one order (places and seats together, never
oversold), the tickets' prices adding up to the tariff, and the lists staff follow them by."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from chalicelib.services.catalog import catalog
from chalicelib.services.contacts import contacts
from chalicelib.services.orders import orders
from tests.api.helpers import assert_problem, call
from tests.orders_world import build_world


@pytest.fixture
def world(actor):
    return build_world(actor, capacity=5)


@pytest.fixture
def offer(actor, world):
    """A tacitly renewed subscription of the season's three performances at 100,00 €."""
    product = catalog.products.create(actor, {"kind": "subscription", "name": "Abonnement Découverte",
                                             "family_id": world.show.family_id, "season_id": world.show.season_id,
                                             "tacit_renewal": True})
    tariff = catalog.tariffs.create(actor, {"product_id": product.id, "name": "Abonné plein tarif",
                                           "price_cents": 10000})
    return product, tariff


def _terms(world, **changes) -> dict:
    return {"performances": [{"performance_id": performance.id, "quota_id": quota.id} for performance, quota in (
        (world.other_performance, world.other_quota), (world.evening, world.evening_quota),
        (world.matinee, world.matinee_quota))],
        "delivery_modes": ["new_card", "print_at_home"],
        "payment_plans": [{"id": "once", "label": "Comptant", "instalments": 1},
                          {"id": "3x", "label": "En 3 fois", "instalments": 3, "day_of_month": 5}], **changes}


def _person(actor, first: str, last: str):
    return contacts.create_contact(actor, {"first_name": first, "last_name": last,
                                           "emails": [{"address": f"{first.lower()}@exemple.fr"}]})


def _sale(offer, payer, *holders, **changes) -> dict:
    product, tariff = offer
    return {"product_id": product.id, "tariff_id": tariff.id, "payer_contact_id": payer.id,
            "delivery_mode": "new_card", "plan_id": "once", "means": "cash",
            "subscribers": [{"holder_contact_id": holder.id} for holder in holders or [payer]], **changes}


def test_terms_are_checked_against_the_catalog(client, staff_headers, actor, world, offer):
    product, _ = offer
    path = f"/products/{product.id}/subscription-terms"
    assert call(client, "GET", path, staff_headers)[0] == 404
    status, terms, _ = call(client, "PUT", path, staff_headers, _terms(world))
    assert status == 200, terms
    # In date order, whatever order staff gave them in.
    assert terms["performance_ids"] == [world.evening.id, world.matinee.id, world.other_performance.id]
    assert terms["quotas"][world.matinee.id] == world.matinee_quota.id
    for changes, field in (({"choose": 4}, "choose"),
                           ({"performances": [{"performance_id": world.evening.id,
                                               "quota_id": world.matinee_quota.id}]}, "performances.0.quota_id"),
                           ({"performances": [{"performance_id": world.evening.id, "quota_id": world.evening_quota.id}] * 2},
                            "performances.1.performance_id"),
                           ({"payment_plans": [{"id": "a", "label": "A", "instalments": 1}] * 2}, "payment_plans"),
                           ({"payment_plans": [{"id": "x", "label": "X", "instalments": 13}]},
                            "payment_plans.0.instalments"),
                           ({"delivery_modes": ["pigeon"]}, "delivery_modes.0")):
        problem = assert_problem(call(client, "PUT", path, staff_headers, _terms(world, **changes)), 422)
        assert problem["errors"][0]["field"] == field, (changes, problem)
    assert call(client, "GET", path, staff_headers)[1]["choose"] is None  # nothing refused was written
    # A package's sub-packages: a part per performance (none for the others).
    parted = _terms(world)
    parted["performances"][0]["part"] = "Musique"
    status, terms, _ = call(client, "PUT", path, staff_headers, parted)
    assert status == 200 and terms["parts"] == {world.other_performance.id: "Musique"}, terms
    show = assert_problem(call(client, "PUT", f"/products/{world.show.id}/subscription-terms", staff_headers,
                               _terms(world)), 422)
    assert show["errors"][0]["field"] == "product_id"


def test_one_payer_two_holders_one_order_with_their_seats(client, staff_headers, actor, world, offer):
    product, tariff = offer
    call(client, "PUT", f"/products/{product.id}/subscription-terms", staff_headers, _terms(world))
    anne, paul = _person(actor, "Anne", "Martin"), _person(actor, "Paul", "Martin")
    seats = {world.evening.id: world.seats[0].id, world.matinee.id: world.seats[1].id}
    body = _sale(offer, anne, anne, paul)
    body["subscribers"][0]["seats"] = seats
    status, sale, _ = call(client, "POST", "/subscriptions", staff_headers, body)
    assert status == 201, sale
    assert sale["total_cents"] == 20000 and len(sale["subscriptions"]) == 2
    order = orders.get_order(actor, sale["order_id"])
    tickets = orders.tickets_of(order)
    assert order.paid and len(tickets) == 6  # cash: paid at the counter, both subscriptions in one order
    for subscription in sale["subscriptions"]:
        mine = [ticket for ticket in tickets if ticket.subscription_id == subscription["id"]]
        assert sorted(int(ticket.position) for ticket in mine) == subscription["ticket_positions"]
        assert sum(int(ticket.price_cents) for ticket in mine) == 10000  # 33,33 + 33,33 + 33,34
        assert sorted(int(ticket.price_cents) for ticket in mine) == [3333, 3333, 3334]
        assert subscription["tacit"] is True and subscription["instalments"] == []
    annes = [ticket for ticket in tickets if ticket.subscription_id == sale["subscriptions"][0]["id"]]
    assert {ticket.performance_id: ticket.seat_id for ticket in annes if ticket.seat_id} == seats
    assert {ticket.attendee_name for ticket in tickets} == {"Anne Martin", "Paul Martin"}
    # Each holder is now a subscriber, with a number of the venue's.
    numbers = {contacts.get_contact(actor, person.id).system_fields["subscriber_number"] for person in (anne, paul)}
    assert len(numbers) == 2
    status, listed, _ = call(client, "GET", f"/subscriptions?payer_id={anne.id}", staff_headers)
    assert sorted(item["holder_contact_id"] for item in listed["items"]) == sorted([paul.id, anne.id])
    status, by_product, _ = call(client, "GET", f"/subscriptions?product_id={product.id}&state=active",
                                 staff_headers)
    assert len(by_product["items"]) == 2
    status, by_season, _ = call(client, "GET", f"/subscriptions?season_id={world.show.season_id}", staff_headers)
    assert status == 200 and len(by_season["items"]) == 2
    assert_problem(call(client, "GET", f"/subscriptions?season_id={world.show.season_id}&payer_id={anne.id}",
                        staff_headers), 422)
    status, one, _ = call(client, "GET", f"/subscriptions/{sale['subscriptions'][1]['id']}", staff_headers)
    assert one["holder_contact_id"] == paul.id and one["payer_contact_id"] == anne.id


def test_choose_n_among_the_offered_performances(client, staff_headers, actor, world, offer):
    product, _ = offer
    call(client, "PUT", f"/products/{product.id}/subscription-terms", staff_headers, _terms(world, choose=2))
    anne = _person(actor, "Anne", "Martin")
    for picked in ([], [world.evening.id], [world.evening.id, world.evening.id],
                   [world.evening.id, world.full_price.id]):
        body = _sale(offer, anne)
        body["subscribers"][0]["performance_ids"] = picked
        problem = assert_problem(call(client, "POST", "/subscriptions", staff_headers, body), 422)
        assert problem["errors"][0]["field"] == "subscribers.0.performance_ids", (picked, problem)
    body = _sale(offer, anne)
    body["subscribers"][0]["performance_ids"] = [world.other_performance.id, world.evening.id]
    status, sale, _ = call(client, "POST", "/subscriptions", staff_headers, body)
    assert status == 201, sale
    assert sale["subscriptions"][0]["performance_ids"] == [world.evening.id, world.other_performance.id]
    assert sorted(int(t.price_cents) for t in orders.tickets_of(orders.get_order(actor, sale["order_id"]))) == \
        [5000, 5000]


def test_what_the_terms_do_not_offer_is_refused_and_nothing_is_sold(client, staff_headers, actor, world, offer):
    product, _ = offer
    call(client, "PUT", f"/products/{product.id}/subscription-terms", staff_headers, _terms(world))
    anne = _person(actor, "Anne", "Martin")
    gone = _person(actor, "Ancien", "Dossier")
    contacts.mark_merging(actor, anne.id, gone.id)
    for changes, field in (({"tariff_id": world.full_price.id}, "tariff_id"),
                           ({"delivery_mode": "box_office"}, "delivery_mode"),
                           ({"plan_id": "10x"}, "plan_id"),
                           ({"plan_id": "3x"}, "plan_id"),  # instalments are not paid in cash
                           ({"means": "sepa_debit", "saved_means_id": None}, "saved_means_id"),
                           ({"subscribers": [{"holder_contact_id": gone.id}]}, "subscribers.0.holder_contact_id"),
                           ({"subscribers": [{"holder_contact_id": anne.id, "seats": {
                               "01ARZ3NDEKTSV4RRFFQ69G5FAV": world.seats[0].id}}]}, "subscribers.0.seats")):
        problem = assert_problem(call(client, "POST", "/subscriptions", staff_headers, _sale(offer, anne, **changes)),
                                 422)
        assert problem["errors"][0]["field"] == field, (changes, problem)
    assert call(client, "GET", f"/subscriptions?product_id={product.id}", staff_headers)[1]["items"] == []
    assert int(catalog.quotas.get(actor, world.evening_quota.id).remaining) == 5


def test_concurrent_sales_never_oversell_and_a_refused_sale_writes_nothing(client, staff_headers, actor, world, offer):
    product, _ = offer
    call(client, "PUT", f"/products/{product.id}/subscription-terms", staff_headers, _terms(world))
    payers = [_person(actor, f"Client{n}", "Abonné") for n in range(8)]

    def buy(payer):
        return call(client, "POST", "/subscriptions", staff_headers, _sale(offer, payer))[0]

    with ThreadPoolExecutor(max_workers=4) as pool:
        answers = list(pool.map(buy, payers))
    assert answers.count(201) == 5 and set(answers) <= {201, 409}  # five places a performance
    assert len(call(client, "GET", f"/subscriptions?product_id={product.id}", staff_headers)[1]["items"]) == 5
    for quota in (world.evening_quota, world.matinee_quota, world.other_quota):
        assert int(catalog.quotas.get(actor, quota.id).remaining) == 0
