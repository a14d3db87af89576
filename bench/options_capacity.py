"""The options follow-up at a real size: what one page of the list costs at 1,000 and at 100,000
open options (it must follow the page, not the options), and what "release for all" of 10,000
lines writes, how long its longest chunk runs against a Lambda's limit, and that running it a
second time adds nothing.

    .venv/bin/python bench/options_capacity.py [--options 100000] [--small 1000] [--release 10000] [--page 50]
                                               [--parts list,release]

Starts its own DynamoDB Local (in memory, on a free 127.0.0.1 port) and stops it after.

**The list.** One venue, one season, one product family, five shows of ten performances each
(50 performances), three tariffs. Open options and reservations (one to three places on one
line, deadlines spread over 60 days) are made in memory as ``services.orders`` would, their
follow-up rows and day counters computed by ``services.orders.follow_up`` itself, and written
with BatchWriteItem (the list never reads orders or tickets). Then, at ``--small`` and again at
``--options`` options, the read units of one page of ``--page`` rows through
``services.options.listing.find_lines`` exactly as the route calls it (the filters' references
checked, the page's Query, the count), for each mandatory-filter set: options and reservations,
deadlines up to D+5 (to remind) and up to D-7 (to release). Target: ratio large/small <= 1.1.

**Release for all.** Another venue: ``--release`` options of one place each, placed whole (order,
ticket, listing entries, follow-up rows, counters, due actions, places taken from the quota)
from the same code as ``place_order`` and batch-written. Then the ``options.release`` job runs
chunk by chunk as the jobs Lambda would (a 900 s budget each), metered: write units per line
released, the longest chunk against the limit (target <= 5 %), then the same job again: it must
release nothing and write nothing but its reading.
"""
from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loading import start_local_dynamodb  # noqa: E402
from devtools import engines  # noqa: E402

LAMBDA_LIMIT_SECONDS = 900
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=timezone.utc)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--options", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--release", type=int, default=10_000)
    parser.add_argument("--page", type=int, default=50)
    parser.add_argument("--parts", default="list,release", help="list, release, or both (comma separated)")
    args = parser.parse_args()
    stack = engines.Stack()
    start_local_dynamodb(stack, MAIL_TRANSPORT="smtp")
    try:
        from chalicelib.adapters import clock
        from chalicelib.models.registry import create_missing_tables

        clock.set_clock(clock.frozen_at(NOW))
        create_missing_tables()
        if "list" in args.parts:
            list_cost(args)
        if "release" in args.parts:
            release_all(args)
    finally:
        stack.stop()


# -- a venue to hold places in ------------------------------------------------------------------


def make_venue(tenant_id: str, capacity: int):
    from chalicelib.services.catalog import catalog
    from chalicelib.services.shared.actors import Actor

    actor = Actor(tenant_id, "bench", frozenset({"admin"}))
    venue = catalog.venues.create(actor, {"name": "Théâtre des Célestins", "city": "Lyon"})
    season = catalog.seasons.create(actor, {"name": "2026-2027", "starts_on": date(2026, 9, 1),
                                           "ends_on": date(2027, 6, 30)})
    family = catalog.product_families.create(actor, {"name": "Théâtre"})
    lines = []
    for rank in range(5):
        product = catalog.products.create(actor, {"kind": "show", "name": f"Spectacle {rank}", "family_id": family.id,
                                                 "season_id": season.id})
        tariffs = [catalog.tariffs.create(actor, {"product_id": product.id, "name": name, "price_cents": price})
                   for name, price in (("Plein tarif", 3200), ("Tarif réduit", 2100), ("Moins de 26 ans", 1200))]
        for n in range(10):
            performance = catalog.create_performance(actor, {
                "product_id": product.id, "venue_id": venue.id, "starts_at": NOW + timedelta(days=30 + 7 * n + rank)})
            quota = catalog.quotas.create(actor, {"performance_id": performance.id, "name": "Tout public",
                                                 "capacity": capacity})
            lines.append((product, performance, quota, tariffs))
    return actor, season, family, lines


def held_order(actor, rng: random.Random, lines, number: int, *, kind: str, places: int, deadline: datetime):
    """An open hold made by ``services.orders`` code in memory: the order, its tickets, and what its
    write carries (listing entries, follow-up rows, counters, due actions)."""
    from chalicelib.adapters import ids
    from chalicelib.services.orders import follow_up, orders
    from chalicelib.services.orders.derived import derived_writes

    _cache_catalog_reads(follow_up)

    product, performance, quota, tariffs = rng.choice(lines)
    tariff = rng.choice(tariffs)
    priced = [orders.PricedLine(performance, tariff, quota, None, None, None)] * places
    draft = {"kind": kind, "payment_type": "cheque", "deadline": deadline,
             "buyer": {"first_name": "Client", "last_name": f"Bench{number}"}}
    original, orders.next_number = orders.next_number, lambda tenant_id, sequence="orders": number
    try:
        order, tickets = orders._build(actor, draft, priced, ids.new_id())
    finally:
        orders.next_number = original
    return order, tickets, derived_writes(None, order, tickets=tickets), quota


def _cache_catalog_reads(follow_up) -> None:
    """The setup makes thousands of orders of the same few products under one policy: read each
    once (the measured runs below read as the app does)."""
    from functools import lru_cache

    from chalicelib.models.catalog import Product

    if getattr(follow_up, "_bench_cached", False):
        return
    policy_of = lru_cache(maxsize=None)(follow_up.policy_of)
    follow_up.policy_of = policy_of
    product_get = lru_cache(maxsize=None)(lambda tenant_id, product_id: Product._bench_get(tenant_id, product_id))
    Product._bench_get = Product.get
    follow_up.Product = type("CachedProduct", (), {"get": staticmethod(product_get)})
    follow_up._bench_cached = True


def _uncache_catalog_reads(follow_up) -> None:
    from chalicelib.models.catalog import Product

    if getattr(follow_up, "_bench_cached", False):
        follow_up.policy_of = follow_up.policy_of.__wrapped__
        follow_up.Product = Product
        follow_up._bench_cached = False


class Loader:
    """BatchWriteItem from a few threads; the day counters and the quotas added up and written once."""

    def __init__(self) -> None:
        self.items: list = []
        self.counts: Counter = Counter()
        self.places: Counter = Counter()

    def add(self, order, tickets, derived, quota, *, whole: bool) -> None:
        if whole:
            self.items += [order, *tickets, *derived.listing_saves]
            self.places[(quota.tenant_id, quota.id)] += len(tickets)
        self.items += [item for item, _ in derived.follow.saves]
        for key, (lines, places) in derived.follow.counts.items():
            self.counts[(*key, "lines")] += lines
            self.counts[(*key, "places")] += places

    def flush(self, threads: int = 4) -> None:
        from bench.loading import write_in_batches
        from chalicelib.models.catalog import Quota
        from chalicelib.models.options import HoldLineCount

        write_in_batches(self.items, threads=threads)
        for (key, day, what), value in self.counts.items():
            HoldLineCount(count_key=key, day=day).update(actions=[getattr(HoldLineCount, what).add(value)])
        for (tenant_id, quota_id), taken in self.places.items():
            Quota(tenant_id=tenant_id, id=quota_id).update(actions=[Quota.remaining.add(-taken)],
                                                          add_version_condition=False)
        self.items, self.counts, self.places = [], Counter(), Counter()


# -- the list ---------------------------------------------------------------------------------


def list_cost(args) -> None:
    from bench.capacity import metered
    from chalicelib.services.options import listing

    rng = random.Random(7)
    actor, season, family, lines = make_venue("bench-list", capacity=10_000_000)
    made = 0
    figures: dict = {}
    for target in (args.small, args.options):
        loader = Loader()
        started = time.time()
        while made < target:
            kind = "option" if rng.random() < 0.7 else "reservation"
            deadline = NOW + timedelta(days=rng.uniform(-30, 30))
            order, tickets, derived, quota = held_order(actor, rng, lines, made + 1, kind=kind,
                                                        places=rng.randint(1, 3), deadline=deadline)
            loader.add(order, tickets, derived, quota, whole=False)
            made += 1
        loader.flush()
        from chalicelib.services.orders import follow_up

        _uncache_catalog_reads(follow_up)
        print(f"setup                 : {target} open options and reservations in {time.time() - started:.0f} s "
              f"(not measured)")
        for kind in ("option", "reservation"):
            for label, day in (("D+5", (NOW + timedelta(days=5)).date()), ("D-7", (NOW - timedelta(days=7)).date())):
                chosen = listing.LineFilters(kind=kind, deadline_on_or_before=day, season_id=season.id,
                                             family_id=family.id)
                with metered() as meter:
                    page = listing.find_lines(actor, chosen, limit=args.page, cursor=None)
                with metered() as next_meter:
                    listing.find_lines(actor, chosen, limit=args.page, cursor=page.next_cursor)
                figures.setdefault((kind, label), []).append(
                    (meter.read_units, next_meter.read_units, page.matching_lines, len(page.items)))
    print(f"one page of {args.page} rows, read units (first page with its count; next page), "
          f"at {args.small} vs {args.options} options:")
    worst = 0.0
    for (kind, label), ((small_first, small_next, small_count, _), (large_first, large_next, large_count, rows)) \
            in figures.items():
        ratio = large_first / small_first
        worst = max(worst, ratio)
        if small_count >= 2 * args.page:  # both next pages full: comparable
            worst = max(worst, large_next / small_next)
        print(f"  {kind:11} up to {label}: {small_first:5.1f} -> {large_first:5.1f} (ratio {ratio:.2f}); next page "
              f"{small_next:4.1f} -> {large_next:4.1f}; lines matching {small_count} -> {large_count}, {rows} shown")
    print(f"worst ratio           : {worst:.2f} (target <= 1.1)")


# -- release for all ----------------------------------------------------------------------------


def release_all(args) -> None:
    from bench.capacity import metered, priced, transaction_items
    from chalicelib.services.jobs.framework import ChunkBudget
    from chalicelib.services.options import bulk, listing

    rng = random.Random(11)
    actor, season, family, lines = make_venue("bench-release", capacity=10_000_000)
    loader = Loader()
    started = time.time()
    for number in range(1, args.release + 1):
        order, tickets, derived, quota = held_order(actor, rng, lines, number, kind="option", places=1,
                                                    deadline=NOW - timedelta(days=rng.uniform(1, 20)))
        loader.add(order, tickets, derived, quota, whole=True)
    loader.flush()
    from chalicelib.services.orders import follow_up

    _uncache_catalog_reads(follow_up)
    print(f"setup                 : {args.release} options of one place placed whole in {time.time() - started:.0f} s "
          f"(not measured)")
    chosen = listing.LineFilters(kind="option", deadline_on_or_before=NOW.date(), season_id=season.id,
                                 family_id=family.id)
    params = {"filters": chosen.as_params(), "zone": "Europe/Paris", "mail": False, "reason": "bench"}

    def run() -> tuple[list[float], Counter]:
        cursor, seq, durations, outcomes = None, 0, [], Counter()
        while True:
            budget = ChunkBudget(job_id="bench-release", seq=seq, max_items=bulk.PAGES_PER_CHUNK,
                                 seconds=LAMBDA_LIMIT_SECONDS - 60)
            began = time.monotonic()
            result = bulk.release_chunk(actor, params, cursor, budget)
            durations.append(time.monotonic() - began)
            outcomes.update(result.outcomes)
            if result.cursor is None:
                return durations, outcomes
            cursor, seq = result.cursor, seq + 1

    with metered() as first, transaction_items() as items:
        durations, outcomes = run()
    released = outcomes.get("done", 0)
    print(f"release for all       : {released} lines released in {len(durations)} chunks, "
          f"{first.write_units / max(released, 1):.1f} write units and {first.read_units / max(released, 1):.1f} "
          f"read units per line")
    parts = ", ".join(f"{name.split('-', 1)[-1]} {units / max(released, 1):.2f}"
                      for name, units in first.table_writes.most_common())
    print(f"writes per line       : {parts}")
    written = ", ".join(f"{table.split('-', 1)[-1]} {count / max(released, 1):.2f}" for table, count in
                        items.most_common())
    print(f"items per line        : {written} (what the transactions carry; DynamoDB Local reports a "
          f"transaction's capacity per table, not per item)")
    print(f"priced per line       : {priced(items) / max(released, 1):.1f} write units by DynamoDB's rule for "
          f"transactions (2 per KB of each item, item sizes bounded above by 1 KB except the order and the "
          f"audit event, measured), plus {first.index_writes_total() / max(released, 1):.1f} for indexes as reported")
    longest = max(durations)
    print(f"longest chunk         : {longest:.1f} s of a {LAMBDA_LIMIT_SECONDS} s Lambda "
          f"({longest / LAMBDA_LIMIT_SECONDS:.3f}; target <= 0.05)")
    with metered() as second:
        _, again = run()
    print(f"second run            : {dict(again) or 'nothing to do'}, {second.write_units:.0f} write units, "
          f"{second.read_units:.1f} read units")


if __name__ == "__main__":
    main()
