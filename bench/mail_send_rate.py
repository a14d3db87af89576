"""Sending at the cap: N mails through the real send path and the SMTP transport into a local
sink, with a configured cap of R mails/s shared by several senders (as several Lambdas would).

    .venv/bin/python bench/mail_send_rate.py [--mails 10000] [--rate 50] [--senders 8]

Prints the achieved rate as a fraction of the cap (target >= 0.9, never above 1.0, also
checked second by second), and the DynamoDB write units consumed per mail. Starts its own
DynamoDB Local and SMTP sink on free 127.0.0.1 ports and stops them after.
"""
from __future__ import annotations

import argparse
import secrets
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.loading import start_local_dynamodb  # noqa: E402
from devtools import engines  # noqa: E402


class CountingSink:
    """An SMTP server that accepts and counts mails, keeping only the second each arrived in."""

    def __init__(self) -> None:
        self.arrivals: Counter = Counter()
        self.port = engines.free_port()

    async def handle_DATA(self, server, session, envelope):
        self.arrivals[int(time.time())] += 1
        return "250 OK"

    def start(self):
        from aiosmtpd.controller import Controller

        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()
        return self

    def stop(self):
        self._controller.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mails", type=int, default=10_000)
    parser.add_argument("--rate", type=int, default=50)
    parser.add_argument("--senders", type=int, default=8)
    args = parser.parse_args()

    stack = engines.Stack()
    start_local_dynamodb(stack, MAIL_TRANSPORT="smtp")
    sink = CountingSink().start()
    try:
        run(args, sink)
    finally:
        sink.stop()
        stack.stop()


def run(args, sink: CountingSink) -> None:
    from bench.capacity import metered
    from chalicelib.adapters.mail import SmtpTransport
    from chalicelib.models.registry import create_missing_tables
    from chalicelib.services.mail import sending as mail
    from chalicelib.services.mail.rendering import sample_context
    from chalicelib.services.mail.send_rate import Pacer
    from chalicelib.services.shared.actors import Actor

    create_missing_tables()
    actor = Actor("bench-tenant", "bench")
    transport = SmtpTransport("127.0.0.1", sink.port)
    bucket = f"bench-{secrets.token_hex(3)}"
    remaining = iter(range(args.mails))
    lock = threading.Lock()
    permits: Counter = Counter()

    class CountingPacer(Pacer):
        def wait_turn(self) -> None:
            super().wait_turn()
            with lock:
                permits[int(time.time())] += 1

    def next_index():
        with lock:
            return next(remaining, None)

    def sender():
        pacer = CountingPacer(bucket=bucket, rate=args.rate)
        while (index := next_index()) is not None:
            mail.send_mail(actor, mail.MailRequest(
                template="order_confirmation", language="fr", recipient=f"spectateur{index}@exemple.fr",
                concerns_type="order", concerns_id=f"bench-{index}", sender_name="Théâtre des Célestins",
                context=sample_context("order_confirmation"), action_url="https://billets.example.org/t/x"),
                transport=transport, pacer=pacer)

    with metered() as meter:
        started = time.time()
        threads = [threading.Thread(target=sender) for _ in range(args.senders)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.time() - started
    achieved = args.mails / elapsed
    busiest_permits = max(permits.values())
    full_seconds = sorted(sink.arrivals.items())[1:-1]  # the first and last seconds are partial
    busiest = max((count for _, count in full_seconds), default=0)
    print(f"mails sent            : {sum(sink.arrivals.values())} of {args.mails} in {elapsed:.1f} s "
          f"with {args.senders} senders")
    print(f"cap                   : {args.rate} mails/s")
    print(f"achieved rate         : {achieved:.1f} mails/s = {achieved / args.rate:.3f} of the cap "
          "(target >= 0.9, <= 1.0)")
    print(f"busiest second, sends : {busiest_permits} let go by the pacer ({busiest_permits / args.rate:.2f} of the cap)")
    print(f"busiest second, sink  : {busiest} arrived ({busiest / args.rate:.2f} of the cap; "
          "a send let go at .99 s may arrive in the next second)")
    print(f"DynamoDB write units  : {meter.write_units / args.mails:.2f} per mail "
          f"(read units {meter.read_units / args.mails:.2f} per mail)")
    print(f"DynamoDB calls        : {dict(meter.calls)}")


if __name__ == "__main__":
    main()
