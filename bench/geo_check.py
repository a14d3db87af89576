"""The geographic limits' check on an add-to-cart: what it adds per request, and what opening the
GeoIP database costs a fresh Lambda container.

    .venv/bin/python bench/geo_check.py [--networks 1000000] [--opens 9] [--checks 3000] [--database PATH]

1. Writes a GeoIP2-City database of realistic size with ``mmdb-writer`` (``devtools/geo_database.py``)
   into a temporary directory: ``--networks`` networks (nine in ten IPv4 /24s, one in ten IPv6
   /48s, with unassigned gaps between them) over 6,000 places (French postcodes of every
   department, a share without postcode, Belgian, Swiss, German and British ones), each record
   shaped as MaxMind's (names in two languages, location, subdivisions, registered country).
   ``--database`` reuses a file written before (it is kept when given a path that does not exist).
2. The cold cost of the database: in ``--opens`` fresh Python processes, ``import geoip2.database``,
   ``Reader(path)`` and the first ``city()`` lookup, timed apart (median); and in this process,
   the open plus first lookup of ``--opens`` fresh readers (the import already paid). The file is in
   the page cache, as it is in a Lambda right after its download to /tmp; the S3 download itself
   (once per container) is not measured here.
3. The added latency per check: against its own DynamoDB Local, one performance with three limits
   (FR 67 and 13150, the whole of BE) and one without any, then ``--checks`` rounds interleaved
   A B C A B C...: A the lookup alone (``geoip.locate``), B ``check_location`` on the performance
   with limits (one Query for the limits, the lookup, the verdict; a refusal also reads the point
   of sale's message), C ``check_location`` on the performance without limits (the Query alone,
   no lookup). Addresses are drawn from the database's networks and gaps (one in five unknown).
   Median and p99 of each. DynamoDB Local answers over HTTP on 127.0.0.1; DynamoDB in the
   Lambda's region answers a small Query in a few milliseconds.
"""
from __future__ import annotations

import argparse
import ipaddress
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loading import start_local_dynamodb  # noqa: E402
from devtools import engines  # noqa: E402

TENANT = "bench-geo"
IPV4_START = int(ipaddress.IPv4Address("2.0.0.0"))
IPV4_STRIDE = 1024  # a /24 every 4: three unassigned /24s after each
IPV6_START = int(ipaddress.IPv6Address("2a01::"))
IPV6_STRIDE = 1 << 81  # a /48 every 2
PLACES = 6000


def places(rng: random.Random) -> list[dict]:
    from devtools.geo_database import record

    made = []
    for index in range(PLACES):
        kind = rng.random()
        if kind < 0.70:
            department = rng.choice([f"{n:02d}" for n in range(1, 96) if n != 20] + ["2A", "2B"])
            postcode = (department.replace("2A", "20").replace("2B", "20") + f"{rng.randrange(0, 1000):03d}")
            found = record("FR", postcode if rng.random() < 0.8 else None, f"Commune {index}")
            found["subdivisions"] = [{"iso_code": department, "names": {"en": f"Département {department}",
                                                                        "fr": f"Département {department}"}}]
        elif kind < 0.80:
            found = record("BE", f"{rng.randrange(1000, 10000)}", f"Gemeente {index}")
        elif kind < 0.87:
            found = record("CH", f"{rng.randrange(1000, 10000)}", f"Gemeinde {index}")
        elif kind < 0.94:
            found = record("DE", f"{rng.randrange(1000, 100000):05d}", f"Gemeinde {index}")
        else:
            found = record("GB", rng.choice(["SW1A", "EC1V", "M1", "B33", "EH1", "G2"]), f"Town {index}")
        found["location"] = {"latitude": round(rng.uniform(42, 55), 4), "longitude": round(rng.uniform(-5, 10), 4),
                             "accuracy_radius": rng.choice([5, 10, 20, 50, 100, 200, 500, 1000]),
                             "time_zone": "Europe/Paris"}
        made.append(found)
    return made


def write_database(path: Path, networks: int, rng: random.Random) -> float:
    """Write the database; seconds taken."""
    import netaddr
    from mmdb_writer import MMDBWriter

    started = time.perf_counter()
    records = places(rng)
    by_place: list[list] = [[] for _ in records]
    v4 = networks * 9 // 10
    for index in range(networks):
        if index < v4:
            cidr = netaddr.IPNetwork((IPV4_START + index * IPV4_STRIDE, 24), version=4)
        else:
            cidr = netaddr.IPNetwork((IPV6_START + (index - v4) * IPV6_STRIDE, 48), version=6)
        by_place[rng.randrange(len(records))].append(cidr)
    writer = MMDBWriter(ip_version=6, database_type="GeoIP2-City", languages=["en", "fr"],
                        description="Ticketing bench GeoIP2-City", ipv4_compatible=True)
    for found, cidrs in zip(records, by_place):
        if cidrs:
            writer.insert_network(netaddr.IPSet(cidrs), found)
    writer.to_db_file(str(path))
    return time.perf_counter() - started


def addresses(networks: int, count: int, rng: random.Random) -> list[str]:
    """Addresses in the database's networks, and one in five in the gaps between them."""
    v4 = networks * 9 // 10
    chosen = []
    for _ in range(count):
        index = rng.randrange(networks)
        gap = rng.random() < 0.2
        if index < v4:
            chosen.append(str(ipaddress.IPv4Address(IPV4_START + index * IPV4_STRIDE + (512 if gap else 0)
                                                    + rng.randrange(1, 255))))
        else:
            chosen.append(str(ipaddress.IPv6Address(IPV6_START + (index - v4) * IPV6_STRIDE + ((1 << 80) if gap else 0)
                                                    + rng.randrange(1, 1 << 16))))
    return chosen


COLD = """
import json, sys, time
if sys.argv[3] == "app":
    import app  # what a container has loaded before its first add-to-cart
started = time.perf_counter()
import geoip2.database
imported = time.perf_counter()
reader = geoip2.database.Reader(sys.argv[1])
opened = time.perf_counter()
try:
    reader.city(sys.argv[2])
except Exception:
    pass
looked = time.perf_counter()
print(json.dumps({"import": imported - started, "open": opened - imported, "first": looked - opened,
                  "total": looked - started}))
"""


def cold_costs(path: Path, opens: int, sample: list[str]) -> None:
    root = Path(__file__).resolve().parent.parent
    env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-3", "POWERTOOLS_TRACE_DISABLED": "true"}
    variants = (("nothing", "a bare Python"), ("app", "after `import app`, as a container"))
    timed: dict[str, list[dict]] = {before: [] for before, _ in variants}
    for index in range(opens):  # interleaved: bare, app, bare, app...
        for before, _ in variants:
            timed[before].append(json.loads(subprocess.run(
                [sys.executable, "-c", COLD, str(path), sample[index % len(sample)], before], cwd=root, env=env,
                check=True, capture_output=True, text=True).stdout))
    for before, label in variants:
        runs = timed[before]
        median = {name: statistics.median(run[name] for run in runs) * 1000 for name in runs[0]}
        print(f"cold, fresh processes, {label} (median of {opens}): import geoip2.database {median['import']:.1f} ms, "
              f"Reader(path) {median['open']:.2f} ms, first lookup {median['first']:.2f} ms, "
              f"total {median['total']:.1f} ms")
    import geoip2.database

    fresh = []
    for index in range(opens):
        started = time.perf_counter()
        reader = geoip2.database.Reader(str(path))
        try:
            reader.city(sample[index % len(sample)])
        except Exception:  # noqa: BLE001 - an address in a gap
            pass
        fresh.append(time.perf_counter() - started)
        reader.close()
    print(f"cold, fresh readers in this process (median of {opens}): open + first lookup "
          f"{statistics.median(fresh) * 1000:.2f} ms")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(share * (len(ordered) - 1))))]


def per_check(checks: int, sample: list[str]) -> None:
    from chalicelib.adapters import geoip, ids
    from chalicelib.models.base import tenant_key
    from chalicelib.models.catalog import Performance
    from chalicelib.models.registry import create_missing_tables
    from chalicelib.services.catalog import catalog
    from chalicelib.services.shared.actors import Actor
    from chalicelib.services.shop import geo_limits
    from chalicelib.services.shop.geo_limits import GeoRestricted, check_location

    create_missing_tables()
    actor = Actor(TENANT, "bench", frozenset({"admin"}))
    performances = []
    for day in (14, 15):
        performance = Performance(tenant_id=TENANT, id=ids.new_id(), product_id="P", venue_id="V",
                                  starts_at=datetime(2026, 11, day, 19, 30, tzinfo=timezone.utc))
        performance.set_index_keys()
        performance.save()
        performances.append(performance.id)
    limited, free = performances
    geo_limits.create_limit(actor, limited, {"country": "FR", "postcode_prefixes": ["67", "13150"]})
    geo_limits.create_limit(actor, limited, {"country": "BE", "postcode_prefixes": []})
    geo_limits.create_limit(actor, limited, {"country": "FR", "postcode_prefixes": ["75"], "label": "Paris"})
    channel = catalog.sales_channels.create(actor, {"name": "Web", "kind": "web",
                                                    "geo_refusal_message": "Vente fermée dans votre secteur.",
                                                    "geo_refusal_message_en": "Sales closed in your area."})

    def lookup(address):
        geoip.locate(address)

    def check(performance_id):
        def run(address):
            try:
                check_location(TENANT, performance_id, address, channel_id=channel.id, language="fr")
            except GeoRestricted:
                outcomes["refused"] += 1
        return run

    cases = {"A lookup alone (geoip.locate)": lookup, "B check_location, 3 limits": check(limited),
             "C check_location, no limit (Query only)": check(free)}
    outcomes = {"refused": 0}
    for address in sample[:300]:  # warm: the reader opened, connections made, code paths compiled
        for run in cases.values():
            run(address)
    timings: dict[str, list[float]] = {label: [] for label in cases}
    outcomes["refused"] = 0
    for index in range(checks):
        address = sample[index % len(sample)]
        for label, run in cases.items():  # interleaved: A B C A B C ...
            started = time.perf_counter_ns()
            run(address)
            timings[label].append((time.perf_counter_ns() - started) / 1e6)
    print(f"per check ({checks} rounds interleaved A B C; {outcomes['refused']} of the B checks refused):")
    for label, values in timings.items():
        print(f"  {label:<42}: median {statistics.median(values):7.3f} ms, p99 {percentile(values, 0.99):7.3f} ms")
    limits = list(geo_limits.GeoLimit.query(tenant_key(TENANT, limited)))
    reads = {geo_limits.ALLOWED: "B1 allowed: the Query", geo_limits.UNKNOWN: "B2 unknown place: + the policy's GetItem",
             geo_limits.REFUSED: "B3 refused: + the channel's GetItem"}
    split: dict[str, list[float]] = {label: [] for label in reads.values()}
    for index, took in enumerate(timings["B check_location, 3 limits"]):
        split[reads[geo_limits.verdict(limits, geoip.locate(sample[index % len(sample)])).outcome]].append(took)
    for label, values in split.items():
        if values:
            print(f"    {label:<40}: median {statistics.median(values):7.3f} ms, p99 "
                  f"{percentile(values, 0.99):7.3f} ms ({len(values)} checks)")
    lookups = [geoip.locate(address) for address in sample[:checks]]
    print(f"  (addresses: {sum(1 for found in lookups if found.known)} of {len(lookups)} located, "
          f"{sum(1 for found in lookups if found.known and found.postcode is None)} of them without postcode)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--networks", type=int, default=1_000_000)
    parser.add_argument("--opens", type=int, default=9)
    parser.add_argument("--checks", type=int, default=3000)
    parser.add_argument("--database", type=Path, help="reuse (or keep) the database at this path")
    args = parser.parse_args()
    rng = random.Random(16)
    with tempfile.TemporaryDirectory(prefix="geo-bench-") as scratch:
        path = args.database or Path(scratch) / "GeoIP2-City-bench.mmdb"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            seconds = write_database(path, args.networks, rng)
            print(f"database: {args.networks:,} networks over {PLACES:,} places written in {seconds:.1f} s")
        print(f"database: {path.stat().st_size / 1e6:.1f} MB")
        sample = addresses(args.networks, max(args.checks, 1000), random.Random(17))
        cold_costs(path, args.opens, sample)
        stack = engines.Stack()
        start_local_dynamodb(stack, GEOIP_DATABASE=str(path))
        try:
            per_check(args.checks, sample)
        finally:
            stack.stop()


if __name__ == "__main__":
    main()
