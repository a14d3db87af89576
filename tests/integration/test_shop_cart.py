"""The public shop's cart over the real tables (DynamoDB Local), localstripe and the jobs queue:
places held from the moment they are in the cart and never twice, bounded per cart and per
connection, refused where a geographic limit forbids (on adding and again at checkout), taken
over by the order at checkout, and given back when the hold is over (the follow-up schedule) or
a line is removed."""
from __future__ import annotations

import dataclasses
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from chalicelib.adapters import clock
from chalicelib.errors import ConcurrentChange, Conflict, InvalidInput, NotFound
from chalicelib.models.base import tenant_key
from chalicelib.models.carts import Cart
from chalicelib.models.catalog import Performance, Quota
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.services.catalog import catalog
from chalicelib.services.money import card_payments
from chalicelib.services.options import schedule
from chalicelib.services.orders import cancellations, checkout, orders
from chalicelib.services.shop import carts, geo_limits
from devtools.geo_database import SAMPLE
from tests.api.helpers import assert_problem, call
from tests.job_helpers import drive
from tests.money_helpers import card_confirmed, stripe_failing
from tests.orders_world import build_world

JSON = {"Content-Type": "application/json"}
STRASBOURG, PARIS = SAMPLE["strasbourg"][0], SAMPLE["paris"][0]
BUYER = {"last_name": "Martin", "first_name": "Léa", "email": "lea@exemple.fr"}


@pytest.fixture
def world(actor):
    """The small catalog, its performances moved to the weeks to come (the cart sells future ones only)."""
    built = build_world(actor, capacity=6)
    soon = clock.now().replace(microsecond=0) + timedelta(days=10)
    for days, name in enumerate(("evening", "matinee", "other_performance")):
        moved = catalog.update_performance(actor, getattr(built, name).id, {"starts_at": soon + timedelta(days=days)})
        setattr(built, name, moved)
    return built


@pytest.fixture(autouse=True)
def real_clock():
    yield
    clock.set_clock(None)


def bounded(monkeypatch, **bounds):
    monkeypatch.setattr(carts, "settings", dataclasses.replace(carts.settings, **bounds))


def remaining(quota) -> int:
    return int(Quota.get(quota.tenant_id, quota.id, consistent_read=True).remaining)


def seat_holder(actor, performance, seat) -> tuple[str, str] | None:
    try:
        claim = UniqueKey.get(tenant_key(actor.tenant_id, "seat_sold", performance.id, seat.id), consistent_read=True)
    except UniqueKey.DoesNotExist:
        return None
    return claim.entity_type, claim.entity_id


def new_cart(actor, address="203.0.113.7", **fields) -> str:
    return carts.token_of(carts.open_cart(actor.tenant_id, channel_id=fields.get("channel_id"),
                                          language=fields.get("language", "fr"), client_address=address))


def places(world, quantity=None, performance=None, tariff=None, seats=()) -> carts.Line:
    performance = performance or world.evening
    quota = {world.evening.id: world.evening_quota, world.matinee.id: world.matinee_quota,
             world.other_performance.id: world.other_quota}[performance.id]
    return carts.Line(performance.id, (tariff or world.full_price).id, quota.id, quantity=quantity,
                      seat_ids=tuple(seat.id for seat in seats))


def add(actor, token, line, address="203.0.113.7") -> Cart:
    return carts.add_line(actor.tenant_id, token, line, client_address=address)


# -- holding -----------------------------------------------------------------------------------


def test_places_are_held_from_the_moment_they_are_added_and_given_back_when_removed(actor, world):
    token = new_cart(actor)
    cart = add(actor, token, places(world, 2))
    assert remaining(world.evening_quota) == 4
    cart = add(actor, token, places(world, 1))  # the same places again: one line of three
    assert [item["quantity"] for item in cart.items] == [3] and carts.total_of(cart) == 3 * 3200
    cart = add(actor, token, places(world, 1, tariff=world.reduced))
    assert remaining(world.evening_quota) == 2 and carts.total_of(cart) == 3 * 3200 + 2100

    full, reduced = cart.items
    cart = carts.change_line(actor.tenant_id, token, full["id"], quantity=1, seat_ids=None)
    assert remaining(world.evening_quota) == 4
    cart = carts.remove_line(actor.tenant_id, token, reduced["id"])
    assert remaining(world.evening_quota) == 5 and carts.total_of(cart) == 3200
    assert carts.get_cart(actor.tenant_id, token).items == cart.items


def test_chosen_seats_are_claimed_in_the_carts_name_and_nobody_else_can_take_them(actor, world):
    first, second = new_cart(actor), new_cart(actor, "203.0.113.8")
    seat_a1, seat_a2, _ = world.seats
    add(actor, first, places(world, seats=[seat_a1, seat_a2]))
    cart_id = carts.get_cart(actor.tenant_id, first).id
    assert seat_holder(actor, world.evening, seat_a1) == ("cart", cart_id)

    with pytest.raises(Conflict) as taken:
        add(actor, second, places(world, seats=[seat_a2]), "203.0.113.8")
    assert "Orchestre A 2" in taken.value.detail and taken.value.errors[0].field == "seat_ids"
    with pytest.raises(orders.SoldOut):  # the box office cannot sell it either
        orders.place_order(actor, {"kind": "sale", "payment_type": "cash", "buyer": BUYER, "lines": [
            {"performance_id": world.evening.id, "tariff_id": world.full_price.id,
             "quota_id": world.evening_quota.id, "seat_id": seat_a2.id}]})
    assert remaining(world.evening_quota) == 4 and carts.get_cart(actor.tenant_id, second).items == []

    [line] = carts.get_cart(actor.tenant_id, first).items
    carts.change_line(actor.tenant_id, first, line["id"], quantity=None, seat_ids=(seat_a2.id,))
    assert seat_holder(actor, world.evening, seat_a1) is None  # the seat left out is free again
    assert remaining(world.evening_quota) == 5


def test_racing_carts_never_hold_more_places_than_remain(actor, world):
    tokens = [new_cart(actor, f"198.51.100.{n}") for n in range(10)]

    def attempt(token):
        try:
            add(actor, token, places(world, 1))
            return "held"
        except orders.SoldOut:
            return "sold out"

    with ThreadPoolExecutor(max_workers=8) as pool:
        outcomes = list(pool.map(attempt, tokens))
    assert outcomes.count("held") == 6 and remaining(world.evening_quota) == 0


def test_two_tabs_changing_one_cart_cannot_both_pass(actor, world):
    token = new_cart(actor)
    add(actor, token, places(world, 1))
    stale = carts.get_cart(actor.tenant_id, token)
    add(actor, token, places(world, 1, tariff=world.reduced))
    with pytest.raises(ConcurrentChange):
        carts._hold(stale, [], action="remove", details={})
    assert remaining(world.evening_quota) == 4  # the stale write gave nothing back twice


# -- bounds --------------------------------------------------------------------------------------


def test_a_cart_is_bounded_in_lines_and_places(actor, world, monkeypatch):
    bounded(monkeypatch, cart_max_items=2, cart_max_tickets=4)
    token = new_cart(actor)
    add(actor, token, places(world, 2))
    add(actor, token, places(world, 1, performance=world.matinee))
    with pytest.raises(carts.CartFull):
        add(actor, token, places(world, 1, performance=world.other_performance, tariff=world.other_tariff))
    with pytest.raises(carts.CartFull):
        add(actor, token, places(world, 2))  # five places
    assert remaining(world.evening_quota) == 4 and remaining(world.other_quota) == 6


def test_one_connection_opens_a_bounded_number_of_carts_an_hour(actor, world, monkeypatch):
    bounded(monkeypatch, carts_per_client_hour=3)
    for _ in range(3):
        new_cart(actor, "192.0.2.50")
    with pytest.raises(carts.TooManyCarts):
        new_cart(actor, "192.0.2.50")
    new_cart(actor, "192.0.2.51")  # another connection
    clock.set_clock(clock.frozen_at(clock.now() + timedelta(hours=1)))
    new_cart(actor, "192.0.2.50")  # the next hour


def test_concurrent_openings_cannot_pass_the_bound_together(actor, monkeypatch):
    bounded(monkeypatch, carts_per_client_hour=4)

    def attempt(_):
        try:
            new_cart(actor, "192.0.2.77")
            return "opened"
        except carts.TooManyCarts:
            return "refused"

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(attempt, range(10))).count("opened") == 4


# -- what cannot be added ------------------------------------------------------------------------


def test_off_sale_sold_out_and_unknown_places_are_clear_refusals_holding_nothing(actor, world):
    token = new_cart(actor, language="en")
    world.matinee.update(actions=[Performance.status.set("postponed")])  # as a postponement campaign does
    with pytest.raises(carts.NotOnSale) as off_sale:
        add(actor, token, places(world, 1, performance=world.matinee))
    assert off_sale.value.detail == "This performance is not on sale."
    with pytest.raises(orders.SoldOut):
        add(actor, token, places(world, 7))
    with pytest.raises(InvalidInput) as unknown:
        add(actor, token, carts.Line("01J0000000000000000000000A", world.full_price.id, world.evening_quota.id,
                                     quantity=1))
    assert unknown.value.errors[0].field == "performance_id"
    with pytest.raises(InvalidInput) as other_show:
        add(actor, token, places(world, 1, tariff=world.other_tariff))
    assert other_show.value.errors[0].field == "tariff_id"
    assert remaining(world.evening_quota) == 6 and carts.get_cart(actor.tenant_id, token).items == []


def test_a_performance_already_begun_is_off_sale(actor, world):
    clock.set_clock(clock.frozen_at(world.evening.starts_at - timedelta(minutes=5)))
    token = new_cart(actor)
    add(actor, token, places(world, 1))
    clock.set_clock(clock.frozen_at(world.evening.starts_at + timedelta(minutes=1)))
    with pytest.raises(carts.NotOnSale) as refused:
        add(actor, token, places(world, 1))
    assert refused.value.detail == "Cette séance n'est pas en vente."


def test_a_geographic_limit_refuses_the_addition_with_the_point_of_sales_message(actor, world, geo_database):
    channel = catalog.sales_channels.create(actor, {"name": "Site web", "kind": "web",
                                              "geo_refusal_message": "Vente impossible depuis votre connexion.",
                                              "geo_refusal_message_en": "Not available from your connection."})
    geo_limits.create_limit(actor, world.evening.id, {"country": "FR", "postcode_prefixes": ["67"]})
    token = new_cart(actor, STRASBOURG, channel_id=channel.id, language="en")
    with pytest.raises(geo_limits.GeoRestricted) as refused:
        add(actor, token, places(world, 1), STRASBOURG)
    assert refused.value.detail == "Not available from your connection."
    assert remaining(world.evening_quota) == 6
    add(actor, token, places(world, 1, performance=world.matinee), STRASBOURG)  # another performance: no limit
    add(actor, new_cart(actor, PARIS), places(world, 1), PARIS)  # Paris is not the Bas-Rhin


def test_checkout_checks_the_limits_again_so_a_cart_filled_elsewhere_cannot_slip_through(
        actor, world, geo_database):
    token = new_cart(actor, PARIS)
    add(actor, token, places(world, 2), PARIS)
    geo_limits.create_limit(actor, world.evening.id, {"country": "FR", "postcode_prefixes": ["67"]})
    with pytest.raises(geo_limits.GeoRestricted):
        carts.check_out(actor.tenant_id, token, BUYER, client_address=STRASBOURG)
    cart = carts.get_cart(actor.tenant_id, token)
    assert cart.state == "open" and remaining(world.evening_quota) == 4  # still held, for a checkout from Paris
    made = carts.check_out(actor.tenant_id, token, BUYER, client_address=PARIS)
    assert made.checkout.order.ticket_count == 2


def test_the_checkout_without_a_cart_obeys_the_limits_too(client, actor, world, geo_database, monkeypatch):
    from chalicelib.handlers import http

    geo_limits.create_limit(actor, world.evening.id, {"country": "FR"})
    monkeypatch.setattr(http, "settings", dataclasses.replace(http.settings, stage="dev", local_source_ip=PARIS))
    body = {"buyer": BUYER, "lines": [{"performance_id": world.evening.id, "tariff_id": world.full_price.id,
                                       "quota_id": world.evening_quota.id}]}
    problem = assert_problem(call(client, "POST", f"/shop/{actor.tenant_id}/checkout", JSON, body), 403)
    assert problem["type"] == "/problems/geo-restricted" and remaining(world.evening_quota) == 6


# -- checkout --------------------------------------------------------------------------------------


def test_checkout_takes_the_places_over_and_the_paid_order_keeps_them(actor, world):
    token = new_cart(actor)
    seat = world.seats[0]
    add(actor, token, places(world, 2))
    add(actor, token, places(world, seats=[seat], tariff=world.reduced))
    made = carts.check_out(actor.tenant_id, token, BUYER, client_address="203.0.113.7")
    order = made.checkout.order
    assert remaining(world.evening_quota) == 3  # taken over: not taken twice, never back on sale meanwhile
    assert seat_holder(actor, world.evening, seat) == ("order", order.id)
    assert order.total_cents == 2 * 3200 + 2100 and order.ticket_count == 3
    cart = carts.get_cart(actor.tenant_id, token)
    assert (cart.state, cart.order_id) == ("checked_out", order.id)

    again = carts.check_out(actor.tenant_id, token, BUYER, client_address="203.0.113.7")
    assert (again.checkout.order.id, again.checkout.intent.id) == (order.id, made.checkout.intent.id)
    with pytest.raises(carts.CartClosed):
        add(actor, token, places(world, 1))

    assert card_payments.payment_succeeded(card_confirmed(made.checkout.intent.id)) == "paid"
    assert orders.get_order(actor, order.id).paid and remaining(world.evening_quota) == 3


def test_a_checkout_whose_payment_cannot_start_gives_the_places_back_and_says_so(actor, world, monkeypatch):
    token = new_cart(actor)
    add(actor, token, places(world, 2))
    with stripe_failing(monkeypatch, "network"), pytest.raises(checkout.PaymentUnavailable):
        carts.check_out(actor.tenant_id, token, BUYER, client_address="203.0.113.7")
    assert remaining(world.evening_quota) == 6
    cart = carts.get_cart(actor.tenant_id, token)
    assert cart.state == "released"
    with pytest.raises(carts.CartClosed) as closed:
        carts.check_out(actor.tenant_id, token, BUYER, client_address="203.0.113.7")
    assert "remises en vente" in closed.value.detail


def test_an_empty_cart_is_not_checked_out(actor, world):
    with pytest.raises(Conflict):
        carts.check_out(actor.tenant_id, new_cart(actor), BUYER, client_address=None)


# -- the end of the hold -------------------------------------------------------------------------


def sweep(pump, tenant_id, moment):
    clock.set_clock(clock.frozen_at(moment))
    report = schedule.sweep(moment, tenant_id=tenant_id)
    return [drive(pump, tenant_id, job_id) for job_id in report.started]


def test_the_schedule_gives_an_abandoned_carts_places_and_seats_back(actor, world, pump):
    token = new_cart(actor)
    add(actor, token, places(world, 2))
    add(actor, token, places(world, seats=[world.seats[1]]))
    untouched = new_cart(actor, "203.0.113.9")
    add(actor, untouched, places(world, 1, performance=world.matinee), "203.0.113.9")
    cart = carts.get_cart(actor.tenant_id, token)

    early = sweep(pump, actor.tenant_id, cart.expires_at - timedelta(minutes=1))
    assert not any(job.kind == "options.expire_carts" for job in early) and remaining(world.evening_quota) == 3

    jobs = sweep(pump, actor.tenant_id, cart.expires_at + timedelta(minutes=1))
    [job] = [job for job in jobs if job.kind == "options.expire_carts"]
    assert job.outcomes == {"done": 2}
    assert remaining(world.evening_quota) == 6 and remaining(world.matinee_quota) == 6
    assert seat_holder(actor, world.evening, world.seats[1]) is None
    assert carts.get_cart(actor.tenant_id, token).state == "expired"
    with pytest.raises(carts.CartClosed) as closed:
        add(actor, token, places(world, 1))
    assert "écoulé" in closed.value.detail
    assert not any(job.kind == "options.expire_carts" for job in sweep(pump, actor.tenant_id, clock.now()))


def test_a_change_after_the_hold_gives_everything_back_at_once(actor, world):
    token = new_cart(actor)
    add(actor, token, places(world, 3))
    cart = carts.get_cart(actor.tenant_id, token)
    clock.set_clock(clock.frozen_at(cart.expires_at + timedelta(seconds=1)))
    with pytest.raises(carts.CartClosed):
        carts.check_out(actor.tenant_id, token, BUYER, client_address=None)
    assert remaining(world.evening_quota) == 6


def test_an_expiry_racing_the_checkout_ends_in_exactly_one_of_them(actor, world):
    for _ in range(5):
        token = new_cart(actor)
        add(actor, token, places(world, 1))
        cart = carts.get_cart(actor.tenant_id, token)
        clock.set_clock(clock.frozen_at(cart.expires_at - timedelta(milliseconds=1)))

        def expire():
            clock.set_clock(clock.frozen_at(cart.expires_at))
            return carts.expire_cart(carts._actor(actor.tenant_id), cart.id)

        def pay():
            try:
                return carts.check_out(actor.tenant_id, token, BUYER, client_address=None).checkout.order.id
            except (carts.CartClosed, ConcurrentChange):
                return None

        with ThreadPoolExecutor(max_workers=2) as pool:
            expiry, paying = pool.submit(expire), pool.submit(pay)
            expired, order_id = expiry.result(), paying.result()
        clock.set_clock(None)
        final = carts.get_cart(actor.tenant_id, token)
        if order_id:
            assert final.state == "checked_out" and expired != carts.EXPIRED
            assert remaining(world.evening_quota) == 5  # the order's, until it is paid or its own hold ends
            cancellations.release_hold(actor, order_id, reason="the buyer gave up")
        else:
            assert final.state == "expired"
        assert remaining(world.evening_quota) == 6


# -- the public API ------------------------------------------------------------------------------


def test_the_cart_through_the_api(client, actor, world):
    status, opened, _ = call(client, "POST", f"/shop/{actor.tenant_id}/carts", JSON, {"language": "fr"})
    assert status == 201, opened
    path = f"/shop/{actor.tenant_id}/carts/{opened['cart']}"
    status, cart, _ = call(client, "POST", f"{path}/lines", JSON, {
        "performance_id": world.evening.id, "tariff_id": world.full_price.id, "quota_id": world.evening_quota.id,
        "quantity": 2})
    assert status == 201, cart
    assert (cart["ticket_count"], cart["total_cents"], cart["currency"]) == (2, 6400, "EUR")
    [line] = cart["lines"]
    status, cart, _ = call(client, "PATCH", f"{path}/lines/{line['item_id']}", JSON, {"quantity": 1})
    assert status == 200 and cart["total_cents"] == 3200
    status, made, _ = call(client, "POST", f"{path}/checkout", JSON, {"buyer": BUYER})
    assert status == 201 and made["client_secret"] and made["total_cents"] == 3200
    status, cart, _ = call(client, "GET", path, {}, None)
    assert (cart["state"], cart["order_id"]) == ("checked_out", made["order_id"])


@pytest.mark.parametrize("body, field", [
    ({"quantity": 0}, "quantity"),
    ({"quantity": None}, "quantity"),
    ({"quantity": 2, "seat_ids": ["01J0000000000000000000000A"]}, "quantity"),
    ({"quantity": 1, "performance_id": "not-an-id"}, "performance_id"),
])
def test_bad_lines_are_422_naming_the_field_and_hold_nothing(client, actor, world, body, field):
    token = new_cart(actor)
    line = {"performance_id": world.evening.id, "tariff_id": world.full_price.id,
            "quota_id": world.evening_quota.id, **body}
    line = {key: value for key, value in line.items() if value is not None}
    assert_problem(call(client, "POST", f"/shop/{actor.tenant_id}/carts/{token}/lines", JSON, line), 422, field)
    assert remaining(world.evening_quota) == 6


def test_a_made_up_or_another_venues_cart_is_404(client, actor, world, signer):
    token = new_cart(actor)
    for path in (f"/shop/{actor.tenant_id}/carts/{token[:-2]}xx", f"/shop/another-venue/carts/{token}",
                 f"/shop/{actor.tenant_id}/carts/not-a-token"):
        assert_problem(call(client, "GET", path, {}, None), 404)
    with pytest.raises(NotFound):
        carts.get_cart("another-venue", token)


def test_a_seat_of_another_venue_is_a_409_naming_it(actor, world):
    elsewhere = catalog.venues.create(actor, {"name": "Salle Molière", "city": "Lyon"})
    stranger = catalog.create_seat(actor, {"venue_id": elsewhere.id, "block": "Balcon", "row": "C", "number": "7"})
    with pytest.raises(Conflict) as refused:
        add(actor, new_cart(actor), places(world, seats=[stranger]))
    assert refused.value.kind == "seat-of-another-venue" and refused.value.errors[0].field == "seat_ids"
    assert "Balcon C 7" in refused.value.detail and remaining(world.evening_quota) == 6
