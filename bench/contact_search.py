"""Finding a customer in a venue's contacts, at 1,000 and at 100,000: what one search costs must not
grow with the number of contacts; and what one edit of a contact writes, its index included.

    .venv/bin/python bench/contact_search.py [--contacts 100000] [--small 1000] [--limit 20] [--runs 9]

Starts its own DynamoDB Local and stops it after. Contacts are made by the contacts service's own
``prepare_contact`` (so their search tokens are exactly the app's) with realistic French names,
Lyon and Paris addresses and mobile phones, and batch-written with their index entries (setup,
not measured), in two venues (tenants): one with ``--small`` contacts, one with ``--contacts``,
the same people first. Each kind of search runs the way ``GET /contacts?q=`` does (one page of
``--limit``), asked of the two venues in turn (A B A B) for ``--runs`` rounds after a warm-up;
it prints the read units, the median times, their ratio and the spread of the rounds' ratios
(target <= 1.2): a name prefix, a phone in the national writing, an e-mail, a postcode, and two
words (a name and a city). Then
the write units of editing one contact through ``update_contact`` (a new phone and address: the
contact, its audit event and the index entries that changed).
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loading import start_local_dynamodb  # noqa: E402
from devtools import engines  # noqa: E402

SMALL, LARGE = "bench-small", "bench-large"  # two venues: asked in turn, the same searches
CITIES = [("Lyon", "6900{}", range(1, 10)), ("Villeurbanne", "6910{}", range(0, 1)), ("Paris", "750{:02d}", range(1, 21)),
          ("Bron", "6950{}", range(0, 1)), ("Grenoble", "3800{}", range(0, 1))]
STREETS = ["rue de la République", "rue Mercière", "quai Saint-Antoine", "montée de la Grande-Côte", "rue Victor-Hugo",
           "cours Franklin-Roosevelt", "rue Paul-Bert", "place des Terreaux", "rue de Brest", "avenue Jean-Jaurès",
           "rue Saint-Jean", "boulevard des Belges", "rue Oberkampf", "rue de Rivoli", "avenue de Saxe",
           "rue Garibaldi", "cours Lafayette", "rue Duguesclin", "rue Sully", "quai Perrache"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--runs", type=int, default=9)
    args = parser.parse_args()
    stack = engines.Stack()
    start_local_dynamodb(stack)
    try:
        from chalicelib.models.registry import create_missing_tables

        create_missing_tables()
        run(args)
    finally:
        stack.stop()


def person(rng: random.Random, index: int) -> dict:
    from devtools.seed import FIRST_NAMES, LAST_NAMES, _ascii, _mobile

    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, postcode, numbers = rng.choices(CITIES, weights=[50, 10, 30, 5, 5])[0]
    return {"first_name": first, "last_name": last,
            "emails": [{"address": f"{_ascii(first)}.{_ascii(last)}{index}@{rng.choice(['orange.fr', 'free.fr', 'gmail.com'])}"}],
            "phones": [{"number": _mobile(rng)}],
            "addresses": [{"line1": f"{rng.randrange(1, 150)} {rng.choice(STREETS)}",
                           "postcode": postcode.format(rng.choice(list(numbers))), "city": city}]}


def load(actor, rng: random.Random, start: int, stop: int) -> list:
    from bench.loading import write_in_batches
    from chalicelib.schemas.contacts import ContactIn
    from chalicelib.services.contacts.contacts import prepare_contact

    contacts, entries = [], []
    for index in range(start, stop):
        new = prepare_contact(actor, ContactIn.model_validate(person(rng, index)).model_dump())
        contacts.append(new.contact)
        entries += [item for item, _ in new.entries]
    write_in_batches(contacts + entries)
    return contacts


def searched(actor, query: str, limit: int) -> tuple[float, float, int]:
    """One search as ``GET /contacts?q=`` runs it: its read units, its time in ms, the rows shown."""
    from bench.capacity import metered
    from chalicelib.services.contacts import search

    with metered() as meter:
        began = time.perf_counter()
        page = search.search(actor, query, limit=limit, cursor=None)
        elapsed = time.perf_counter() - began
    return meter.read_units, elapsed * 1000, len(page.items)


def run(args) -> None:
    from bench.capacity import metered, priced, transaction_items
    from chalicelib.services.contacts import contacts as contact_service
    from chalicelib.services.shared.actors import Actor

    venues = {}
    for tenant, size in ((SMALL, args.small), (LARGE, args.contacts)):
        actor = Actor(tenant, "bench", frozenset({"admin"}))
        began = time.time()
        made = load(actor, random.Random(42), 0, size)  # the same people, in the same order, in both venues
        print(f"setup                 : {size} contacts with their index in {time.time() - began:.0f} s (not measured)")
        venues[tenant] = (actor, made)
    sample = venues[SMALL][1][7]  # the same person at both sizes
    queries = {"name prefix": "mart", "phone": _national(sample.phones[0].number),
               "e-mail": sample.emails[0].address, "postcode": "69003",
               "two words": f"{sample.last_name} {sample.addresses[0].city}"}
    print(f"one search (a page of {args.limit}) at {args.small} vs {args.contacts} contacts, asked of the two venues "
          f"in turn (A B A B), {args.runs} rounds after one warm-up: read units, median ms, ratio of the medians "
          f"(spread of the rounds' ratios)")
    worst_units = worst_time = 0.0
    for label, query in queries.items():
        runs = {SMALL: [], LARGE: []}
        for round_number in range(args.runs + 1):
            for tenant in (SMALL, LARGE):
                measured = searched(venues[tenant][0], query, args.limit)
                if round_number:
                    runs[tenant].append(measured)
        (small_units, _, small_rows), (large_units, _, large_rows) = runs[SMALL][0], runs[LARGE][0]
        small_ms = statistics.median(ms for _, ms, _ in runs[SMALL])
        large_ms = statistics.median(ms for _, ms, _ in runs[LARGE])
        ratios = [large[1] / small[1] for small, large in zip(runs[SMALL], runs[LARGE])]
        worst_units, worst_time = max(worst_units, large_units / small_units), max(worst_time, large_ms / small_ms)
        print(f"  {label:12} {query!r:26} {small_units:5.1f} -> {large_units:5.1f} RU; {small_ms:6.1f} -> "
              f"{large_ms:6.1f} ms, ratio {large_ms / small_ms:.2f} ({min(ratios):.2f}-{max(ratios):.2f}); "
              f"{small_rows} / {large_rows} shown")
    print(f"worst time ratio      : {worst_time:.2f} (target <= 1.2)")
    actor, made = venues[LARGE]
    print(f"worst read-unit ratio : {worst_units:.2f} (target <= 1.2)")
    target = made[11]
    with metered() as meter, transaction_items() as items:
        contact_service.update_contact(actor, target.id, {
            "phones": [{"number": "06 44 55 66 77"}],
            "addresses": [{"line1": "9 rue Mercière", "postcode": "69002", "city": "Lyon"}]})
    carried = ", ".join(f"{table.split('-', 1)[-1]} {count}" for table, count in items.most_common())
    print(f"one edit              : a new phone and address: {carried} items in one transaction, "
          f"{priced(items):.0f} write units by DynamoDB's rule for transactions (2 per KB of each item); "
          f"DynamoDB Local reported {meter.write_units:.0f}")


def _national(e164_number: str) -> str:
    digits = "0" + e164_number[3:]
    return " ".join(digits[i:i + 2] for i in range(0, 10, 2))


if __name__ == "__main__":
    main()
