"""The seats a renewal hands out, read once per chunk of the run.

The rule (``docs/subscriptions.md``): at each new performance, the seat the holder had at that
venue last season if it is free; else the **best free seat of the same category**: the first in
the venue's order (block, row, number) that is free at that performance and that no subscriber
still to renew (not renewed, not cancelled) held at that venue last season, so their seat waits
for them whatever order the run takes them in.

**Cost.** A chunk keeps a :class:`Seating`: per new performance and category, a pool of the free
seats found so far and the place where its walk of the venue's seats stopped. A holder whose seat
is taken gets the pool's first seat; only an empty pool walks on, a block of seats at a time (one
``BatchGetItem`` of their claims at that performance, then one per last season's performance at
that venue for the seats still in the running), and stops once it found one. So the venue's seats
of a category are read at most once per chunk however many holders need one, a holder's own seats
cost one ``BatchGetItem``. Whether a seat awaits its subscriber: its claims at last season's
performances name the subscription (read in one ``BatchGetItem`` a block, once per chunk each);
a claim naming none (an ordinary ticket's, or one sold before claims named their subscription)
names its order, whose tickets are read once per chunk.

A dry run writes nothing, so its next chunk would find free the seats this one handed out from
pools: the cursor carries them (up to ``DRY_SEATS_CARRIED``; beyond, the dry run may project a
seat twice).

**Nothing here writes.** The seats handed out are taken in memory for the rest of the chunk; the
order's transaction (its conditional seat claims) decides. A seat handed out and not written (the
renewal ended in an error, or the write failed) is given back; a seat a concurrent sale took in
between is dropped (:meth:`Seating.drop_lost`), and the renewal asks again.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from itertools import islice
from typing import Iterator

from chalicelib.models.base import tenant_key
from chalicelib.models.catalog import Performance, Seat
from chalicelib.models.orders import Ticket
from chalicelib.models.subscriptions import Subscription
from chalicelib.models.unique_keys import UniqueKey

FIRST_BLOCK = 16  # seats looked at by a walk's first step: the best free seat is often near the front
LAST_BLOCK = 100  # a BatchGetItem's most keys

Place = tuple[str, str]  # (performance id, seat id)


@dataclass
class SeatPool:
    """The free seats of one category at one new performance, found so far, in the venue's order."""

    walk: Iterator[Seat]  # the venue's seats of the category not looked at yet
    free: list[tuple[str, str]] = field(default_factory=list)  # (position, seat id), sorted
    block: int = FIRST_BLOCK  # how many seats the walk's next step looks at


class Seating:
    """One chunk's view of the new performances' seats (module docstring)."""

    def __init__(self, tenant_id: str, source_product_id: str, source_performances: list[Performance]) -> None:
        self.tenant_id = tenant_id
        self.source_product_id = source_product_id
        self.source_performances = source_performances
        self.handed: set[Place] = set()
        self.pools: dict[tuple[str, str | None], SeatPool] = {}
        self.from_pools: dict[Place, tuple[tuple[str, str | None], str]] = {}  # a pool's seat handed: pool, position
        self.open_orders: dict[str, bool] = {}
        self.open_subscriptions: dict[str, bool] = {}
        self.carried: dict[str, list[str]] = {}  # a dry run's: seats earlier chunks handed out from pools

    # -- what a renewal asks --------------------------------------------------------------------

    def seats_for(self, wanted: list[tuple[Performance, tuple[str, str | None]]], *,
                  fresh: bool = False) -> tuple[dict[str, str], bool]:
        """The holder's seat at each performance of ``wanted`` (with the seat they had for it last
        season and its category), taken in memory; whether one could not be found (then none is
        taken). ``fresh``: the own seats read consistently (after a failed write)."""
        own = self._still_free([(performance.id, seat_id) for performance, (seat_id, _) in wanted], fresh=fresh)
        chosen: dict[str, str] = {}
        for performance, (seat_id, category_id) in wanted:
            found = seat_id if (performance.id, seat_id) in own else self._best_free(performance, category_id)
            if found is None:
                self.give_back(chosen)
                return {}, True
            chosen[performance.id] = found
            self.handed.add((performance.id, found))
        return chosen, False

    def give_back(self, seats: dict[str, str]) -> None:
        """Seats handed out that will not be written: free again for the rest of the chunk."""
        for performance_id, seat_id in seats.items():
            self.handed.discard((performance_id, seat_id))
            origin = self.from_pools.pop((performance_id, seat_id), None)
            if origin is not None:  # a pool's seat goes back in its place; a holder's own is read again
                pool_key, position = origin
                bisect.insort(self.pools[pool_key].free, (position, seat_id))

    def drop_lost(self, seats: list[dict[str, str]]) -> bool:
        """After a write that failed for want of places: the seats of ``seats`` someone else took
        meanwhile stay out (read consistently), the others are given back. Whether any was lost."""
        places = [(performance_id, seat_id) for chosen in seats for performance_id, seat_id in chosen.items()]
        claimed = self._claimed(places, consistent=True)
        for place in places:
            if place not in claimed:
                self.give_back({place[0]: place[1]})
            else:
                self.from_pools.pop(place, None)
        return bool(claimed)

    def assume_handed(self, places: dict[str, list[str]]) -> None:
        """A dry run's chunk: the seats earlier chunks handed out from pools (``{performance:
        [seat]}``), which a real run would have written, are taken."""
        self.handed |= {(performance_id, seat_id) for performance_id, seats in places.items() for seat_id in seats}
        self.carried = places

    def handed_from_pools(self, *, limit: int) -> dict[str, list[str]]:
        """The seats handed out from pools, this chunk's and those carried in (at most ``limit``),
        for a dry run's next chunk."""
        places = {performance_id: list(seats) for performance_id, seats in self.carried.items()}
        count = sum(len(seats) for seats in places.values())
        for performance_id, seat_id in self.from_pools:
            if count >= limit:
                break
            places.setdefault(performance_id, []).append(seat_id)
            count += 1
        return places

    # -- the pools ------------------------------------------------------------------------------

    def _best_free(self, performance: Performance, category_id: str | None) -> str | None:
        pool = self._pool(performance, category_id)
        while True:
            while not pool.free:
                block = list(islice(pool.walk, pool.block))
                if not block:
                    return None
                pool.block = min(pool.block * 2, LAST_BLOCK)
                pool.free += [(seat.position, seat.id) for seat in self._free_and_unawaited(performance, block)]
            position, seat_id = pool.free.pop(0)
            if (performance.id, seat_id) not in self.handed:
                break
        self.from_pools[(performance.id, seat_id)] = ((performance.id, category_id), position)
        return seat_id

    def _pool(self, performance: Performance, category_id: str | None) -> SeatPool:
        key = (performance.id, category_id)
        if key not in self.pools:
            seats = Seat.by_venue.query(tenant_key(self.tenant_id, performance.venue_id))
            self.pools[key] = SeatPool(walk=(seat for seat in seats if seat.category_id == category_id))
        return self.pools[key]

    def _free_and_unawaited(self, performance: Performance, block: list[Seat]) -> list[Seat]:
        """The seats of ``block`` free at ``performance`` and awaiting no subscriber still to renew."""
        claimed = self._claimed([(performance.id, seat.id) for seat in block])
        left = [seat for seat in block if (performance.id, seat.id) not in claimed
                and (performance.id, seat.id) not in self.handed]
        for previous in self.source_performances:
            if previous.venue_id != performance.venue_id or not left:
                continue
            holders = self._claims([(previous.id, seat.id) for seat in left])
            self._learn_holders(holders.values())
            left = [seat for seat in left if not self._awaits(holders.get((previous.id, seat.id)))]
        return left

    # -- reading claims and their holders --------------------------------------------------------

    def _key(self, place: Place) -> str:
        return tenant_key(self.tenant_id, "seat_sold", *place)

    def _claims(self, places: list[Place], *, consistent: bool = False) -> dict[Place, UniqueKey]:
        by_key = {self._key(place): place for place in places}
        found = UniqueKey.batch_get(list(by_key), consistent_read=consistent) if by_key else []
        return {by_key[claim.key]: claim for claim in found}

    def _claimed(self, places: list[Place], *, consistent: bool = False) -> set[Place]:
        return set(self._claims(places, consistent=consistent))

    def _still_free(self, places: list[Place], *, fresh: bool) -> set[Place]:
        claimed = self._claimed(places, consistent=fresh)
        return {place for place in places if place not in claimed and place not in self.handed}

    def _learn_holders(self, claims) -> None:
        """Read, once per chunk, the subscriptions holding these claims (a subscription's ticket's
        claim names it; a sabbatical's placeholder holds its own): whether they are still to renew.
        A claim naming none (an ordinary ticket, or one sold before claims named their
        subscription) is resolved through its order's tickets, each order read once per chunk."""
        claims = list(claims)
        orders = {claim.entity_id for claim in claims if claim.entity_type == "order" and not claim.subscription_id}
        orders -= set(self.open_orders)
        by_order = {order_id: {ticket.subscription_id for ticket in Ticket.query(tenant_key(self.tenant_id, order_id))
                               if ticket.subscription_id} for order_id in orders}
        wanted = {sub for subs in by_order.values() for sub in subs}
        wanted |= {claim.entity_id for claim in claims if claim.entity_type == "subscription"}
        wanted |= {claim.subscription_id for claim in claims if claim.subscription_id}
        wanted -= set(self.open_subscriptions)
        for subscription in Subscription.batch_get([(self.tenant_id, sub) for sub in wanted]) if wanted else []:
            self.open_subscriptions[subscription.id] = subscription.product_id == self.source_product_id \
                and not subscription.renewed_into and subscription.state != "cancelled"
        for order_id, subscriptions in by_order.items():
            self.open_orders[order_id] = any(self.open_subscriptions.get(sub, False) for sub in subscriptions)

    def _awaits(self, claim: UniqueKey | None) -> bool:
        if claim is None:
            return False
        if claim.subscription_id:
            return self.open_subscriptions.get(claim.subscription_id, False)
        if claim.entity_type == "subscription":  # a sabbatical's placeholder keeps it
            return self.open_subscriptions.get(claim.entity_id, False)
        return self.open_orders.get(claim.entity_id, False)
