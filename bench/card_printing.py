"""The cloud side's cost of a season card: DynamoDB write units and SQS messages per printed card.

A mass print of N subscriptions (``--cards``, default 200) runs as the app runs it: the job on
the jobs queue, fed by the event pump, each card's job record, faces (two PNGs to S3) and
message on the site's FIFO print queue; then the agent's results (``taken`` then ``printed``
with a UID, signed) go back on the results queue and the app applies them (the card bound).
Everything runs against its own local engines (DynamoDB Local, moto).

Printed:
- write units per card, by phase (mass print, results) and by table, priced as DynamoDB bills
  them: standard writes as DynamoDB Local reports them (``ReturnConsumedCapacity=INDEXES``),
  transactions at 2 units a KB of each item (DynamoDB Local reports a transaction per table:
  ``bench/capacity.py: priced``);
- SQS messages per card, by queue (print, results, jobs), and S3 objects written per card;
- read units per card, and the time the app spent per card (rendering included).

Heartbeats are not per card: one UpdateItem (1 write unit) per printer every 30 s, 2,880 a day.

    .venv/bin/python bench/card_printing.py --cards 200
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loading import start_local_dynamodb  # noqa: E402
from devtools import engines  # noqa: E402

TENANT = "bench-cards"
STANDARD_WRITES = {"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem"}
READS = {"GetItem", "Query", "BatchGetItem", "TransactGetItems"}


class Meter:
    def __init__(self) -> None:
        self.writes: Counter = Counter()  # table -> standard write units
        self.reads = 0.0
        self.messages: Counter = Counter()  # queue -> SendMessage calls
        self.objects = 0


@contextmanager
def metered():
    import botocore.client

    from bench.capacity import transaction_items

    meter = Meter()
    original = botocore.client.BaseClient._make_api_call

    def counting(self, operation, params):
        service = self.meta.service_model.service_name
        if service == "dynamodb" and operation in STANDARD_WRITES | READS:
            response = original(self, operation, {**params, "ReturnConsumedCapacity": "INDEXES"})
            consumed = response.get("ConsumedCapacity") or []
            for entry in consumed if isinstance(consumed, list) else [consumed]:
                if operation in READS:
                    meter.reads += entry.get("CapacityUnits", 0.0)
                else:
                    meter.writes[_table(entry.get("TableName", "?"))] += entry.get("CapacityUnits", 0.0)
            return response
        if service == "sqs" and operation == "SendMessage":
            meter.messages[params["QueueUrl"].rsplit("/", 1)[-1]] += 1
        if service == "s3" and operation == "PutObject":
            meter.objects += 1
        return original(self, operation, params)

    botocore.client.BaseClient._make_api_call = counting
    try:
        with transaction_items() as items:
            yield meter, items
    finally:
        botocore.client.BaseClient._make_api_call = original


def _table(name: str) -> str:
    from chalicelib.config import settings

    return name.removeprefix(settings.table_prefix)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cards", type=int, default=200)
    args = parser.parse_args()
    stack = engines.Stack()
    log_dir = engines.LOCAL / "bench-logs"
    try:
        moto = stack.add(engines.start_moto(log_dir))
        start_local_dynamodb(stack, log_dir=log_dir, AWS_ENDPOINT=moto.url, AWS_REGION="eu-west-3",
                             SIGNING_SECRET="bench-signing-secret")
        run(args.cards)
    finally:
        stack.stop()


def run(count: int) -> None:
    from chalicelib.models.registry import create_missing_tables

    create_missing_tables()
    import app as application
    from bench.capacity import priced
    from chalicelib.models.base import tenant_key
    from chalicelib.models.cards import PrintJob
    from chalicelib.services.cards import mass_print
    from chalicelib.services.shared.actors import Actor
    from devtools.event_pump import EventPump
    from tests.cards_world import CardWorld, SiteAgent
    from tests.job_helpers import drive

    actor = Actor(TENANT, "bench", frozenset({"admin"}))
    pump = EventPump(application.app)
    pump.prepare()
    world = CardWorld(actor, capacity=count + 10)
    world.sell("Abonné", count=count)
    agent = SiteAgent(world.site)
    phases = {}
    started = time.perf_counter()
    with metered() as (meter, items):
        job = mass_print.start_mass_print(actor, product_id=world.product.id, printer_id=world.printer.id)
        finished = drive(pump, TENANT, job.id, rounds=count)
        phases["mass print"] = (meter, Counter(items), time.perf_counter() - started)
    assert finished.done == count, finished.outcomes
    jobs = [PrintJob.get(TENANT, entry.id) for entry in PrintJob.by_batch.query(tenant_key(TENANT, job.id))]
    assert len(agent.receive()) == count
    started = time.perf_counter()
    with metered() as (meter, items):
        for number, print_job in enumerate(jobs):
            agent.send(agent.result(print_job, "taken"), agent.result(print_job, "printed", uid=f"04{number:012X}"))
        for _ in range(4 * count):
            if not [call for call in pump.run_once() if call.source == "card_results"]:
                break
        phases["results"] = (meter, Counter(items), time.perf_counter() - started)
    bound = sum(1 for entry in PrintJob.by_printer.query(tenant_key(TENANT, world.printer.id),
                                                           PrintJob.printer_order.startswith("printed#")))
    assert bound == count, f"{bound} of {count} printed"
    print(f"cards printed           : {count} (mass print, then 'taken' and 'printed' results fed back)")
    total_writes = total_messages = 0.0
    for name, (meter, transactions, seconds) in phases.items():
        transactional = priced(transactions)
        writes = sum(meter.writes.values()) + transactional
        total_writes += writes
        total_messages += sum(meter.messages.values())
        tables = Counter({table: units for table, units in meter.writes.items()})
        for table, items_count in transactions.items():
            tables[f"{_table(table)} (in transactions)"] += items_count
        print(f"{name:<24}: {writes / count:.1f} write units/card ({transactional / count:.1f} in transactions), "
              f"{meter.reads / count:.1f} read units/card, {seconds / count * 1000:.0f} ms/card")
        print(f"{'':<24}  standard writes by table: "
              + ", ".join(f"{table} {units / count:.1f}" for table, units in sorted(meter.writes.items())))
        print(f"{'':<24}  transaction items by table: "
              + ", ".join(f"{_table(table)} {n / count:.1f}" for table, n in sorted(transactions.items())))
        print(f"{'':<24}  SQS messages sent: "
              + (", ".join(f"{queue} {n / count:.2f}" for queue, n in sorted(meter.messages.items())) or "none")
              + f"; S3 objects written: {meter.objects / count:.1f}/card")
    print(f"per card in all         : {total_writes / count:.1f} write units, "
          f"{total_messages / count:.2f} SQS messages (the agent's results included)")
    print(json.dumps({"cards": count, "write_units_per_card": round(total_writes / count, 2),
                      "sqs_messages_per_card": round(total_messages / count, 2)}))


if __name__ == "__main__":
    main()
