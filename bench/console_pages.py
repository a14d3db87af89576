"""Server time of the staff console's order screens at a small and a large number of orders: a
page reads one page of results, never the table, so its time must not follow the table.

    .venv/bin/python bench/console_pages.py [--orders 100000] [--small 1000] [--rounds 15] [--threads 3]

Starts its own DynamoDB Local (in memory, on a free 127.0.0.1 port) and stops it after. Two
venues (tenants) are loaded with the generated orders of ``bench/orders_list_capacity.py`` (same
spread, same writing): one with ``--small`` orders, the other with ``--orders``. Each console
page is then asked through the app itself (Chalice's test client: routing, the session cookie,
the services, DynamoDB, the Jinja2 page, the headers), alternately for the small and the large
venue (A B A B...), ``--rounds`` times each, after one warm-up pair. Printed per page: the median
server time for each venue, the ratio large/small with the spread of the per-round ratios, and
the DynamoDB items read per page. Target: ratio <= 1.2 for every page.

DynamoDB Local is not DynamoDB: absolute times are this machine's, only the ratio is the finding.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import orders_list_capacity as orders_bench  # noqa: E402
from bench.loading import start_local_dynamodb  # noqa: E402
from devtools import engines  # noqa: E402

SMALL, LARGE = "bench-small", "bench-large"
TARGET_RATIO = 1.2


def load_venue(tenant: str, count: int, threads: int, seed: int):
    """A venue's catalog and ``count`` orders; returns what the pages will ask for."""
    from chalicelib.services.shared.actors import Actor

    orders_bench.TENANT = tenant  # the generated orders' tenant (the loader reads it as it builds them)
    actor = Actor(tenant, "bench", frozenset({"admin"}))
    cat = orders_bench.make_catalog(actor)
    stats = orders_bench.LoadStats()
    seconds = orders_bench.load(1, count, threads, seed, cat, stats)
    print(f"{tenant}: {count:,} orders ({stats.entries:,} listing entries) loaded in {seconds:.0f} s", flush=True)
    return actor


def session_cookie(actor) -> str:
    from chalicelib.adapters.tokens import VerifiedClaims
    from chalicelib.services.staff_sessions import sessions

    _, cookie = sessions.open_session(VerifiedClaims(actor.subject, actor.tenant_id, actor.roles))
    return f"console_session={cookie}"


def pages_of(actor) -> dict[str, str]:
    """The console addresses measured, for one venue (the same questions asked of both)."""
    from chalicelib.models.orders import Order

    newest = next(iter(Order.query(actor.tenant_id, scan_index_forward=False, limit=1)))
    return {
        "orders, first page": "/console/orders",
        "orders, status filter": "/console/orders?status=complete",
        "orders, payment filter": "/console/orders?payment_type=cheque",
        "orders, kind filter": "/console/orders?kind=option",
        "orders, search a number": f"/console/orders?q={newest.number}",
        "orders, search a name": "/console/orders?q=mar",  # a page full at both sizes
        "orders, a rarer name": "/console/orders?q=Lef%C3%A8vre",  # 9 orders of 1,000: a part page there
        "one order": f"/console/orders/{newest.id}",
        "campaigns": "/console/campaigns",
        "jobs": "/console/jobs",
    }


class DynamoDBCount:
    """Items DynamoDB returned, counted at botocore's door."""

    def __init__(self) -> None:
        import botocore.client

        self.items = 0
        original = botocore.client.BaseClient._make_api_call
        counter = self

        def counted(client, operation, params):
            answer = original(client, operation, params)
            if client.meta.service_model.service_name == "dynamodb":
                counter.items += len(answer.get("Items", [])) + (1 if answer.get("Item") else 0) + sum(
                    len(found) for found in answer.get("Responses", {}).values())
            return answer

        botocore.client.BaseClient._make_api_call = counted


def timed(http, path: str, cookie: str, count: DynamoDBCount) -> tuple[float, int]:
    before = count.items
    started = time.perf_counter()
    answer = http.get(path, headers={"cookie": cookie})
    elapsed = time.perf_counter() - started
    if answer.status_code != 200:
        raise SystemExit(f"{path} answered {answer.status_code}: {answer.body[:300]!r}")
    return elapsed, count.items - before


def measure(http, venues: dict, rounds: int, count: DynamoDBCount) -> list[tuple]:
    rows = []
    small_pages, large_pages = (pages_of(venues[SMALL][0]), pages_of(venues[LARGE][0]))
    for name in small_pages:
        times = {SMALL: [], LARGE: []}
        items = {}
        for round_number in range(rounds + 1):  # round 0 warms both up and is not kept
            for tenant, pages in ((SMALL, small_pages), (LARGE, large_pages)):
                seconds, read = timed(http, pages[name], venues[tenant][1], count)
                if round_number:
                    times[tenant].append(seconds)
                    items[tenant] = read
        ratios = [large / small for small, large in zip(times[SMALL], times[LARGE])]
        rows.append((name, statistics.median(times[SMALL]), statistics.median(times[LARGE]),
                     statistics.median(ratios), min(ratios), max(ratios), items[SMALL], items[LARGE]))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--threads", type=int, default=3)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    stack = engines.Stack()
    with tempfile.TemporaryDirectory(prefix="console-bench-") as logs:
        start_local_dynamodb(stack, log_dir=Path(logs), STAGE="test", SIGNING_SECRET="0" * 32)
        try:
            run(args)
        finally:
            stack.stop()


def run(args) -> None:
    from chalice.test import Client

    from chalicelib.models.registry import create_missing_tables

    create_missing_tables()
    venues = {}
    for tenant, count in ((SMALL, args.small), (LARGE, args.orders)):
        actor = load_venue(tenant, count, args.threads, args.seed)
        venues[tenant] = (actor, session_cookie(actor))
    import app as application

    count = DynamoDBCount()
    with Client(application.app, stage_name="dev") as client:
        rows = measure(client.http, venues, args.rounds, count)
    print(f"\nserver time of a console page, {args.small:,} vs {args.orders:,} orders "
          f"({args.rounds} interleaved rounds, median)")
    print(f"{'page':<26}{'small ms':>10}{'large ms':>10}{'ratio':>8}{'spread':>14}{'items read':>14}")
    for name, small, large, ratio, low, high, items_small, items_large in rows:
        mark = "" if ratio <= TARGET_RATIO else "  over target"
        print(f"{name:<26}{small * 1000:>10.1f}{large * 1000:>10.1f}{ratio:>8.2f}{f'{low:.2f}–{high:.2f}':>14}"
              f"{f'{items_small} / {items_large}':>14}{mark}")
    print(f"target: ratio <= {TARGET_RATIO} for every page")


if __name__ == "__main__":
    main()
