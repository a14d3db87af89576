"""Season subscriptions at a real size: the renewal run of N subscriptions (its dry run, the real
run, a second run), then the instalment collector charging the renewals' first instalments.

    .venv/bin/python bench/subscriptions.py [--subscriptions 20000] [--instalments 2000]
                                            [--stripe lean|stock] [--charge-rate R] [--taken-seats 0]
                                            [--sellers 2] [--seed 7]

Starts its own DynamoDB Local, moto (the jobs queue that ``start_run`` and the collector's sweep
queue their first chunk on; the chunks are run here, as the jobs Lambda would), localstripe and
an SMTP sink (the box-office sales' confirmations), on free 127.0.0.1 ports, and stops them after.
``--stripe lean`` (the default) runs localstripe through ``bench/lean_localstripe.py``: the same
localstripe without its costs that grow with every object created (a pickle of its whole store
after each write, lists that read the whole store, and PaymentIntents listed without the
``customer`` filter real Stripe has, which makes the collector's look-before-charging read every
PaymentIntent of the account);
``--stripe stock`` starts it exactly as the test suite does (``engines.start_localstripe``):
only a few hundred payers and charges are then possible in reasonable time.

**Setup** (not measured; its time is printed). One venue, last season's subscription product
and the new season's (as ``tests/integration/test_renewal.py``'s ``Seasons``), each of four
performances with a quota of N + 100 places, two tariffs of the same names in both seasons, the
plans "once" and "3x". N holders in households of 1 to 4 (40 / 35 / 15 / 10 %), the payer being
the first holder; 60 % of the households seated (adjacent seats). Each household's payer:
80 % a saved card (set up through localstripe as the test's ``_card`` does: each payer their own
Stripe customer, SetupIntent and card) paying the subscriptions by ``card_alias`` (half at once,
half in 3 instalments), 12 % paid cash at the box office but have a saved card (renewed on it),
8 % paid cash and have none (the renewal's ``error:no_means``). 4 % of the payers, and 4 % of the
other holders, hold the opt-out criterion. Delivery modes: new card 50 %, print at home 30 %, box
office 20 %; the run offers reload card and print at home, replaces new card by reload card and
falls back on print at home. The people are the items ``contacts.create_contact`` writes
(``prepare_contact``), batch-written; the cards and the sales go through the product's code,
each sale through ``selling.sell`` (one order per household), two sellers at once (the catalog's
records read once for all the sales). The clock runs from the sale's day, then from the
renewal's (ids made later sort later, as in production). ``--taken-seats K`` (0 by default): before
the runs, someone else buys the seats of K renewing subscribers at the new season's first
performance, so those holders take the best free seat of their category (a chunk's pools of free
seats, ``services/subscriptions/renewal_seats.py``).

**Measured.** The ``subscriptions.renew`` job started by ``renewal.start_run`` and run chunk by
chunk (each with a 900 s Lambda's budget less the framework's 60 s margin): the dry run (time,
read units per source subscription, chunks, outcomes), the real run (write units per renewed
subscription with transactions priced per item as DynamoDB prices them: 2 units per KB of each
item; the longest chunk against the Lambda limit, target <= 5 %; outcomes), the same run again
(what it added: must be 0); each run also says how many subscriptions its outcomes name (the
source subscriptions are N) and how long each source order took. Then the collector: the renewed
subscriptions' first instalments are due on the renewal's day; ``collector.sweep`` then, and its
job run chunk by chunk until ``--instalments`` charges were made (2,000 by default: at the cap of
20 a second, 20,000 charges take at least 17 minutes, and the rate is steady well before):
charges per second against the configured cap (``STRIPE_CHARGE_RATE``), chunk by chunk, and
write units per collected instalment.
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loading import start_local_dynamodb  # noqa: E402
from bench.mail_send_rate import CountingSink  # noqa: E402
from devtools import engines  # noqa: E402

LAMBDA_LIMIT_SECONDS = 900
FRAMEWORK_MARGIN_SECONDS = 60  # services/jobs/framework.py SAFETY_MARGIN_SECONDS
SOLD_AT = datetime(2026, 9, 15, 10, 0, tzinfo=timezone.utc)
RENEWED_AT = datetime(2027, 6, 1, 9, 0, tzinfo=timezone.utc)
RESERVATION_DEADLINE = datetime(2027, 7, 1, tzinfo=timezone.utc)
OPT_OUT = "Arrêt du renouvellement automatique"
PLANS = [{"id": "once", "label": "Comptant", "instalments": 1, "day_of_month": 5, "first_at_purchase": True},
         {"id": "3x", "label": "En 3 fois", "instalments": 3, "day_of_month": 5, "first_at_purchase": True}]
PERFORMANCES = 4
SEATS_PER_ROW = 30
TENANT = "bench-subscriptions"
SPENT: Counter = Counter()  # the setup's seconds by part
PER_CHUNK: list[int] = []  # items done or failed by each chunk run (the last job's are at the end)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--subscriptions", type=int, default=20_000)
    parser.add_argument("--instalments", type=int, default=2_000,
                        help="charges the collector makes (the first due instalments, in the job's order)")
    parser.add_argument("--stripe", choices=("lean", "stock"), default="lean")
    parser.add_argument("--charge-rate", type=float, default=None, help="STRIPE_CHARGE_RATE (unset: the app's default)")
    parser.add_argument("--taken-seats", type=int, default=0,
                        help="seats of renewing subscribers sold to someone else at the new season's first "
                             "performance before the runs (their holders then take the first free seat)")
    parser.add_argument("--sellers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    started = time.time()
    stack = engines.Stack()
    sink = CountingSink().start()
    log_dir = engines.LOCAL / "bench-logs"
    try:
        moto = stack.add(engines.start_moto(log_dir))
        if args.stripe == "lean":
            from bench import lean_localstripe

            stripe = stack.add(lean_localstripe.start(log_dir))
        else:
            stripe = stack.add(engines.start_localstripe(log_dir))
        extra = {"STRIPE_CHARGE_RATE": str(args.charge_rate)} if args.charge_rate else {}
        start_local_dynamodb(stack, log_dir=log_dir, MAIL_TRANSPORT="smtp", SMTP_PORT=str(sink.port),
                             MAIL_SEND_RATE="1000", AWS_ENDPOINT=moto.url, AWS_REGION="eu-west-3",
                             STRIPE_API_BASE=stripe.url, STRIPE_SECRET_KEY="sk_test_bench", **extra)
        run(args)
    finally:
        sink.stop()
        stack.stop()
    print(f"wall time             : {time.time() - started:.0f} s in all")


def running_from(moment: datetime):
    """A clock that starts at ``moment`` and runs: ids made later sort later, as in production
    (a frozen clock gives every id one time and a random order)."""
    began = time.monotonic()
    return lambda: moment + timedelta(seconds=time.monotonic() - began)


# -- the world -----------------------------------------------------------------------------------


class World:
    """Last season's subscription product and the new season's, at one venue (as the renewal
    tests' ``Seasons``), with ``capacity`` places a performance and ``seat_count`` seats."""

    def __init__(self, actor, *, capacity: int, seat_count: int, sellers: int) -> None:
        from chalicelib.services.catalog import catalog
        from chalicelib.services.subscriptions import terms

        self.venue = catalog.venues.create(actor, {"name": "Théâtre des Célestins", "city": "Lyon"})
        categories = [catalog.seat_categories.create(actor, {"venue_id": self.venue.id, "name": name})
                      for name in ("Catégorie 1", "Catégorie 2")]

        def seat(index: int):
            row, number = divmod(index, SEATS_PER_ROW)
            return catalog.create_seat(actor, {
                "venue_id": self.venue.id, "block": "Parterre" if index < seat_count // 2 else "Balcon",
                "row": str(row + 1), "number": str(number + 1),
                "category_id": categories[0 if index < seat_count // 2 else 1].id})

        with ThreadPoolExecutor(max_workers=sellers) as pool:
            self.seats = list(pool.map(seat, range(seat_count)))
        family = catalog.product_families.create(actor, {"name": "Théâtre"})
        self.source, self.source_tariffs = self._season(actor, catalog, terms, family, "2026-2027", date(2026, 9, 1),
                                                        9000, capacity)
        self.target, self.target_tariffs = self._season(actor, catalog, terms, family, "2027-2028", date(2027, 9, 1),
                                                        12000, capacity)
        self.source_performances = terms.get_terms(actor, self.source.id).performance_ids
        self.target_terms = terms.get_terms(actor, self.target.id)

    def _season(self, actor, catalog, terms, family, name: str, starts_on: date, price: int, capacity: int):
        season = catalog.seasons.create(actor, {"name": name, "starts_on": starts_on,
                                                "ends_on": starts_on.replace(year=starts_on.year + 1, month=6, day=30)})
        show = catalog.products.create(actor, {"kind": "show", "name": f"Saison {name}", "family_id": family.id,
                                              "season_id": season.id})
        performances = [catalog.create_performance(actor, {
            "product_id": show.id, "venue_id": self.venue.id,
            "starts_at": datetime(starts_on.year, 10, 8, 18, 30, tzinfo=timezone.utc) + timedelta(weeks=5 * n)})
            for n in range(PERFORMANCES)]
        quotas = [catalog.quotas.create(actor, {"performance_id": performance.id, "name": "Abonnés",
                                                "capacity": capacity}) for performance in performances]
        subscriptions = catalog.product_families.create(actor, {"name": f"Abonnements {name}"})
        product = catalog.products.create(actor, {"kind": "subscription", "name": f"Abonnement {name}",
                                                 "family_id": subscriptions.id, "season_id": season.id,
                                                 "tacit_renewal": True})
        tariffs = [catalog.tariffs.create(actor, {"product_id": product.id, "name": tariff, "price_cents": cents})
                   for tariff, cents in (("Abonné", price), ("Abonné réduit", price * 2 // 3))]
        terms.set_terms(actor, product.id, {
            "performances": [{"performance_id": p.id, "quota_id": q.id} for p, q in zip(performances, quotas)],
            "choose": None, "delivery_modes": ["new_card", "reload_card", "print_at_home", "box_office"],
            "payment_plans": PLANS})
        return product, tariffs


def households(count: int, rng: random.Random) -> list[dict]:
    """Households of 1 to 4 holders adding up to ``count``, each with how it pays and is served."""
    made, left = [], count
    while left:
        size = min(left, rng.choices((1, 2, 3, 4), weights=(40, 35, 15, 10))[0])
        paying = rng.random()
        means = "card_alias" if paying < 0.80 else "cash"
        made.append({
            "size": size, "means": means, "has_card": paying < 0.92,
            "plan": rng.choice(("once", "3x")) if means == "card_alias" else "once",
            "mode": rng.choices(("new_card", "print_at_home", "box_office"), weights=(50, 30, 20))[0],
            "seated": rng.random() < 0.6, "reduced": rng.random() < 0.25,
            "opt_out": [rng.random() < 0.04] + [rng.random() < 0.04 for _ in range(size - 1)]})
        left -= size
    return made


def _card(actor, person) -> str:
    """The payer's saved card, set up through localstripe as the renewal tests' ``_card`` does."""
    from chalicelib.adapters import payments
    from chalicelib.services.money import saved_means

    started = saved_means.start_card_setup(actor, person.id)
    method = payments._client().v1.payment_methods.create(params={
        "type": "card", "card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    payments._client().v1.setup_intents.confirm(started.means.setup_intent_id, params={
        "payment_method": method.id, "client_secret": started.client_secret})
    means = saved_means.record_setup_outcome(actor, person.id, started.means.id)
    assert means.status == "active", means.status
    return means.id


def sell_all(actor, world: World, plan: list[dict], sellers: int) -> Counter:
    """Each household's people (the items ``contacts.create_contact`` writes, batch-written), the
    payer's card if any (through localstripe, as the renewal tests' ``_card``), and one order of
    its subscriptions through ``selling.sell`` (the catalog's records read once for all sales)."""
    from bench.loading import write_in_batches
    from chalicelib.services.contacts import contacts
    from chalicelib.services.subscriptions import selling

    seat_at = iter(range(len(world.seats)))
    items = []
    began = time.monotonic()
    for index, household in enumerate(plan):  # seats handed out in the households' order, adjacent
        if household["seated"]:
            household["seats"] = [world.seats[next(seat_at)].id for _ in range(household["size"])]
        household["people"] = []
        for position in range(household["size"]):
            name = f"Abonne{index}-{position}"
            fields = {"first_name": name, "last_name": f"Famille{index}",
                      "emails": [{"address": f"{name.lower()}@exemple{index % 50}.fr"}]}
            if household["opt_out"][position]:
                fields["criteria"] = {OPT_OUT: "oui"}
            new = contacts.prepare_contact(actor, fields)
            items += [item for item, _ in new.items]
            household["people"].append(new.contact)
    write_in_batches(items)
    SPENT["contacts"] = time.monotonic() - began

    def card(household: dict) -> None:
        household["card"] = _card(actor, household["people"][0]) if household["has_card"] else None

    began = time.monotonic()
    with ThreadPoolExecutor(max_workers=sellers) as pool:
        list(pool.map(card, plan))
    SPENT["cards"] = time.monotonic() - began

    def sell(household: dict) -> str:
        people = household["people"]
        tariff = world.source_tariffs[1 if household["reduced"] else 0]
        selling.sell(actor, {
            "product_id": world.source.id, "tariff_id": tariff.id, "payer_contact_id": people[0].id,
            "delivery_mode": household["mode"], "plan_id": household["plan"], "means": household["means"],
            "saved_means_id": household["card"] if household["means"] == "card_alias" else None,
            "subscribers": [{"holder_contact_id": holder.id,
                             **({"seats": {performance_id: household["seats"][position]
                                           for performance_id in world.source_performances}}
                                if household["seated"] else {})}
                            for position, holder in enumerate(people)]})
        return household["means"] + (" with a card" if household["has_card"] else " without a card")

    began = time.monotonic()
    with catalog_read_once(), ThreadPoolExecutor(max_workers=sellers) as pool:
        sold = Counter(pool.map(sell, plan))
    SPENT["sales"] = time.monotonic() - began
    return sold


@contextmanager
def catalog_read_once():
    """Thousands of sales of the same few performances, tariffs, quotas and seats: the setup reads
    each once (the measured runs read as the app does)."""
    from functools import lru_cache

    from chalicelib.services.orders import orders

    original = orders._reference
    cached = lru_cache(maxsize=None)(lambda actor, model, record_id: original(actor, model, record_id, 0, "setup"))
    orders._reference = lambda actor, model, record_id, index, field: cached(actor, model, record_id)
    try:
        yield
    finally:
        orders._reference = original


def take_seats(actor, world: World, plan: list[dict], count: int) -> None:
    """Before the runs, someone else buys the seat a renewing subscriber had, at the new season's
    first performance (as the renewal tests' intruder): that holder must take the first free seat
    of their category, which walks the venue's seats in order."""
    from chalicelib.services.catalog import catalog
    from chalicelib.services.orders import orders

    performance_id = world.target_terms.performance_ids[0]
    show_id = by_id_performance(actor, performance_id).product_id
    tariff = catalog.tariffs.create(actor, {"product_id": show_id, "name": "Plein tarif", "price_cents": 3500})
    renewing = [household for household in plan if household["seated"] and household["has_card"]
                and not any(household["opt_out"])]
    for household in renewing[-count:]:  # the newest: the run, newest first, meets them first
        orders.place_order(actor, {"kind": "sale", "payment_type": "cash", "buyer": {"last_name": "Autre"},
                                   "lines": [{"performance_id": performance_id, "tariff_id": tariff.id,
                                              "quota_id": world.target_terms.quotas[performance_id],
                                              "seat_id": household["seats"][0]}]})
    print(f"taken seats           : {min(count, len(renewing))} renewing subscribers' seats sold to someone else at "
          f"the new season's first performance")


def by_id_performance(actor, performance_id: str):
    from chalicelib.models.catalog import Performance
    from chalicelib.services.shared.records import get_record

    return get_record(actor, Performance, performance_id)


# -- running a job as the jobs Lambda would ---------------------------------------------------------


def run_job(actor, kind: str, params: dict, *, stop_after: int | None = None) -> tuple[list[float], Counter]:
    """The job's chunks one after the other (each with a 900 s Lambda's budget less the framework's
    margin); each chunk's seconds and the outcomes added up. ``stop_after``: stop once that many
    items were done (the rest stays for later runs)."""
    import app  # noqa: F401 - wires the job kinds
    from chalicelib.services.jobs.framework import ChunkBudget, kind_named

    job_kind, cursor, durations, seq, tally = kind_named(kind), None, [], 0, Counter()
    while True:
        budget = ChunkBudget(job_id=f"bench-{kind}", seq=seq, max_items=job_kind.max_items,
                             seconds=LAMBDA_LIMIT_SECONDS - FRAMEWORK_MARGIN_SECONDS)
        began = time.monotonic()
        result = job_kind.run_chunk(actor, params, cursor, budget)
        durations.append(time.monotonic() - began)
        PER_CHUNK.append(result.done + result.failed)
        tally.update({"done": result.done, "skipped": result.skipped, "failed": result.failed})
        tally.update({f"outcome {name}": count for name, count in result.outcomes.items()})
        if result.cursor is None or (stop_after is not None and tally["done"] + tally["failed"] >= stop_after):
            return durations, tally
        cursor, seq = result.cursor, seq + 1


@contextmanager
def measured():
    """Capacity (with a split of what transactions report) and the items transactions carry."""
    from bench import capacity

    class SplitMeter(capacity.CapacityMeter):
        def __init__(self) -> None:
            super().__init__()
            self.transaction_indexes = 0.0  # index units DynamoDB Local reports for transactions
            self.transaction_units = 0.0  # all it reports for transactions (replaced by the priced items)
            self.reads_by_call: Counter = Counter()

        def record(self, operation: str, response: dict) -> None:
            super().record(operation, response)
            if operation in capacity.READS:
                consumed = response.get("ConsumedCapacity") or []
                self.reads_by_call[operation] += sum(entry.get("CapacityUnits", 0.0) for entry in
                                                     (consumed if isinstance(consumed, list) else [consumed]))
            if operation == "TransactWriteItems":
                for entry in response.get("ConsumedCapacity") or []:
                    self.transaction_units += entry.get("CapacityUnits", 0.0)
                    self.transaction_indexes += sum(used.get("CapacityUnits", 0.0) for used in
                                                    (entry.get("GlobalSecondaryIndexes") or {}).values())

    original = capacity.CapacityMeter
    capacity.CapacityMeter = SplitMeter
    try:
        with capacity.metered() as meter, capacity.transaction_items() as items:
            yield meter, items
    finally:
        capacity.CapacityMeter = original


def priced_writes(meter, items: Counter) -> float:
    """Write units as DynamoDB prices them: each transaction's items at 2 units a KB, plus the
    indexes those writes update and every write outside transactions, as reported."""
    from bench.capacity import priced

    return priced(items) + meter.transaction_indexes + (meter.write_units - meter.transaction_units)


def reads_line(meter, per: int) -> str:
    return ", ".join(f"{operation} {units / per:.2f} ({meter.calls[operation] / per:.2f} calls)"
                     for operation, units in meter.reads_by_call.most_common())


def outcomes_line(tally: Counter, prefix: str = "outcome ") -> str:
    named = {name[len(prefix):]: count for name, count in tally.items() if name.startswith(prefix)}
    return ", ".join(f"{name} {count}" for name, count in sorted(named.items(), key=lambda pair: (
        pair[0].startswith("projected:"), pair[0]))) or "none"


def counted(tally: Counter) -> int:
    """How many subscriptions the outcomes name (projected cents and notes on delivery modes left out)."""
    return sum(count for name, count in tally.items() if name.startswith("outcome ")
               and not name.startswith(("outcome projected:", "outcome mode:")))


class OrderTimes:
    """The seconds each source order's renewal took (``renewal.renew_order``), to find hot spots."""

    def __init__(self) -> None:
        self.seconds: list[tuple[float, int, str]] = []

    @contextmanager
    def installed(self):
        from chalicelib.services.subscriptions import renewal

        original = renewal.renew_order

        def timed(actor, run, sources, *, dry_run):
            began = time.monotonic()
            tally = original(actor, run, sources, dry_run=dry_run)
            self.seconds.append((time.monotonic() - began, len(sources), ",".join(sorted(tally))))
            return tally

        renewal.renew_order = timed
        try:
            yield self
        finally:
            renewal.renew_order = original

    def line(self) -> str:
        if not self.seconds:
            return "no order"
        per = sorted(seconds for seconds, _, _ in self.seconds)
        slowest = max(self.seconds)
        return (f"median {statistics.median(per) * 1000:.0f} ms, p99 {per[int(len(per) * 0.99) - 1] * 1000:.0f} ms, "
                f"slowest {slowest[0] * 1000:.0f} ms ({slowest[1]} subscriptions: {slowest[2]}) over "
                f"{len(per)} orders")


# -- the bench -------------------------------------------------------------------------------------


def run(args) -> None:
    from chalicelib.adapters import clock
    from chalicelib.adapters.aws import client
    from chalicelib.config import settings
    from chalicelib.models.registry import create_missing_tables
    from chalicelib.models.subscriptions import Subscription
    from chalicelib.services.shared.actors import Actor
    from chalicelib.services.subscriptions import renewal

    create_missing_tables()
    client("sqs").create_queue(QueueName=settings.jobs_queue)
    actor = Actor(TENANT, "bench", frozenset({"admin"}))
    rng = random.Random(args.seed)
    clock.set_clock(running_from(SOLD_AT))
    began = time.time()
    plan = households(args.subscriptions, rng)
    seated = sum(household["size"] for household in plan if household["seated"])
    world = World(actor, capacity=args.subscriptions + 100, seat_count=seated + 20, sellers=args.sellers)
    world_seconds = time.time() - began
    sold = sell_all(actor, world, plan, args.sellers)
    print(f"setup                 : {args.subscriptions} subscriptions in {len(plan)} orders (households of 1-4), "
          f"{seated} seated, in {time.time() - began:.0f} s (not measured; the world and {len(world.seats)} seats "
          f"{world_seconds:.0f} s); Stripe: localstripe {args.stripe}")
    print(f"setup split           : {', '.join(f'{part} {seconds:.0f} s' for part, seconds in SPENT.items())}")
    print(f"setup orders          : {', '.join(f'{kind} {count}' for kind, count in sorted(sold.items()))}; "
          f"opt-outs: {sum(h['opt_out'][0] for h in plan)} payers, "
          f"{sum(sum(h['opt_out'][1:]) for h in plan)} other holders")

    clock.set_clock(running_from(RENEWED_AT))
    if args.taken_seats:
        take_seats(actor, world, plan, args.taken_seats)
    parameters = {"source_product_id": world.source.id, "target_product_id": world.target.id,
                  "delivery_modes": ["reload_card", "print_at_home"], "fallback_mode": "print_at_home",
                  "mode_replacements": {"new_card": "reload_card"}, "tariffs": None, "opt_out_criterion": OPT_OUT,
                  "on_error": "nothing", "reservation_deadline": RESERVATION_DEADLINE, "keep_seats": True}
    n = args.subscriptions

    # The dry run.
    dry_job = renewal.start_run(actor, {**parameters, "dry_run": True})
    with measured() as (meter, items), OrderTimes().installed() as times:
        began = time.monotonic()
        durations, tally = run_job(actor, renewal.RENEW, dry_job.params)
        elapsed = time.monotonic() - began
    print(f"dry run               : {elapsed:.1f} s for {n} subscriptions ({elapsed / n * 1000:.1f} ms each), "
          f"{meter.read_units / n:.1f} read units per subscription, {len(durations)} chunks, longest "
          f"{max(durations):.1f} s; wrote {meter.write_units:.0f} units ({sum(items.values())} transaction items)")
    print(f"dry run reads by call : {reads_line(meter, n)} (read units per subscription)")
    print(f"dry run outcomes      : {outcomes_line(tally)}")
    print(f"dry run counts        : done {tally['done']}, skipped {tally['skipped']}, failed {tally['failed']}; "
          f"subscriptions named in the outcomes {counted(tally)} of {n}")
    print(f"dry run per order     : {times.line()}")

    # The real run.
    real_job = renewal.start_run(actor, {**parameters, "dry_run": False})
    with measured() as (meter, items), OrderTimes().installed() as times:
        began = time.monotonic()
        durations, tally = run_job(actor, renewal.RENEW, real_job.params)
        elapsed = time.monotonic() - began
    renewed = sum(1 for _ in Subscription.by_product.query(f"{TENANT}#{world.target.id}"))
    sales = tally["outcome sale"] + tally["outcome reservation"]
    print(f"real run              : {elapsed:.1f} s, {renewed} renewed subscriptions written ({sales} in the "
          f"outcomes) in {len(durations)} chunks; {meter.read_units / n:.1f} read units per source subscription")
    print(f"real run writes       : {priced_writes(meter, items) / max(renewed, 1):.1f} write units per renewed "
          f"subscription (transaction items priced {priced(items) / max(renewed, 1):.1f} + their indexes "
          f"{meter.transaction_indexes / max(renewed, 1):.1f} + other writes "
          f"{(meter.write_units - meter.transaction_units) / max(renewed, 1):.1f}); DynamoDB Local reported "
          f"{meter.write_units / max(renewed, 1):.1f}")
    carried = ", ".join(f"{table.split('-', 1)[-1]} {count / max(renewed, 1):.2f}" for table, count in
                        items.most_common())
    print(f"real run items        : {carried} (transaction items per renewed subscription)")
    longest = max(durations)
    print(f"longest chunk         : {longest:.1f} s of a {LAMBDA_LIMIT_SECONDS} s Lambda "
          f"({longest / LAMBDA_LIMIT_SECONDS:.3f}; target <= 0.05)")
    print(f"real run outcomes     : {outcomes_line(tally)}")
    print(f"real run counts       : done {tally['done']}, skipped {tally['skipped']}, failed {tally['failed']}; "
          f"subscriptions named in the outcomes {counted(tally)} of {n}")
    print(f"real run per order    : {times.line()}")

    # The same run again.
    again_job = renewal.start_run(actor, {**parameters, "dry_run": False})
    with measured() as (meter, items):
        began = time.monotonic()
        durations, tally = run_job(actor, renewal.RENEW, again_job.params)
        elapsed = time.monotonic() - began
    after = sum(1 for _ in Subscription.by_product.query(f"{TENANT}#{world.target.id}"))
    print(f"second run            : added {after - renewed} renewed subscriptions (outcomes sale + reservation "
          f"{tally['outcome sale'] + tally['outcome reservation']}; target 0), {elapsed:.1f} s, {len(durations)} "
          f"chunks, {meter.write_units:.0f} write units, {meter.read_units / n:.1f} read units per subscription")
    print(f"second run outcomes   : {outcomes_line(tally)}")

    collect(args, actor, settings)


def chunk_rates(durations: list[float]) -> str:
    rates = [count / seconds for count, seconds in zip(PER_CHUNK, durations) if count]
    if not rates:
        return "none"
    return (f"first {rates[0]:.1f}, slowest {min(rates):.1f}, fastest {max(rates):.1f}, last {rates[-1]:.1f} "
            f"charges/s ({len(rates)} chunks)")


def priced(items: Counter) -> float:
    from bench.capacity import priced as by_rule

    return by_rule(items)


def collect(args, actor, settings) -> None:
    from bench.capacity import ITEM_SIZES
    from chalicelib.adapters import payments
    from chalicelib.models.jobs import Job
    from chalicelib.services.subscriptions import collector

    with measured() as (meter, _):
        began = time.monotonic()
        report = collector.sweep()
        swept = time.monotonic() - began
    due = sum(report.due.values())
    print(f"collector sweep       : {due} instalments due on {', '.join(report.days)}, {len(report.started)} job "
          f"started, {swept:.1f} s, {meter.read_units:.0f} read units")
    job_id = next((job_id for job_id in report.started if Job.get(TENANT, job_id).kind == collector.COLLECT), None)
    if job_id is None:
        print("collector             : no collection job started")
        return
    params = Job.get(TENANT, job_id).params
    charges = Counter()
    original = payments.charge_off_session

    def charging(**kwargs):
        outcome = original(**kwargs)
        charges[outcome.status] += 1
        return outcome

    payments.charge_off_session = charging
    try:
        with measured() as (meter, items):
            began = time.monotonic()
            del PER_CHUNK[:]
            durations, tally = run_job(actor, collector.COLLECT, params, stop_after=args.instalments or None)
            elapsed = time.monotonic() - began
    finally:
        payments.charge_off_session = original
    made = sum(charges.values())
    paid = tally["done"]
    rate = made / elapsed
    cap = getattr(settings, "stripe_charge_rate", None)
    print(f"collector             : {made} charges at Stripe ({dict(charges)}) in {elapsed:.1f} s over {len(durations)} "
          f"chunks (longest {max(durations):.1f} s); job outcomes done {tally['done']}, failed {tally['failed']}, "
          f"skipped {tally['skipped']}")
    if cap:
        print(f"charge rate           : {rate:.1f} charges/s against a cap of {cap:g} (STRIPE_CHARGE_RATE) "
              f"({rate / cap:.3f} of the cap)")
        print(f"charge rate by chunk  : {chunk_rates(durations)}")
    else:
        print(f"charge rate           : {rate:.1f} charges/s; the collector has no charge-rate cap")
        print(f"charge rate by chunk  : {chunk_rates(durations)}")
    print(f"collector writes      : {priced_writes(meter, items) / max(paid, 1):.1f} write units per collected "
          f"instalment (transaction items priced {priced(items) / max(paid, 1):.1f} + their indexes "
          f"{meter.transaction_indexes / max(paid, 1):.1f} + other writes "
          f"{(meter.write_units - meter.transaction_units) / max(paid, 1):.1f}), "
          f"{meter.read_units / max(paid, 1):.1f} read units")
    print(f"collector reads       : {reads_line(meter, max(paid, 1))} (read units per collected instalment)")
    carried = ", ".join(f"{table.split('-', 1)[-1]} {count / max(paid, 1):.2f}" for table, count in
                        items.most_common())
    print(f"collector items       : {carried} (transaction items per collected instalment)")
    other = ", ".join(f"{name.split('-', 1)[-1]} {units / max(paid, 1):.2f}" for name, units in
                      meter.table_writes.most_common())
    print(f"collector reported    : {other} (write units per instalment by table, as DynamoDB Local reports them)")
    if made < due:
        print(f"collector note        : stopped after {made} of the {due} due (--instalments {args.instalments}: "
              f"the other {due - made}, at the cap, would take at least {(due - made) / (cap or rate):.0f} s more)")
    sizes = ", ".join(f"{table.split('-', 1)[-1]} {kilobytes}" for table, kilobytes in sorted(ITEM_SIZES.items()))
    print(f"item sizes priced     : {sizes} (KB: each table's largest put seen, for every item of that table)")


if __name__ == "__main__":
    main()
