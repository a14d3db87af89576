"""No oversell: 50 buyers at once for the last 10 places of a quota get exactly 10 orders."""
from __future__ import annotations

import threading

from chalicelib.errors import DomainError
from chalicelib.models.base import tenant_key
from chalicelib.models.catalog import Quota
from chalicelib.models.orders import OrderListing
from chalicelib.services.orders import orders
from tests.orders_world import build_world, draft, line


def test_fifty_concurrent_buyers_for_the_last_ten_places(actor):
    world = build_world(actor, capacity=10)
    outcomes: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(50)

    def buyer(index: int) -> None:
        start.wait()
        try:
            orders.place_order(actor, draft(world, line(world), buyer={"last_name": f"Acheteur {index}"}))
            result = "sold"
        except orders.SoldOut:
            result = "sold out"
        except DomainError as error:  # anything else is a failure of the test
            result = f"error: {error.detail}"
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=buyer, args=(n,)) for n in range(50)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("sold") == 10 and outcomes.count("sold out") == 40, outcomes
    quota = Quota.get(actor.tenant_id, world.evening_quota.id, consistent_read=True)
    assert quota.remaining == 0
    placed = list(OrderListing.query(tenant_key(actor.tenant_id, "performance", world.evening.id)))
    assert len(placed) == 10


def test_one_seat_is_sold_once(actor):
    world = build_world(actor)
    seat = world.seats[0]
    orders.place_order(actor, draft(world, line(world, seat_id=seat.id)))
    try:
        orders.place_order(actor, draft(world, line(world, seat_id=seat.id)))
        raise AssertionError("the same seat was sold twice")
    except orders.SoldOut:
        pass
    # the same seat at another performance is another place
    orders.place_order(actor, draft(world, line(world, performance=world.matinee, seat_id=seat.id)))
