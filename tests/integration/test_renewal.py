"""The renewal run, rule by rule (the field's "Renouvellement automatique des abonnements"):
tacit SEPA reusing the mandate and the instalment count, card instalments on the same card,
another means on the payer's saved card, no card and each on-error choice, not tacit as a
reservation, delivery modes kept / replaced / fallback / none, opting out by the payer and by a
holder, seats kept or the first free of the category, a re-run and a crash adding nothing, the
dry run writing nothing, and parameters that contradict themselves refused before anything."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.adapters import clock
from chalicelib.models.jobs import Job
from chalicelib.models.subscriptions import Subscription
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.services.catalog import catalog
from chalicelib.services.jobs.framework import ChunkBudget
from chalicelib.services.orders import orders
from chalicelib.services.subscriptions import renewal, renewal_detail, renewal_seats, selling, terms
from tests.api.helpers import assert_problem, call
from tests.job_helpers import drive
from tests.orders_world import build_world
from tests.renewals_world import (
    OPT_OUT,
    PLANS,
    RENEWED_AT,
    Seasons,
    contact_named,
    renewal_of,
    saved_card,
    sepa_mandate,
)


@pytest.fixture(autouse=True)
def frozen():
    clock.set_clock(clock.frozen_at(datetime(2026, 10, 1, 9, 0, tzinfo=timezone.utc)))
    yield
    clock.set_clock(None)



def test_tacit_sepa_reuses_the_mandate_and_the_number_of_instalments(actor, pump):
    seasons = Seasons(actor)
    anne = contact_named(actor, "Anne")
    mandate = sepa_mandate(actor, anne)
    sold = seasons.sell(actor, anne, means="sepa_debit", plan="3x", saved_means_id=mandate.id)
    job = seasons.run(actor, pump)
    assert job.status == "succeeded" and job.outcomes.get("sale") == 1, job.outcomes
    renewed = renewal_of(actor, sold.subscriptions[0])
    assert renewed.renewed_from == sold.subscriptions[0].id and renewed.product_id == seasons.target.id
    assert renewed.means == "sepa_debit" and renewed.saved_means_id == mandate.id  # the same mandate: the same RUM
    assert [item["amount_cents"] for item in renewed.instalments] == [4000, 4000, 4000]  # the new price, 3 times
    assert renewed.performance_ids == [p.id for p in seasons.new_performances]
    order = orders.get_order(actor, renewed.order_id)
    assert order.kind == "sale" and order.by_instalments and int(order.total_cents) == 12000


def test_card_instalments_stay_on_the_same_card(actor, pump):
    seasons = Seasons(actor)
    anne = contact_named(actor, "Anne")
    card = saved_card(actor, anne)
    sold = seasons.sell(actor, anne, means="card_alias", plan="3x", saved_means_id=card.id)
    seasons.run(actor, pump)
    renewed = renewal_of(actor, sold.subscriptions[0])
    assert renewed.means == "card_alias" and renewed.saved_means_id == card.id and len(renewed.instalments) == 3


def test_another_means_is_renewed_on_the_payers_saved_card(actor, pump):
    seasons = Seasons(actor)
    anne = contact_named(actor, "Anne")
    sold = seasons.sell(actor, anne, means="cash")
    card = saved_card(actor, anne)
    seasons.run(actor, pump)
    renewed = renewal_of(actor, sold.subscriptions[0])
    assert renewed.means == "card_alias" and renewed.saved_means_id == card.id and len(renewed.instalments) == 1


@pytest.mark.parametrize("on_error", ["nothing", "reservation"])
def test_without_a_saved_card_each_on_error_choice(actor, pump, on_error):
    seasons = Seasons(actor)
    anne = contact_named(actor, "Anne")
    sold = seasons.sell(actor, anne, means="cheque")
    job = seasons.run(actor, pump, on_error=on_error)
    renewed = renewal_of(actor, sold.subscriptions[0])
    if on_error == "nothing":
        assert renewed is None and job.outcomes == {"error:no_means": 1} and job.failed == 1
    else:
        assert job.outcomes == {"reservation": 1}
        order = orders.get_order(actor, renewed.order_id)
        assert order.kind == "reservation" and order.deadline == datetime(2027, 7, 1, tzinfo=timezone.utc)
        assert renewed.instalments == []


def test_not_tacit_is_renewed_as_a_reservation(actor, pump):
    seasons = Seasons(actor, tacit=False)
    anne = contact_named(actor, "Anne", criteria={OPT_OUT: "oui"})
    sold = seasons.sell(actor, anne, means="cash")
    job = seasons.run(actor, pump, opt_out_criterion=OPT_OUT)
    assert job.outcomes == {"reservation": 1}  # the opt-out criterion concerns tacit renewals only
    assert orders.get_order(actor, renewal_of(actor, sold.subscriptions[0]).order_id).kind == "reservation"


def test_delivery_modes_kept_replaced_fallback_or_none(actor, pump):
    seasons = Seasons(actor, modes=("new_card", "reload_card", "print_at_home", "box_office"))
    people = [contact_named(actor, name) for name in ("Anne", "Paul", "Lea", "Noe")]
    for person in people:
        saved_card(actor, person)
    kept = seasons.sell(actor, people[0], mode="print_at_home")
    replaced = seasons.sell(actor, people[1], mode="new_card")
    fallback = seasons.sell(actor, people[2], mode="box_office")
    job = seasons.run(actor, pump, delivery_modes=["reload_card", "print_at_home"], fallback_mode="print_at_home",
                      mode_replacements={"new_card": "reload_card"})
    assert renewal_of(actor, kept.subscriptions[0]).delivery_mode == "print_at_home"
    assert renewal_of(actor, replaced.subscriptions[0]).delivery_mode == "reload_card"
    assert renewal_of(actor, fallback.subscriptions[0]).delivery_mode == "print_at_home"
    assert job.outcomes == {"sale": 3}
    orphan = seasons.sell(actor, people[3], mode="box_office")
    job = seasons.run(actor, pump, delivery_modes=["reload_card"], fallback_mode=None)
    assert renewal_of(actor, orphan.subscriptions[0]) is None
    assert job.outcomes == {"error:no_delivery_mode": 1, "skip:already_renewed": 3}


def _duplicates_issued(source: Subscription, count: int) -> None:
    """What the season cards feature records when it issues a duplicate after a lost card."""
    source.update(actions=[Subscription.duplicates_issued.set(count)])


def test_duplicate_cards_take_the_fallback_mode_or_the_on_error_rule(actor, pump):
    seasons = Seasons(actor, modes=("new_card", "reload_card", "print_at_home"))
    anne, paul = contact_named(actor, "Anne"), contact_named(actor, "Paul")
    for person in (anne, paul):
        saved_card(actor, person)
    lost = seasons.sell(actor, anne, mode="new_card").subscriptions[0]  # replaced by reload_card...
    _duplicates_issued(lost, 1)  # ...but Anne lost her card: which of two cards to reload?
    kept = seasons.sell(actor, paul, mode="new_card").subscriptions[0]
    modes = {"delivery_modes": ["reload_card", "print_at_home"], "mode_replacements": {"new_card": "reload_card"}}
    # The dry run says why: one renewal takes the fallback for duplicates.
    dry = seasons.run(actor, pump, dry_run=True, fallback_mode="print_at_home", **modes)
    assert dry.outcomes["sale"] == 2 and dry.outcomes["mode:fallback_duplicates"] == 1, dry.outcomes
    # No fallback: the on-error rule, with its reason, in the dry run and for real.
    dry = seasons.run(actor, pump, dry_run=True, fallback_mode=None, **modes)
    assert dry.outcomes["error:duplicates_no_fallback"] == 1 and dry.outcomes["sale"] == 1, dry.outcomes
    job = seasons.run(actor, pump, fallback_mode=None, on_error="reservation", **modes)
    assert job.outcomes == {"sale": 1, "reservation": 1}, job.outcomes
    assert orders.get_order(actor, renewal_of(actor, lost).order_id).kind == "reservation"
    assert renewal_of(actor, kept).delivery_mode == "reload_card"


def test_duplicate_cards_renew_in_the_fallback_mode(actor, pump):
    seasons = Seasons(actor, modes=("new_card", "reload_card", "print_at_home"))
    anne = contact_named(actor, "Anne")
    saved_card(actor, anne)
    lost = seasons.sell(actor, anne, mode="new_card").subscriptions[0]
    _duplicates_issued(lost, 2)
    job = seasons.run(actor, pump, delivery_modes=["new_card", "print_at_home"], fallback_mode="print_at_home")
    assert job.outcomes == {"sale": 1, "mode:fallback_duplicates": 1}, job.outcomes
    assert renewal_of(actor, lost).delivery_mode == "print_at_home"  # not last season's new_card, though offered


def test_whoever_pays_decides(actor, pump):
    seasons = Seasons(actor)
    stop = {OPT_OUT: "oui"}
    payer_stops, b, c = contact_named(actor, "Anne", criteria=stop), contact_named(actor, "Paul"), contact_named(actor, "Lea")
    saved_card(actor, payer_stops)
    everyone = seasons.sell(actor, payer_stops, payer_stops, b, c)
    payer, holder_stops, d = contact_named(actor, "Noe"), contact_named(actor, "Eve", criteria=stop), contact_named(actor, "Ines")
    saved_card(actor, payer)
    some = seasons.sell(actor, payer, payer, holder_stops, d)
    job = seasons.run(actor, pump, opt_out_criterion="ARRET du renouvellement automatique")  # accents, case ignored
    assert [renewal_of(actor, sub) for sub in everyone.subscriptions] == [None] * 3
    renewed = [renewal_of(actor, sub) for sub in some.subscriptions]
    assert [sub is not None for sub in renewed] == [True, False, True]
    assert renewed[0].order_id == renewed[2].order_id  # one new order for the payer
    assert job.outcomes == {"skip:opt_out_payer": 3, "skip:opt_out_holder": 1, "sale": 2}


def test_seats_are_kept_or_the_first_free_of_their_category(actor, pump):
    seasons = Seasons(actor)
    anne, paul = contact_named(actor, "Anne"), contact_named(actor, "Paul")
    for person in (anne, paul):
        saved_card(actor, person)
    first = seasons.sell(actor, anne, seats={seasons.world.evening.id: seasons.seats[0].id})
    second = seasons.sell(actor, paul, seats={seasons.world.evening.id: seasons.seats[1].id})
    # Someone already bought Paul's seat at the first new performance.
    intruder = orders.place_order(actor, {"kind": "sale", "payment_type": "cash", "buyer": {"last_name": "Autre"},
                                          "lines": [{"performance_id": seasons.new_performances[0].id,
                                                     "tariff_id": _show_tariff(actor, seasons).id,
                                                     "quota_id": seasons.target_quota(actor, 0),
                                                     "seat_id": seasons.seats[1].id}]})
    assert intruder
    seasons.run(actor, pump)
    seats_of = {}
    for sold in (first, second):
        renewed = renewal_of(actor, sold.subscriptions[0])
        seats_of[renewed.holder_contact_id] = [t.seat_id for t in orders.tickets_of(orders.get_order(actor,
                                                                                               renewed.order_id))]
    assert seats_of[anne.id] == [seasons.seats[0].id] * 2
    assert seats_of[paul.id] == [seasons.seats[2].id, seasons.seats[1].id]  # B1 taken at the first: the first free


def test_many_holders_whose_seats_are_taken_get_the_best_free_seats_once_each(actor, pump, monkeypatch):
    """Five holders of one category lose their seat at the first new performance, one of another
    category too, and a sale lands between the run's reading of the free seats and its write: each
    gets the first free seat of their category in the venue's order that no other subscriber
    waits for, no seat is sold twice, and the venue's seats are walked once per category in the
    chunk, not once per holder."""
    seasons = Seasons(actor, tacit=False)  # reservations: the same seats, without Stripe
    venue = seasons.world.venue.id
    orchestra = seasons.seats[0].category_id
    balcony = catalog.seat_categories.create(actor, {"venue_id": venue, "name": "Balcon"})
    row_c = [catalog.create_seat(actor, {"venue_id": venue, "block": "Parterre", "row": "C", "number": str(n),
                                         "category_id": orchestra}) for n in range(1, 13)]
    high = [catalog.create_seat(actor, {"venue_id": venue, "block": "Balcon", "row": "A", "number": str(n),
                                        "category_id": balcony.id}) for n in range(1, 4)]
    b1, b2, b3 = seasons.seats
    held = [b1, b2, b3, row_c[0], row_c[1], row_c[2], high[0]]
    people = [contact_named(actor, f"Abonne{n}") for n in range(len(held))]
    sold = [seasons.sell(actor, person, seats={seasons.world.evening.id: seat.id}).subscriptions[0]
            for person, seat in zip(people, held)]
    first, second = seasons.new_performances
    tariff = _show_tariff(actor, seasons)
    # Last season, C7 was an ordinary ticket's (no subscriber waits for it), and C3's claim was
    # written before claims named their subscription (its order's tickets tell).
    orders.place_order(actor, {"kind": "sale", "payment_type": "cash", "buyer": {"last_name": "Passant"},
                               "lines": [{"performance_id": seasons.world.evening.id,
                                          "tariff_id": seasons.world.full_price.id,
                                          "quota_id": seasons.world.evening_quota.id, "seat_id": row_c[6].id}]})
    older = UniqueKey.get(f"{actor.tenant_id}#seat_sold#{seasons.world.evening.id}#{row_c[2].id}")
    older.update(actions=[UniqueKey.subscription_id.remove()])

    def buy(seat, name="Autre"):
        return orders.place_order(actor, {"kind": "sale", "payment_type": "cash", "buyer": {"last_name": name},
                                          "lines": [{"performance_id": first.id, "tariff_id": tariff.id,
                                                     "quota_id": seasons.target_quota(actor, 0),
                                                     "seat_id": seat.id}]})[0]

    # Sold to others at the first new performance: five holders' seats, C4 and C6, and A1.
    others = [buy(seat) for seat in (b1, b2, b3, row_c[0], row_c[1], row_c[3], row_c[5], high[0])]
    # Between the run's reading and its first write of a seat from the free seats, someone buys it.
    real, raced = renewal.place, []

    def a_sale_lands_first(actor_, placement, **kwargs):
        pooled = {seat.id: seat for seat in row_c[4:]}
        for _, _, seats in placement.holders:
            if not raced and seats.get(first.id) in pooled:
                raced.append(buy(pooled[seats[first.id]], "Concurrent"))
        return real(actor_, placement, **kwargs)

    walks = []
    listing = renewal_seats.Seat.by_venue.query
    monkeypatch.setattr(renewal, "place", a_sale_lands_first)
    monkeypatch.setattr(renewal_seats.Seat.by_venue, "query", lambda *a, **k: walks.append(a) or listing(*a, **k))
    job = seasons.run(actor, pump)
    assert job.outcomes == {"reservation": 7}, job.outcomes
    renewed = {}
    for person, source in zip(people, sold):
        tickets = orders.tickets_of(orders.get_order(actor, renewal_of(actor, source).order_id))
        renewed[person.id] = {ticket.performance_id: ticket for ticket in tickets}
    at_first = [renewed[person.id][first.id].seat_id for person in people]
    raced_seat = orders.tickets_of(raced[0])[0].seat_id
    assert raced_seat == row_c[4].id  # C5, the best free seat, went to the concurrent buyer
    assert sorted(at_first[:5]) == sorted(seat.id for seat in (row_c[6], row_c[7], row_c[8], row_c[9], row_c[10]))
    assert at_first[5] == row_c[2].id and at_first[6] == high[1].id  # C3 kept; the balcony's A1 → A2
    assert [renewed[person.id][second.id].seat_id for person in people] == [seat.id for seat in held]
    # No seat sold twice: each ticket at the first performance owns its seat's claim.
    tickets = [ticket for order in [*others, raced[0]] for ticket in orders.tickets_of(order)]
    tickets += [renewed[person.id][first.id] for person in people]
    assert len({ticket.seat_id for ticket in tickets}) == len(tickets) == 16
    for ticket in tickets:
        claim = UniqueKey.get(f"{actor.tenant_id}#seat_sold#{first.id}#{ticket.seat_id}")
        assert claim.entity_id == ticket.order_id
    assert len(walks) == 2  # one walk per category at the first performance, for six holders


def _package(actor, season, name, parts):
    """A package (tacit renewal off: reservations, no Stripe) of ``parts``: [(part, performance)]."""
    family = catalog.product_families.create(actor, {"name": f"Forfaits {name}"})
    product = catalog.products.create(actor, {"kind": "package", "name": name, "family_id": family.id,
                                             "season_id": season, "tacit_renewal": False})
    tariff = catalog.tariffs.create(actor, {"product_id": product.id, "name": "Forfait", "price_cents": 15000})
    offered = []
    for part, performance in parts:
        quota = catalog.quotas.create(actor, {"performance_id": performance.id, "name": "Forfaits", "capacity": 10})
        offered.append({"performance_id": performance.id, "quota_id": quota.id, "part": part})
    terms.set_terms(actor, product.id, {"performances": offered, "choose": None, "delivery_modes": ["print_at_home"],
                                        "payment_plans": PLANS})
    return product, tariff


def test_a_package_of_sub_packages_in_two_venues_renews_in_one_run_each_keeping_its_seats(actor, pump):
    """Théâtre and Musique share a hall with a seat each, Danse is in another venue: one run, one
    order, and each sub-package keeps its own seat (by its name, accents and case ignored)."""
    world = build_world(actor)
    hall = world.venue.id
    stalls = catalog.seat_categories.create(actor, {"venue_id": hall, "name": "Parterre"})
    b = [catalog.create_seat(actor, {"venue_id": hall, "block": "Parterre", "row": "B", "number": str(n),
                                     "category_id": stalls.id}) for n in range(1, 5)]
    dance_hall = catalog.venues.create(actor, {"name": "Maison de la Danse", "city": "Lyon"})
    tiers = catalog.seat_categories.create(actor, {"venue_id": dance_hall.id, "name": "Gradin"})
    d = [catalog.create_seat(actor, {"venue_id": dance_hall.id, "block": "Gradin", "row": "D", "number": str(n),
                                     "category_id": tiers.id}) for n in range(1, 7)]

    def season_of(name, year):
        season = catalog.seasons.create(actor, {"name": name, "starts_on": date(year, 9, 1),
                                                "ends_on": date(year + 1, 6, 30)})
        show = catalog.products.create(actor, {"kind": "show", "name": f"Saison {name}",
                                              "family_id": world.show.family_id, "season_id": season.id})
        return season.id, [catalog.create_performance(actor, {
            "product_id": show.id, "venue_id": venue, "starts_at": datetime(year, 10, day, 19, 0, tzinfo=timezone.utc)})
            for venue, day in ((hall, 5), (hall, 12), (dance_hall.id, 19))]

    old_season, old = season_of("2026-2027 bis", 2026)
    new_season, new = season_of("2027-2028", 2027)
    source, source_tariff = _package(actor, old_season, "Forfait découverte 26-27",
                                     [("Théâtre", old[0]), ("Musique", old[1]), ("Danse", old[2])])
    target, _ = _package(actor, new_season, "Forfait découverte 27-28",
                         [("THEATRE", new[0]), ("musique", new[1]), ("Danse", new[2])])
    anne, paul = contact_named(actor, "Anne"), contact_named(actor, "Paul")
    seats_of = {anne.id: {old[0].id: b[0].id, old[1].id: b[3].id, old[2].id: d[4].id},
                paul.id: {old[0].id: b[1].id, old[1].id: b[2].id, old[2].id: d[5].id}}
    sold = selling.sell(actor, {
        "product_id": source.id, "tariff_id": source_tariff.id, "payer_contact_id": anne.id,
        "delivery_mode": "print_at_home", "plan_id": "once", "means": "cash",
        "subscribers": [{"holder_contact_id": person.id, "seats": seats_of[person.id]} for person in (anne, paul)]})
    clock.set_clock(clock.frozen_at(RENEWED_AT))
    job = renewal.start_run(actor, {
        "source_product_id": source.id, "target_product_id": target.id, "delivery_modes": ["print_at_home"],
        "fallback_mode": None, "mode_replacements": None, "tariffs": None, "opt_out_criterion": None,
        "on_error": "nothing", "reservation_deadline": datetime(2027, 7, 1, tzinfo=timezone.utc), "keep_seats": True,
        "dry_run": False})
    assert drive(pump, actor.tenant_id, job.id).outcomes == {"reservation": 2}
    renewed = [renewal_of(actor, subscription) for subscription in sold.subscriptions]
    assert renewed[0].order_id == renewed[1].order_id  # one order, like a single product
    tickets = orders.tickets_of(orders.get_order(actor, renewed[0].order_id))
    got = {(ticket.subscription_id, ticket.performance_id): ticket.seat_id for ticket in tickets}
    for subscription, person in zip(renewed, (anne, paul)):
        had = seats_of[person.id]
        assert [got[(subscription.id, performance.id)] for performance in new] == \
            [had[old[0].id], had[old[1].id], had[old[2].id]]  # Théâtre's, Musique's (same hall), Danse's


def _show_tariff(actor, seasons):
    show_id = seasons.new_performances[0].product_id
    return catalog.tariffs.create(actor, {"product_id": show_id, "name": "Plein tarif", "price_cents": 2500})


def test_a_rerun_and_a_crash_add_nothing(actor, pump, monkeypatch):
    seasons = Seasons(actor)
    people = [contact_named(actor, name) for name in ("Anne", "Paul")]
    for person in people:
        saved_card(actor, person)
    sold = [seasons.sell(actor, person) for person in people]
    real, calls = selling.place, []

    def dies_once_before_the_second_order(*args, **kwargs):
        calls.append(True)
        if len(calls) == 2:
            raise RuntimeError("the Lambda died before the second order")
        return real(*args, **kwargs)

    monkeypatch.setattr(renewal, "place", dies_once_before_the_second_order)
    clock.set_clock(clock.frozen_at(RENEWED_AT))
    params = {"source_product_id": seasons.source.id, "target_product_id": seasons.target.id,
              "delivery_modes": ["new_card"], "fallback_mode": None, "mode_replacements": None, "tariffs": None,
              "opt_out_criterion": None, "on_error": "nothing", "reservation_deadline": None, "keep_seats": True}
    with pytest.raises(RuntimeError):  # the chunk dies after the first order was written
        renewal.renew(actor, params, None, ChunkBudget(job_id="crash", seq=0, max_items=200, seconds=840))
    assert sum(renewal_of(actor, s.subscriptions[0]) is not None for s in sold) == 1
    # SQS delivers the chunk again, from the same cursor: the first order is not renewed twice.
    result = renewal.renew(actor, params, None, ChunkBudget(job_id="crash", seq=0, max_items=200, seconds=840))
    assert result.outcomes == {"skip:already_renewed": 1, "sale": 1}
    assert all(renewal_of(actor, s.subscriptions[0]) is not None for s in sold)
    again = seasons.run(actor, pump, delivery_modes=["new_card"], fallback_mode=None)
    assert again.outcomes == {"skip:already_renewed": 2} and again.done == 0  # a re-run adds 0
    renewals = list(Subscription.by_product.query(f"{actor.tenant_id}#{seasons.target.id}"))
    assert len(renewals) == 2


def test_the_dry_run_writes_nothing_and_projects_the_revenue(actor, pump):
    seasons = Seasons(actor)
    anne, paul = contact_named(actor, "Anne"), contact_named(actor, "Paul")
    mandate = sepa_mandate(actor, anne)
    seasons.sell(actor, anne, means="sepa_debit", plan="3x", saved_means_id=mandate.id)
    seasons.sell(actor, paul, means="cheque")  # no card: an error
    job = seasons.run(actor, pump, dry_run=True)
    assert job.outcomes == {"sale": 1, "error:no_means": 1, "projected:2027-06-01": 4000,
                            "projected:2027-07-05": 4000, "projected:2027-08-05": 4000}
    assert list(Subscription.by_product.query(f"{actor.tenant_id}#{seasons.target.id}")) == []


def test_contradicting_parameters_are_refused_before_anything_starts(client, staff_headers, signer, actor):
    seasons = Seasons(actor)
    admin = {"Authorization": f"Bearer {signer.mint(actor.tenant_id, ['admin'], 'boss')}"}
    base = {"source_product_id": seasons.source.id, "target_product_id": seasons.target.id,
            "delivery_modes": ["new_card"], "fallback_mode": "new_card", "on_error": "nothing"}
    for changes, field in (({"fallback_mode": "box_office"}, "fallback_mode"),
                           ({"target_product_id": seasons.source.id}, "target_product_id"),
                           ({"delivery_modes": ["reload_card"], "fallback_mode": None}, "delivery_modes.0"),
                           ({"on_error": "reservation"}, "reservation_deadline"),
                           ({"tariffs": {seasons.target_tariff.id: seasons.target_tariff.id}},
                            f"tariffs.{seasons.target_tariff.id}"),
                           ({"opt_out_criterion": "Arret du renouvelement automatique"}, "opt_out_criterion")):
        problem = assert_problem(call(client, "POST", "/subscriptions/renewals", admin, {**base, **changes}), 422)
        assert problem["errors"][0]["field"] == field, (changes, problem)
    assert call(client, "POST", "/subscriptions/renewals", staff_headers, base)[0] == 403  # admins run renewals
    assert list(Job.query(actor.tenant_id)) == []  # nothing started
    # A criterion exists once staff gave it to a contact (whatever its value there).
    contact_named(actor, "Anne", criteria={OPT_OUT: "non"})
    status, job, _ = call(client, "POST", "/subscriptions/renewals", admin,
                          {**base, "dry_run": True, "opt_out_criterion": "arrêt du RENOUVELLEMENT automatique"})
    assert status == 202 and job["kind"] == "subscriptions.renew", job


def test_a_sabbatical_keeps_the_seats_and_the_next_season_renews_them(client, staff_headers, actor, pump):
    seasons = Seasons(actor)
    anne = contact_named(actor, "Anne")
    card = saved_card(actor, anne)
    sold = seasons.sell(actor, anne, seats={seasons.world.evening.id: seasons.seats[0].id})
    status, placeholder, _ = call(client, "POST", f"/subscriptions/{sold.subscriptions[0].id}/sabbatical",
                                  staff_headers, {"target_product_id": seasons.target.id})
    assert status == 201, placeholder
    assert placeholder["state"] == "sabbatical" and placeholder["order_id"] == ""
    assert placeholder["held_seats"] == {p.id: seasons.seats[0].id for p in seasons.new_performances}
    with pytest.raises(orders.SoldOut):  # nobody can buy a kept seat
        orders.place_order(actor, {"kind": "sale", "payment_type": "cash", "buyer": {"last_name": "Autre"},
                                   "lines": [{"performance_id": seasons.new_performances[0].id,
                                              "tariff_id": _show_tariff(actor, seasons).id,
                                              "quota_id": seasons.target_quota(actor, 0),
                                              "seat_id": seasons.seats[0].id}]})
    again = call(client, "POST", f"/subscriptions/{sold.subscriptions[0].id}/sabbatical", staff_headers,
                 {"target_product_id": seasons.target.id})
    assert_problem(again, 409)
    # This season's run passes over it; the next season's renews the placeholder with the kept seat.
    assert seasons.run(actor, pump).outcomes == {"skip:already_renewed": 1}
    season = catalog.seasons.create(actor, {"name": "2028-2029", "starts_on": date(2028, 9, 1),
                                            "ends_on": date(2029, 6, 30)})
    show = catalog.products.create(actor, {"kind": "show", "name": "Bérénice", "family_id": seasons.world.show.family_id,
                                          "season_id": season.id})
    performance = catalog.create_performance(actor, {"product_id": show.id, "venue_id": seasons.world.venue.id,
                                                     "starts_at": datetime(2028, 10, 6, 18, 30, tzinfo=timezone.utc)})
    quota = catalog.quotas.create(actor, {"performance_id": performance.id, "name": "Abonnés", "capacity": 20})
    after = Seasons._product(actor, season.id, "Abonnement 28-29", True)
    catalog.tariffs.create(actor, {"product_id": after.id, "name": "Abonné", "price_cents": 13000})
    terms.set_terms(actor, after.id, {"performances": [{"performance_id": performance.id, "quota_id": quota.id}],
                                      "choose": None, "delivery_modes": ["new_card"], "payment_plans": PLANS})
    job = renewal.start_run(actor, {
        "source_product_id": seasons.target.id, "target_product_id": after.id, "delivery_modes": ["new_card"],
        "fallback_mode": None, "mode_replacements": None, "tariffs": None, "opt_out_criterion": None,
        "on_error": "nothing", "reservation_deadline": None, "keep_seats": True, "dry_run": False})
    assert drive(pump, actor.tenant_id, job.id).outcomes == {"sale": 1}
    kept = Subscription.get(actor.tenant_id, placeholder["id"], consistent_read=True)
    renewed = renewal_of(actor, kept)
    assert renewed.saved_means_id == card.id and renewed.means == "card_alias"
    assert [t.seat_id for t in orders.tickets_of(orders.get_order(actor, renewed.order_id))] == [seasons.seats[0].id]


def test_a_chunk_ending_inside_an_order_does_not_count_it_twice(actor, monkeypatch):
    """Households of three sold a minute apart, chunks of two subscriptions: every chunk's end
    cuts an order, and the cursor remembers a single order. The dry run (which marks nothing)
    must still report each subscription once."""
    monkeypatch.setattr(renewal, "ORDERS_REMEMBERED", 1)
    seasons = Seasons(actor)
    for minute, name in enumerate(("Anne", "Paul", "Lea")):
        clock.set_clock(clock.frozen_at(datetime(2026, 10, 1, 9, minute, tzinfo=timezone.utc)))
        payer = contact_named(actor, name)
        saved_card(actor, payer)
        seasons.sell(actor, payer, payer, contact_named(actor, f"{name}-b"), contact_named(actor, f"{name}-c"))
    clock.set_clock(clock.frozen_at(RENEWED_AT))
    params = {"source_product_id": seasons.source.id, "target_product_id": seasons.target.id,
              "delivery_modes": ["new_card"], "fallback_mode": None, "mode_replacements": None, "tariffs": None,
              "opt_out_criterion": None, "on_error": "nothing", "reservation_deadline": None, "keep_seats": True,
              "dry_run": True}
    cursor, sales, seq = None, 0, 0
    while True:
        result = renewal.renew(actor, params, cursor, ChunkBudget(job_id="cut", seq=seq, max_items=2, seconds=840))
        sales += result.outcomes.get("sale", 0)
        if result.cursor is None:
            break
        cursor, seq = result.cursor, seq + 1
    assert sales == 9


def test_a_dry_run_does_not_hand_one_free_seat_out_in_two_chunks(actor):
    """Two holders lost their seats and one seat is free: chunks of one subscription each, the
    dry run projects what the real run does (one seated, one without a seat)."""
    seasons = Seasons(actor, tacit=False)
    b1, b2, _ = seasons.seats
    for minute, (name, seat) in enumerate((("Anne", b1), ("Paul", b2))):
        clock.set_clock(clock.frozen_at(datetime(2026, 10, 1, 9, minute, tzinfo=timezone.utc)))
        seasons.sell(actor, contact_named(actor, name), seats={seasons.world.evening.id: seat.id})
    tariff = _show_tariff(actor, seasons)
    for seat in (b1, b2):
        orders.place_order(actor, {"kind": "sale", "payment_type": "cash", "buyer": {"last_name": "Autre"},
                                   "lines": [{"performance_id": seasons.new_performances[0].id, "tariff_id": tariff.id,
                                              "quota_id": seasons.target_quota(actor, 0), "seat_id": seat.id}]})
    clock.set_clock(clock.frozen_at(RENEWED_AT))
    params = {"source_product_id": seasons.source.id, "target_product_id": seasons.target.id,
              "delivery_modes": ["new_card"], "fallback_mode": None, "mode_replacements": None, "tariffs": None,
              "opt_out_criterion": None, "on_error": "nothing",
              "reservation_deadline": datetime(2027, 7, 1, tzinfo=timezone.utc).isoformat(), "keep_seats": True}
    for dry_run in (True, False):
        cursor, outcomes, seq = None, {}, 0
        while True:
            result = renewal.renew(actor, {**params, "dry_run": dry_run}, cursor,
                                   ChunkBudget(job_id="dry", seq=seq, max_items=1, seconds=840))
            for name, count in result.outcomes.items():
                outcomes[name] = outcomes.get(name, 0) + count
            if result.cursor is None:
                break
            cursor, seq = result.cursor, seq + 1
        assert outcomes == {"reservation": 1, "error:no_seat": 1}, (dry_run, outcomes)


def test_a_dry_runs_detail_says_what_the_real_run_would_do_page_by_page(actor, pump):
    """The detail staff read under a dry run's report: each source subscription with its outcome,
    its reason, its delivery mode (and whether it fell back) and its seats, one page at a time,
    writing nothing; the real run starts from a finished dry run only."""
    seasons = Seasons(actor)
    anne, paul = contact_named(actor, "Anne"), contact_named(actor, "Paul")
    mandate = sepa_mandate(actor, anne)
    clock.set_clock(clock.frozen_at(datetime(2026, 10, 1, 9, 1, tzinfo=timezone.utc)))
    seasons.sell(actor, anne, means="sepa_debit", plan="3x", saved_means_id=mandate.id, mode="box_office",
                 seats={seasons.world.evening.id: seasons.seats[0].id})
    clock.advance(timedelta(seconds=1))  # ids made in the same millisecond would sort at random
    seasons.sell(actor, paul, means="cheque")  # no card: an error
    dry = seasons.run(actor, pump, dry_run=True)
    pages = [renewal_detail.dry_run_detail(actor, dry, limit=1, cursor=None)]
    while pages[-1].next_cursor:
        assert len(pages) < 4
        pages.append(renewal_detail.dry_run_detail(actor, dry, limit=1, cursor=pages[-1].next_cursor))
    assert [len(page.items) for page in pages][:2] == [1, 1] and sum(len(page.items) for page in pages) == 2
    first = pages[0]
    assert len(first.next_cursor) < 200  # what the walk carries is kept server-side, not in the address
    [paul_line], [anne_line] = first.items, pages[1].items  # newest first
    assert (paul_line.holder_contact_id, paul_line.outcome, paul_line.reason, paul_line.seats) == (
        paul.id, "error", "no_means", {})
    assert (anne_line.outcome, anne_line.previous_mode, anne_line.mode, anne_line.fell_back) == (
        "sale", "box_office", "print_at_home", True)
    assert anne_line.seats == {p.id: seasons.seats[0].id for p in seasons.new_performances}
    assert anne_line.tariff_id == seasons.target_tariff.id
    assert list(Subscription.by_product.query(f"{actor.tenant_id}#{seasons.target.id}")) == []
    again = renewal.real_run_params(dry)
    assert again["dry_run"] is False and again["source_product_id"] == seasons.source.id
    assert [job.id for job in renewal.list_runs(actor, limit=10, cursor=None).items] == [dry.id]
    real = seasons.run(actor, pump)
    with pytest.raises(Exception) as refused:
        renewal.real_run_params(real)
    assert getattr(refused.value, "status", None) == 409
    with pytest.raises(Exception) as no_detail:
        renewal_detail.dry_run_detail(actor, real, limit=1, cursor=None)
    assert getattr(no_detail.value, "status", None) == 409
    with pytest.raises(Exception) as forged:
        renewal_detail.dry_run_detail(actor, dry, limit=1, cursor=first.next_cursor + "x")
    assert getattr(forged.value, "status", None) == 422
