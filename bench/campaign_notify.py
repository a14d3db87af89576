"""A cancellation campaign of N affected customers, created and notified through the local stack.

    .venv/bin/python bench/campaign_notify.py [--customers 10000] [--rate 50] [--with-records]

Sells N orders for one performance (setup, not measured), then runs the campaign's two jobs
chunk by chunk as the jobs Lambda would (each chunk with a 900 s Lambda's budget): the build
that gathers the affected customers, and the notify that mails each one through the real
send path (SMTP transport into a local sink, the shared pacer capped at ``--rate``).
``--with-records`` gives every buyer a customer record (their mails are then also listed
under the record: one index entry more per mail).

Prints: DynamoDB write units per customer for the build and for the notify (customer rows
alone, and with the mail pipeline's own records), mails per transport call, the longest
chunk's duration against the Lambda time limit, and the achieved send rate against the cap.
Starts its own DynamoDB Local and SMTP sink on free 127.0.0.1 ports and stops them after.
"""
from __future__ import annotations

import argparse
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loading import start_local_dynamodb  # noqa: E402
from bench.mail_send_rate import CountingSink  # noqa: E402
from devtools import engines  # noqa: E402

LAMBDA_LIMIT_SECONDS = 900


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--with-records", action="store_true")
    args = parser.parse_args()
    stack = engines.Stack()
    sink = CountingSink().start()
    start_local_dynamodb(stack, MAIL_TRANSPORT="smtp", SMTP_PORT=str(sink.port), MAIL_SEND_RATE=str(args.rate))
    try:
        run(args, sink)
    finally:
        sink.stop()
        stack.stop()


def _sell(actor, world, count: int, with_records: bool) -> None:
    from chalicelib.services.contacts import contacts
    from chalicelib.services.orders import orders
    from tests.orders_world import draft, line

    def one(index: int) -> None:
        buyer = {"first_name": "Client", "last_name": f"Bench{index}", "email": f"client{index}@domaine{index % 40}.fr"}
        if with_records:
            buyer["contact_id"] = contacts.create_contact(actor, {
                "first_name": buyer["first_name"], "last_name": buyer["last_name"],
                "emails": [{"address": buyer["email"]}]}).id
        orders.place_order(actor, draft(world, line(world), payment_type="cash", buyer=buyer))

    # Two sellers: more only queue up on the one quota item (transaction conflicts and their retries).
    with ThreadPoolExecutor(max_workers=2) as pool:
        list(pool.map(one, range(count)))


def _run_job(actor, kind, params: dict) -> list[float]:
    """The job's chunks run one after the other as the framework would; each chunk's seconds."""
    import app  # noqa: F401 - wires the job kinds
    from chalicelib.services.jobs.framework import ChunkBudget, kind_named

    job_kind, cursor, durations, seq = kind_named(kind), None, [], 0
    while True:
        budget = ChunkBudget(job_id=f"bench-{kind}", seq=seq, max_items=job_kind.max_items,
                             seconds=LAMBDA_LIMIT_SECONDS - 60)
        started = time.monotonic()
        result = job_kind.run_chunk(actor, params, cursor, budget)
        durations.append(time.monotonic() - started)
        if result.cursor is None:
            return durations
        cursor, seq = result.cursor, seq + 1


def run(args, sink) -> None:
    from bench.capacity import metered
    from chalicelib.adapters import clock, ids
    from chalicelib.models.campaigns import Campaign
    from chalicelib.models.catalog import Performance
    from chalicelib.models.registry import create_missing_tables
    from chalicelib.services.campaigns import affected_customers, campaigns
    from chalicelib.services.shared.actors import Actor
    from tests.orders_world import build_world

    create_missing_tables()
    actor = Actor("bench-tenant", "bench")
    world = build_world(actor, capacity=args.customers + 10)
    started = time.time()
    _sell(actor, world, args.customers, args.with_records)
    print(f"setup                 : {args.customers} orders sold in {time.time() - started:.0f} s (not measured)")

    # The campaign as create_campaign records it, its build run here rather than queued.
    campaign = Campaign(tenant_id=actor.tenant_id, id=ids.new_id(), kind="cancellation",
                        performance_id=world.evening.id, product_id=world.show.id,
                        original_starts_at=world.evening.starts_at, refund_deadline=clock.now().replace(year=2027),
                        choices={"refund", "credit", "donation"}, status="building", created_by="bench")
    campaign.save()
    performance = Performance.get(actor.tenant_id, world.evening.id)  # as the campaign's own transaction does
    performance.status = "cancelled"
    performance.save()
    with metered() as build_meter:
        build_chunks = _run_job(actor, campaigns.BUILD, {"campaign_id": campaign.id})
    customers = affected_customers.counts(actor, campaign.id)["not_notified"]

    sends = {"calls": 0}
    from chalicelib.adapters import mail as mail_adapter

    original_send = mail_adapter.SmtpTransport.send

    def counted(self, *call_args, **call_kwargs):
        sends["calls"] += 1
        return original_send(self, *call_args, **call_kwargs)

    mail_adapter.SmtpTransport.send = counted
    arrived_before = sum(sink.arrivals.values())  # the setup's sales sent their confirmations
    with metered() as notify_meter:
        began = time.time()
        notify_chunks = _run_job(actor, affected_customers.NOTIFY, {"campaign_id": campaign.id})
        elapsed = time.time() - began
    sent = sum(sink.arrivals.values()) - arrived_before
    customer_writes = notify_meter.writes_of("affected_customers")
    longest = max(build_chunks + notify_chunks)
    print(f"affected customers    : {customers} of {args.customers} orders")
    print(f"build                 : {len(build_chunks)} chunks, {build_meter.write_units / customers:.2f} write units "
          f"per customer (target <= 3), {build_meter.read_units / customers:.2f} read units")
    print(f"notify                : {len(notify_chunks)} chunks, {notify_meter.write_units / customers:.2f} write units "
          f"per customer including the mail pipeline's records ({customer_writes / customers:.2f} for the customer "
          f"rows)")
    per_table = ", ".join(f"{name.split('-', 1)[-1]} {units / customers:.2f}"
                          for name, units in notify_meter.table_writes.most_common())
    print(f"notify writes by table: {per_table} (per customer)")
    parts = ", ".join(f"{name.split('-', 1)[-1]} {units / customers:.2f}" for name, units in
                      [*notify_meter.item_writes.most_common(), *notify_meter.index_writes.most_common()])
    print(f"notify writes by item and index: {parts}")
    print(f"mails per transport call: {sent / max(sends['calls'], 1):.2f} ({sent} mails, {sends['calls']} calls)")
    print(f"longest chunk         : {longest:.1f} s of a {LAMBDA_LIMIT_SECONDS} s Lambda "
          f"({longest / LAMBDA_LIMIT_SECONDS:.2f})")
    print(f"send rate             : {sent / elapsed:.1f} mails/s against a cap of {args.rate} "
          f"({sent / elapsed / args.rate:.3f} of the cap)")


if __name__ == "__main__":
    main()
