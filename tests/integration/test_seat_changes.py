"""Seat changes against the real local engines (DOMAIN §4, "Seat change for a subscription").

One performance: the old seat freed and the new one taken at once, the old check-in code
refused at the door, the updated ticket mailed, who asked recorded; a seat taken or of another
venue answers 409 naming it, two changes to the same new seat (one wins); the price
difference collected, refunded through Stripe, owed with an unpaid order, or waived (audited);
the same change id answering the same change.

A subscription: every future performance moved in one action, past ones untouched; with 40
performances (36 to come): one blocked seat changes nothing and names it; a seat taken while
the seats are claimed rolls everything back; a crash while claiming, while switching and after
settling is resumed by the same change id and ends consistent; two changes wanting the same
seats: one wins.
"""
from __future__ import annotations

import secrets
import threading
from datetime import datetime, timedelta, timezone

import pytest

from chalicelib.adapters import clock, ids
from chalicelib.errors import DomainError
from chalicelib.models.audit import AuditEvent
from chalicelib.models.base import tenant_key
from chalicelib.models.money import Refund
from chalicelib.models.orders import Buyer, Order, OrderListing, Payment, Ticket
from chalicelib.models.seat_changes import SeatChange
from chalicelib.models.subscriptions import Subscription
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.services.catalog import catalog
from chalicelib.services.contacts import contacts
from chalicelib.services.documents.checkin import CheckinRefused, check_in, checkin_value
from chalicelib.services.ledger import ledger
from chalicelib.services.mail import notifications
from chalicelib.services.orders import orders
from chalicelib.services.orders.listing import entries_for
from chalicelib.services.seat_changes import common
from chalicelib.services.seat_changes import subscription as subscription_change
from chalicelib.services.seat_changes import ticket as ticket_change
from chalicelib.services.subscriptions import selling, terms
from tests.api.helpers import assert_problem, call
from tests.money_helpers import card_confirmed, refunds_at_stripe
from tests.orders_world import build_world, draft, line

NOW = datetime(2026, 10, 1, 9, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def frozen():
    clock.set_clock(clock.frozen_at(NOW))
    yield
    clock.set_clock(None)


class Hall:
    """The orders world with numbered seats in two categories, and a second venue."""

    def __init__(self, actor):
        self.world = world = build_world(actor)
        venue = world.venue.id
        self.orchestra = catalog.seat_categories.create(actor, {"venue_id": venue, "name": "Orchestre"})
        self.balcony = catalog.seat_categories.create(actor, {"venue_id": venue, "name": "Balcon"})
        self.a = [catalog.create_seat(actor, {"venue_id": venue, "block": "Parterre", "row": "A", "number": str(n),
                                              "category_id": self.orchestra.id}) for n in range(1, 5)]
        self.b = [catalog.create_seat(actor, {"venue_id": venue, "block": "Balcon", "row": "B", "number": str(n),
                                              "category_id": self.balcony.id}) for n in range(1, 5)]
        elsewhere = catalog.venues.create(actor, {"name": "Salle Rameau", "city": "Lyon"})
        self.elsewhere = catalog.create_seat(actor, {"venue_id": elsewhere.id, "block": "R", "row": "1", "number": "1"})

    def sell(self, actor, seat, *, performance=None, payment_type="cash", buyer=None):
        order, _ = orders.place_order(actor, draft(self.world, line(self.world, performance=performance,
                                                                    seat_id=seat.id),
                                                   payment_type=payment_type, buyer=buyer))
        return order


def ticket_of(actor, order_id, position=1) -> Ticket:
    return Ticket.get(tenant_key(actor.tenant_id, order_id), position, consistent_read=True)


def holder(actor, performance_id, seat_id) -> UniqueKey | None:
    return common.holder_of(actor.tenant_id, performance_id, seat_id)


def mails_of(actor, order_id):
    return notifications.of_entity(actor, "order", order_id, limit=50, cursor=None).items


def refused_reason(actor, value) -> str:
    with pytest.raises(CheckinRefused) as error:
        check_in(actor, value)
    return error.value.reason


def audit_of(actor, entity_type, entity_id) -> list[AuditEvent]:
    return list(AuditEvent.query(tenant_key(actor.tenant_id, entity_type, entity_id)))


@pytest.fixture
def hall(actor):
    return Hall(actor)


# -- one performance ---------------------------------------------------------------------------


def test_a_ticket_moves_to_a_free_seat_the_old_seat_goes_back_on_sale_and_the_old_code_is_refused(
        client, staff_headers, actor, hall):
    order = hall.sell(actor, hall.a[0])
    before = ticket_of(actor, order.id)
    old_value = checkin_value(before)
    status, body, _ = call(client, "POST", f"/orders/{order.id}/tickets/1/seat-change", staff_headers,
                           {"seat_id": hall.b[0].id, "requested_by": "buyer", "note": "voit mal depuis le rang A"})
    assert status == 200, body
    assert body["state"] == "done" and body["kind"] == "ticket" and body["requested_by"] == "buyer"
    [step] = body["steps"]
    assert (step["old_seat_id"], step["new_seat_id"], step["state"]) == (hall.a[0].id, hall.b[0].id, "switched")
    assert "new_code" not in step, "the answer never shows a check-in code"
    after = ticket_of(actor, order.id)
    assert (after.seat_id, after.seat_label, after.seat_category_id) == (hall.b[0].id, "Balcon B 1", hall.balcony.id)
    assert after.checkin_code != before.checkin_code and after.price_cents == before.price_cents
    # the door: the printed ticket is superseded, the new one admits (checkin.py: check_in compares the code)
    assert refused_reason(actor, old_value) == "superseded"
    assert check_in(actor, checkin_value(after)).seat_id == hall.b[0].id
    # the seats: the new one is the order's, the old one is on sale again
    evening = hall.world.evening.id
    assert holder(actor, evening, hall.b[0].id).entity_id == order.id
    assert holder(actor, evening, hall.a[0].id) is None
    assert hall.sell(actor, hall.a[0]).id, "the old seat can be sold again"
    # the buyer gets the updated ticket: the confirmation, reason seat-change
    mails = mails_of(actor, order.id)
    [update] = [mail for mail in mails if mail.custom_message]
    assert len(mails) == 2, "the sale's confirmation, then the updated ticket"
    assert update.template == "order_confirmation" and "Parterre A 1 -> Balcon B 1" in update.custom_message
    assert "ne sont plus valables" in update.custom_message
    # audited, with who asked
    [event] = [event for event in audit_of(actor, "order", order.id) if event.action == "seat-change"]
    assert event.after["seat_change"]["requested_by"] == "buyer" and event.actor == "staff-1"
    assert event.after["seat_change"]["seats"][0]["to"] == hall.b[0].id
    listed = call(client, "GET", f"/orders/{order.id}/seat-changes", staff_headers)
    assert listed[0] == 200 and [item["change_id"] for item in listed[1]["items"]] == [body["change_id"]]


def test_a_seat_taken_or_of_another_venue_is_a_409_naming_it_and_bad_input_a_422(client, staff_headers, actor,
                                                                                 hall):
    order = hall.sell(actor, hall.a[0])
    hall.sell(actor, hall.a[1])  # someone else's
    url = f"/orders/{order.id}/tickets/1/seat-change"
    taken = assert_problem(call(client, "POST", url, staff_headers, {"seat_id": hall.a[1].id,
                                                                     "requested_by": "buyer"}), 409, "seat_id")
    assert taken["type"] == "/problems/seat-taken" and hall.a[1].id in taken["errors"][0]["message"]
    other = assert_problem(call(client, "POST", url, staff_headers, {"seat_id": hall.elsewhere.id,
                                                                     "requested_by": "buyer"}), 409, "seat_id")
    assert other["type"] == "/problems/seat-of-another-venue" and hall.elsewhere.id in other["errors"][0]["message"]
    assert_problem(call(client, "POST", url, staff_headers, {"seat_id": ids.new_id(), "requested_by": "buyer"}),
                   422, "seat_id")
    assert_problem(call(client, "POST", url, staff_headers, {"seat_id": hall.a[0].id, "requested_by": "buyer"}),
                   422, "seat_id")
    assert_problem(call(client, "POST", url, staff_headers, {"seat_id": hall.b[0].id, "requested_by": "friend"}),
                   422, "requested_by")
    assert_problem(call(client, "POST", url, staff_headers, {"seat_id": hall.b[0].id, "requested_by": "buyer",
                                                             "price_difference": {"direction": "supplement",
                                                                                  "amount_cents": -5}}),
                   422, "price_difference.amount_cents")
    assert_problem(call(client, "POST", url, staff_headers, {"seat_id": hall.b[0].id, "requested_by": "buyer",
                                                             "price_difference": {"direction": "supplement",
                                                                                  "amount_cents": 500}}),
                   422, "price_difference.means")
    assert_problem(call(client, "POST", url, staff_headers, {"seat_id": hall.b[0].id, "requested_by": "buyer",
                                                             "price_difference": {"direction": "reduction",
                                                                                  "amount_cents": 99_999}}),
                   422, "price_difference.amount_cents")
    assert_problem(call(client, "POST", f"/orders/{order.id}/tickets/7/seat-change", staff_headers,
                        {"seat_id": hall.b[0].id, "requested_by": "buyer"}), 404)
    clock.set_clock(clock.frozen_at(datetime(2026, 12, 13, 9, 0, tzinfo=timezone.utc)))  # the evening has passed
    assert_problem(call(client, "POST", url, staff_headers, {"seat_id": hall.b[0].id, "requested_by": "buyer"}),
                   409, "position")
    assert ticket_of(actor, order.id).seat_id == hall.a[0].id, "nothing changed"


def test_two_changes_to_the_same_new_seat_one_wins_the_other_is_told_the_seat_is_taken(actor, hall):
    sold = [hall.sell(actor, seat) for seat in (*hall.a, *hall.b[1:])]
    barrier = threading.Barrier(len(sold))
    outcomes: list = [None] * len(sold)

    def change(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = ticket_change.change_ticket_seat(
                actor, sold[index].id, 1, {"seat_id": hall.b[0].id, "requested_by": "institution"})
        except DomainError as error:
            outcomes[index] = error

    threads = [threading.Thread(target=change, args=(index,)) for index in range(len(sold))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [index for index, outcome in enumerate(outcomes) if isinstance(outcome, SeatChange)]
    assert len(winners) == 1, outcomes
    losers = [outcome for outcome in outcomes if not isinstance(outcome, SeatChange)]
    assert all(isinstance(error, common.SeatTaken) and error.errors[0].field == "seat_id" for error in losers), losers
    assert holder(actor, hall.world.evening.id, hall.b[0].id).entity_id == sold[winners[0]].id
    seated = [ticket_of(actor, order.id).seat_id for order in sold]
    assert seated.count(hall.b[0].id) == 1, "one ticket on the seat, the others where they were"


def test_a_supplement_on_a_paid_order_is_collected_at_the_box_office_and_counted(actor, hall):
    order = hall.sell(actor, hall.b[0])
    change = ticket_change.change_ticket_seat(actor, order.id, 1, {
        "seat_id": hall.a[0].id, "requested_by": "buyer",
        "price_difference": {"direction": "supplement", "amount_cents": 800, "means": "cash", "reference": "R-12"}})
    assert change.money["outcome"] == "collected" and change.money["amount_cents"] == 800
    after = orders.get_order(actor, order.id)
    assert (after.total_cents, after.paid_cents, after.tickets_cents) == (4000, 4000, 4000)
    assert ticket_of(actor, order.id).price_cents == 4000
    payments = sorted((int(p.amount_cents), p.means, p.reference) for p in orders.payments_of(after))
    assert payments == [(800, "cash", "R-12"), (3200, "cash", None)]
    entries = [entry for entry in ledger.entries_of_order(actor.tenant_id, order.id) if entry.reference == "R-12"]
    assert [(entry.kind, entry.amount_cents, entry.lines[0].gross_sales_cents) for entry in entries] == [
        ("sale", 800, 800)]
    listed = [entry for entry in OrderListing.query(tenant_key(actor.tenant_id, "all", "-"))
              if entry.order_id == order.id]
    assert listed[0].total_cents == 4000, "the list shows the new total"
    update = [mail for mail in mails_of(actor, order.id) if "Supplément" in (mail.custom_message or "")]
    assert len(update) == 1 and "8,00" in update[0].custom_message


def test_a_reduction_on_a_card_order_is_refunded_to_the_card_through_stripe(actor, hall):
    from chalicelib.services.orders import checkout

    made = checkout.start_checkout(actor, draft(hall.world, line(hall.world, seat_id=hall.a[0].id)))
    from chalicelib.services.money import card_payments

    assert card_payments.payment_succeeded(card_confirmed(made.intent.id)) == "paid"
    change = ticket_change.change_ticket_seat(actor, made.order.id, 1, {
        "seat_id": hall.b[0].id, "requested_by": "institution",
        "price_difference": {"direction": "reduction", "amount_cents": 700}})
    assert change.money["outcome"] == "refunded"
    refund = Refund.get(tenant_key(actor.tenant_id, made.order.id), change.money["refund_id"], consistent_read=True)
    assert (refund.origin, refund.means, refund.amount_cents, refund.lines) == ("seat-change", "card", 700, [])
    assert refund.state in ("pending", "succeeded")
    assert [r.amount for r in refunds_at_stripe(made.intent.id)] == [700]
    after = orders.get_order(actor, made.order.id)
    assert (after.total_cents, after.refunded_cents, after.status) == (2500, 700, "complete")
    assert ticket_of(actor, made.order.id).state == "valid", "no ticket is settled by the difference's refund"


def test_a_waived_difference_moves_no_money_and_is_audited(actor, hall):
    order = hall.sell(actor, hall.b[0])
    change = ticket_change.change_ticket_seat(actor, order.id, 1, {
        "seat_id": hall.a[0].id, "requested_by": "institution",
        "price_difference": {"direction": "supplement", "amount_cents": 800, "waived": True}})
    assert change.money == {"outcome": "waived", "amount_cents": 800}
    after = orders.get_order(actor, order.id)
    assert (after.total_cents, after.paid_cents) == (3200, 3200) and ticket_of(actor, order.id).price_cents == 3200
    assert len(orders.payments_of(after)) == 1
    [event] = [event for event in audit_of(actor, "order", order.id) if event.action == "seat-change"]
    assert event.after["seat_change"]["price_difference"]["waived"] is True
    assert event.after["seat_change"]["requested_by"] == "institution"


def test_an_unpaid_order_owes_the_difference_and_pays_it_with_the_order(actor, hall):
    order = hall.sell(actor, hall.b[0], payment_type="cheque")
    ticket_change.change_ticket_seat(actor, order.id, 1, {
        "seat_id": hall.a[0].id, "requested_by": "buyer",
        "price_difference": {"direction": "supplement", "amount_cents": 300}})
    assert orders.get_order(actor, order.id).total_cents == 3500
    paid = orders.mark_paid(actor, order.id, reference="chèque 42")
    assert [p.amount_cents for p in orders.payments_of(paid)] == [3500]


def test_the_same_change_id_is_the_same_change_and_another_request_under_it_is_refused(client, staff_headers, actor,
                                                                                      hall):
    order = hall.sell(actor, hall.a[0])
    url = f"/orders/{order.id}/tickets/1/seat-change"
    asked = {"change_id": "guichet-2026-10-01-001", "seat_id": hall.b[0].id, "requested_by": "buyer"}
    first = call(client, "POST", url, staff_headers, asked)
    again = call(client, "POST", url, staff_headers, asked)
    assert first[0] == again[0] == 200 and first[1] == again[1]
    assert len([mail for mail in mails_of(actor, order.id) if mail.custom_message]) == 1, "mailed once"
    assert_problem(call(client, "POST", url, staff_headers, {**asked, "seat_id": hall.b[1].id}), 409, "change_id")
    assert ticket_of(actor, order.id).seat_id == hall.b[0].id


# -- a subscription sold at the box office ---------------------------------------------------


def test_a_subscription_moves_every_future_performance_in_one_action_past_ones_untouched(client, staff_headers,
                                                                                        actor, hall):
    world = hall.world
    family = catalog.product_families.create(actor, {"name": "Abonnements"})
    product = catalog.products.create(actor, {"kind": "subscription", "name": "Abonnement Célestins",
                                              "family_id": family.id, "season_id": world.show.season_id})
    tariff = catalog.tariffs.create(actor, {"product_id": product.id, "name": "Abonné", "price_cents": 9000})
    performances = [world.evening, world.matinee, world.other_performance]
    quotas = [world.evening_quota, world.matinee_quota, world.other_quota]
    terms.set_terms(actor, product.id, {
        "performances": [{"performance_id": p.id, "quota_id": q.id} for p, q in zip(performances, quotas)],
        "choose": None, "delivery_modes": ["box_office"],
        "payment_plans": [{"id": "once", "label": "Comptant", "instalments": 1}]})
    payer = contacts.create_contact(actor, {"first_name": "Anne", "last_name": "Martin",
                                            "emails": [{"address": "anne@exemple.fr"}]})
    sale = selling.sell(actor, {
        "product_id": product.id, "tariff_id": tariff.id, "payer_contact_id": payer.id, "delivery_mode": "box_office",
        "plan_id": "once", "means": "cash", "saved_means_id": None,
        "subscribers": [{"holder_contact_id": payer.id, "seats": {p.id: hall.a[0].id for p in performances}}]})
    [subscription] = sale.subscriptions
    clock.set_clock(clock.frozen_at(datetime(2026, 12, 12, 23, 0, tzinfo=timezone.utc)))  # the evening is past
    past_code = ticket_of(actor, sale.order.id, 1).checkin_code
    status, body, _ = call(client, "POST", f"/subscriptions/{subscription.id}/seat-change", staff_headers,
                           {"seat_id": hall.b[2].id, "requested_by": "buyer"})
    assert status == 200, body
    assert [step["performance_id"] for step in body["steps"]] == [world.matinee.id, world.other_performance.id]
    assert [(item["performance_id"], item["reason"]) for item in body["untouched"]] == [(world.evening.id, "past")]
    past = ticket_of(actor, sale.order.id, 1)
    assert (past.seat_id, past.checkin_code) == (hall.a[0].id, past_code), "the past performance is untouched"
    assert holder(actor, world.evening.id, hall.a[0].id).entity_id == sale.order.id
    for position, performance in ((2, world.matinee), (3, world.other_performance)):
        assert ticket_of(actor, sale.order.id, position).seat_id == hall.b[2].id
        assert holder(actor, performance.id, hall.a[0].id) is None
        assert holder(actor, performance.id, hall.b[2].id).entity_id == sale.order.id
    assert common.read_lock(actor.tenant_id, subscription.id) is None
    [event] = [event for event in audit_of(actor, "subscription", subscription.id) if event.action == "seat-change"]
    assert event.after["seat_change"]["requested_by"] == "buyer"
    update = [mail for mail in mails_of(actor, sale.order.id) if "Balcon B 3" in (mail.custom_message or "")]
    assert len(update) == 1 and update[0].recipient == "anne@exemple.fr"
    # one performance of it, on its own, follows the same rules
    changed = ticket_change.change_ticket_seat(actor, sale.order.id, 3, {"seat_id": hall.b[3].id,
                                                                         "requested_by": "institution"})
    assert changed.subscription_id == subscription.id and ticket_of(actor, sale.order.id, 3).seat_id == hall.b[3].id


# -- a subscription of 40 performances ---------------------------------------------------------


FIRST_PERFORMANCE = datetime(2026, 9, 3, 18, 30, tzinfo=timezone.utc)  # weekly: 4 are past on NOW, 36 to come


class Season40:
    """A venue with 40 weekly performances of one show, and seats."""

    def __init__(self, actor):
        self.actor = actor
        venue = catalog.venues.create(actor, {"name": "Opéra de Lyon", "city": "Lyon"})
        season = catalog.seasons.create(actor, {"name": "2026-2027", "starts_on": datetime(2026, 9, 1).date(),
                                                "ends_on": datetime(2027, 6, 30).date()})
        self.family = catalog.product_families.create(actor, {"name": "Opéra"})
        self.season_id = season.id
        show = catalog.products.create(actor, {"kind": "show", "name": "La Traviata", "family_id": self.family.id,
                                               "season_id": season.id})
        self.performances = [catalog.create_performance(actor, {
            "product_id": show.id, "venue_id": venue.id, "starts_at": FIRST_PERFORMANCE + timedelta(weeks=week)})
            for week in range(40)]
        category = catalog.seat_categories.create(actor, {"venue_id": venue.id, "name": "Corbeille"})
        self.seats = {label: catalog.create_seat(actor, {"venue_id": venue.id, "block": "Corbeille", "row": label[0],
                                                         "number": label[1:], "category_id": category.id})
                      for label in ("A1", "A2", "C1", "C2", "D1")}

    @property
    def future(self):
        return [p for p in self.performances if p.starts_at > clock.now()]

    def subscription(self, seat_label: str, email: str) -> Subscription:
        """A subscription of the 40 performances on one seat, as a sale (or a renewal) leaves it:
        one paid order of 40 tickets with their seat claims, its listing entries, the subscription.
        Written directly: one order of 40 seated tickets is beyond one placing transaction."""
        actor, seat = self.actor, self.seats[seat_label]
        tenant, now = actor.tenant_id, clock.now()
        product = catalog.products.create(actor, {"kind": "subscription", "name": f"Abonnement {seat_label}",
                                                  "family_id": self.family.id, "season_id": self.season_id})
        tariff = catalog.tariffs.create(actor, {"product_id": product.id, "name": "Abonné", "price_cents": 40_000})
        payer = contacts.create_contact(actor, {"first_name": "Paul", "last_name": f"Durand {seat_label}",
                                                "emails": [{"address": email}]})
        order_id, subscription_id = ids.new_id(), ids.new_id()
        tickets = [Ticket(order_key=tenant_key(tenant, order_id), position=n, tenant_id=tenant, order_id=order_id,
                          performance_id=p.id, product_id=p.product_id, tariff_id=tariff.id, tariff_name=tariff.name,
                          seat_id=seat.id, seat_label=common.seat_label(seat), seat_category_id=seat.category_id,
                          subscription_id=subscription_id, price_cents=1000, vat_rate_bp=550,
                          attendee_name="Paul Durand", state="valid", checkin_code=secrets.token_urlsafe(12))
                   for n, p in enumerate(self.performances, start=1)]
        order = Order(tenant_id=tenant, id=order_id, number=orders.next_number(tenant), kind="sale",
                      buyer=Buyer(contact_id=payer.id, first_name="Paul", last_name=payer.last_name, email=email,
                                  language="fr"),
                      payment_type="cash", paid=True, paid_at=now, currency="EUR", tickets_cents=40_000,
                      discount_cents=0, fees_cents=0, tax_cents=0, total_cents=40_000, paid_cents=40_000,
                      ticket_count=40, status="complete", performance_ids={p.id for p in self.performances},
                      tariff_ids={tariff.id}, product_ids={self.performances[0].product_id}, created_by="staff-1",
                      created_at=now, updated_at=now)
        common.retotal(order, tickets)
        order.save()
        with Ticket.batch_write() as batch:
            for ticket in tickets:
                batch.save(ticket)
        with UniqueKey.batch_write() as batch:
            for ticket in tickets:
                batch.save(orders.seat_claim(tenant, order_id, ticket.performance_id, seat.id))
        with OrderListing.batch_write() as batch:
            for entry in entries_for(order):
                batch.save(entry)
        subscription = Subscription(
            tenant_id=tenant, id=subscription_id, product_id=product.id, season_id=self.season_id,
            tariff_id=tariff.id, holder_contact_id=payer.id, payer_contact_id=payer.id, order_id=order_id,
            ticket_positions=list(range(1, 41)), performance_ids=[p.id for p in self.performances],
            price_cents=40_000, delivery_mode="box_office", means="cash", plan_id="once", instalments=[],
            created_by="staff-1", created_at=now, updated_at=now)
        subscription.set_index_keys()
        subscription.save()
        return subscription

    def tickets(self, subscription) -> list[Ticket]:
        return sorted(orders.tickets_of(orders.get_order(self.actor, subscription.order_id)),
                      key=lambda ticket: int(ticket.position))


@pytest.fixture
def season(actor):
    return Season40(actor)


def consistent(actor, season: Season40, subscription, *, old: str, new: str | None) -> None:
    """Every performance has its ticket on exactly one seat, and only that seat's claim: past ones
    on ``old``; future ones on ``new`` (``None``: all still on ``old``, and no claim of ``new``)."""
    old_seat = season.seats[old].id
    new_seat = season.seats[new].id if new else None
    for ticket, performance in zip(season.tickets(subscription), season.performances):
        moved = new_seat is not None and performance.starts_at > clock.now()
        assert ticket.seat_id == (new_seat if moved else old_seat), (ticket.position, ticket.seat_id)
        assert holder(actor, performance.id, ticket.seat_id).entity_id == subscription.order_id
        other = old_seat if moved else new_seat
        if other is not None:
            claim = holder(actor, performance.id, other)
            assert claim is None or claim.entity_id != subscription.order_id, (ticket.position, "two seats")
    assert common.read_lock(actor.tenant_id, subscription.id) is None


def test_forty_performances_with_one_blocked_seat_change_nothing_and_the_answer_names_it(client, staff_headers,
                                                                                        actor, season):
    subscription = season.subscription("A1", "paul@exemple.fr")
    blocked = season.future[22]
    orders.seat_claim(actor.tenant_id, ids.new_id(), blocked.id, season.seats["C1"].id).save()  # sold to someone else
    codes = [ticket.checkin_code for ticket in season.tickets(subscription)]
    problem = assert_problem(call(client, "POST", f"/subscriptions/{subscription.id}/seat-change", staff_headers,
                                  {"seat_id": season.seats["C1"].id, "requested_by": "buyer"}), 409, "seat_id")
    assert problem["type"] == "/problems/seat-taken"
    assert [blocked.id in error["message"] for error in problem["errors"]] == [True], problem["errors"]
    consistent(actor, season, subscription, old="A1", new=None)
    assert [ticket.checkin_code for ticket in season.tickets(subscription)] == codes
    assert all(holder(actor, p.id, season.seats["C1"].id) is None for p in season.future if p.id != blocked.id)


def test_forty_performances_a_seat_taken_while_claiming_rolls_everything_back(actor, season, monkeypatch):
    subscription = season.subscription("A1", "paul@exemple.fr")
    seat = season.seats["C1"].id
    keys = sorted((common.seat_key(actor.tenant_id, p.id, seat), p) for p in season.future)
    late = keys[25][1]  # claimed after the 10th: a sale takes it in between

    def sale_meanwhile(stage, done):
        if stage == "claimed" and done == 10:
            orders.seat_claim(actor.tenant_id, ids.new_id(), late.id, seat).save()

    monkeypatch.setattr(subscription_change, "_checkpoint", sale_meanwhile)
    asked = {"change_id": "renew-seat-0001", "seat_id": seat, "requested_by": "institution"}
    with pytest.raises(common.SeatTaken) as error:
        subscription_change.change_subscription_seats(actor, subscription.id, asked)
    assert [late.id in item.message for item in error.value.errors] == [True]
    consistent(actor, season, subscription, old="A1", new=None)
    mine = [holder(actor, p.id, seat) for p in season.future]
    assert [claim for claim in mine if claim is not None and claim.change_id] == [], "every claim given back"
    change = common.find_change(actor.tenant_id, subscription.order_id, "renew-seat-0001")
    assert change.state == "refused" and [item["performance_id"] for item in change.blocking] == [late.id]
    with pytest.raises(common.SeatTaken):  # asked again: the same answer
        subscription_change.change_subscription_seats(actor, subscription.id, asked)


@pytest.mark.parametrize("crash_at", [("claimed", 20), ("switched", 1), ("switched", 2), ("settled", 36)])
def test_forty_performances_a_crash_midway_is_resumed_by_the_same_change_and_ends_consistent(actor, season,
                                                                                            monkeypatch, crash_at):
    subscription = season.subscription("A1", "paul@exemple.fr")
    before = season.tickets(subscription)
    old_values = {int(t.position): checkin_value(t) for t in before}

    def die(stage, done):
        if (stage, done) == crash_at:
            raise RuntimeError("the Lambda died here")

    monkeypatch.setattr(subscription_change, "_checkpoint", die)
    asked = {"change_id": "move-to-c1-0001", "seat_id": season.seats["C1"].id, "requested_by": "buyer",
             "price_difference": {"direction": "reduction", "amount_cents": 100}}
    with pytest.raises(RuntimeError):
        subscription_change.change_subscription_seats(actor, subscription.id, asked)
    midway = common.find_change(actor.tenant_id, subscription.order_id, "move-to-c1-0001")
    assert midway.state == {"claimed": "claiming", "switched": "switching", "settled": "done"}[crash_at[0]]
    for ticket, performance in zip(season.tickets(subscription), season.performances):
        assert holder(actor, performance.id, ticket.seat_id).entity_id == subscription.order_id, "never on no seat"
    monkeypatch.setattr(subscription_change, "_checkpoint", lambda stage, done: None)

    change = subscription_change.change_subscription_seats(actor, subscription.id, asked)

    assert change.state == "done" and len(change.steps) == 36 and len(change.untouched) == 4
    assert {step["state"] for step in change.steps} == {"switched"}
    consistent(actor, season, subscription, old="A1", new="C1")
    after = season.tickets(subscription)
    for ticket, performance in zip(after, season.performances):
        if performance.starts_at > clock.now():
            assert refused_reason(actor, old_values[int(ticket.position)]) == "superseded"
            assert ticket.price_cents == 900
        else:
            assert ticket.checkin_code == before[int(ticket.position) - 1].checkin_code and ticket.price_cents == 1000
    # the difference refunded once (offline: a cash order), the figures once per ticket
    order = orders.get_order(actor, subscription.order_id)
    refunds = list(Refund.query(tenant_key(actor.tenant_id, order.id)))
    assert [(r.amount_cents, r.means, r.state) for r in refunds] == [(3600, "offline", "pending")]
    assert (order.total_cents, order.refunded_cents) == (36_400, 3600)
    entries = [e for e in ledger.entries_of_order(actor.tenant_id, order.id)]
    assert sum(int(line.refunds_cents) for e in entries for line in e.lines) == 3600
    assert sum(int(e.amount_cents) for e in entries if e.kind == "refund") == 3600
    assert len([m for m in mails_of(actor, order.id) if m.custom_message]) == 1, "mailed once"
    again = subscription_change.change_subscription_seats(actor, subscription.id, asked)
    assert again.state == "done" and len(list(Refund.query(tenant_key(actor.tenant_id, order.id)))) == 1


def test_forty_performances_two_changes_wanting_the_same_seats_one_wins(actor, season):
    first = season.subscription("A1", "paul@exemple.fr")
    second = season.subscription("A2", "pierre@exemple.fr")
    barrier = threading.Barrier(2)
    outcomes: dict = {}

    def change(subscription) -> None:
        barrier.wait()
        try:
            outcomes[subscription.id] = subscription_change.change_subscription_seats(
                actor, subscription.id, {"seat_id": season.seats["C1"].id, "requested_by": "institution"})
        except DomainError as error:
            outcomes[subscription.id] = error

    threads = [threading.Thread(target=change, args=(subscription,)) for subscription in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    done = [s for s in (first, second) if isinstance(outcomes[s.id], SeatChange)]
    assert len(done) == 1, outcomes
    [winner] = done
    loser = second if winner is first else first
    assert isinstance(outcomes[loser.id], common.SeatTaken), outcomes[loser.id]
    consistent(actor, season, winner, old="A1" if winner is first else "A2", new="C1")
    consistent(actor, season, loser, old="A1" if loser is first else "A2", new=None)
    for performance in season.future:
        assert holder(actor, performance.id, season.seats["C1"].id).entity_id == winner.order_id


def test_a_change_left_midway_holds_the_subscription_until_resumed_then_a_later_change_finishes_it_first(
        actor, season, monkeypatch):
    subscription = season.subscription("A1", "paul@exemple.fr")

    def die(stage, done):
        if (stage, done) == ("switched", 1):
            raise RuntimeError("the Lambda died here")

    monkeypatch.setattr(subscription_change, "_checkpoint", die)
    with pytest.raises(RuntimeError):
        subscription_change.change_subscription_seats(actor, subscription.id, {
            "change_id": "left-midway-01", "seat_id": season.seats["C1"].id, "requested_by": "buyer"})
    monkeypatch.setattr(subscription_change, "_checkpoint", lambda stage, done: None)
    last = season.tickets(subscription)[-1]
    with pytest.raises(common.SeatChangeUnderWay):  # one of its tickets, alone, while it is under way
        ticket_change.change_ticket_seat(actor, subscription.order_id, int(last.position),
                                         {"seat_id": season.seats["D1"].id, "requested_by": "buyer"})
    clock.advance(subscription_change.STALE_AFTER + timedelta(seconds=1))
    changed = ticket_change.change_ticket_seat(actor, subscription.order_id, int(last.position),
                                               {"seat_id": season.seats["D1"].id, "requested_by": "buyer"})
    assert changed.state == "done"
    first_change = common.find_change(actor.tenant_id, subscription.order_id, "left-midway-01")
    assert first_change.state == "done", "the stale change was finished first"
    tickets = season.tickets(subscription)
    assert tickets[-1].seat_id == season.seats["D1"].id
    assert {t.seat_id for t, p in zip(tickets[:-1], season.performances) if p.starts_at > clock.now()} == {
        season.seats["C1"].id}
    assert holder(actor, season.performances[-1].id, season.seats["C1"].id) is None
    assert [p.amount_cents for p in Payment.query(tenant_key(actor.tenant_id, subscription.order_id))] == []


def test_a_subscription_change_seat_by_seat_and_its_bad_input(client, staff_headers, actor, season):
    subscription = season.subscription("A1", "paul@exemple.fr")
    url = f"/subscriptions/{subscription.id}/seat-change"
    c1, c2 = season.seats["C1"].id, season.seats["C2"].id
    first, second = season.future[0], season.future[1]
    past = season.performances[0]
    other_venue = catalog.venues.create(actor, {"name": "Salle Molière", "city": "Lyon"})
    foreign = catalog.create_seat(actor, {"venue_id": other_venue.id, "block": "M", "row": "1", "number": "1"})
    assert_problem(call(client, "POST", url, staff_headers, {"seat_id": c1, "seats": {first.id: c1},
                                                             "requested_by": "buyer"}), 422, "seat_id")
    assert_problem(call(client, "POST", url, staff_headers, {"requested_by": "buyer"}), 422, "seat_id")
    assert_problem(call(client, "POST", url, staff_headers, {"seats": {ids.new_id(): c1}, "requested_by": "buyer"}),
                   422, "seats")
    assert_problem(call(client, "POST", url, staff_headers, {"seats": {past.id: c1}, "requested_by": "buyer"}),
                   409, f"seats.{past.id}")
    assert_problem(call(client, "POST", url, staff_headers, {"seats": {first.id: foreign.id},
                                                             "requested_by": "buyer"}), 409, f"seats.{first.id}")
    assert_problem(call(client, "POST", url, staff_headers, {"seat_id": foreign.id, "requested_by": "buyer"}),
                   409, "seat_id")
    assert_problem(call(client, "POST", f"/subscriptions/{ids.new_id()}/seat-change", staff_headers,
                        {"seat_id": c1, "requested_by": "buyer"}), 404)
    consistent(actor, season, subscription, old="A1", new=None)
    status, body, _ = call(client, "POST", url, staff_headers, {"seats": {first.id: c1, second.id: c2},
                                                                "requested_by": "institution"})
    assert status == 200, body
    assert [(step["performance_id"], step["new_seat_id"]) for step in body["steps"]] == [(first.id, c1),
                                                                                        (second.id, c2)]
    reasons = [item["reason"] for item in body["untouched"]]
    assert reasons.count("past") == 4 and reasons.count("not asked") == 34
    tickets = season.tickets(subscription)
    assert (tickets[4].seat_id, tickets[5].seat_id, tickets[6].seat_id) == (c1, c2, season.seats["A1"].id)
