"""The mass print benchmark: N cards (500 by default) for one simulated printer, through the
real agent (`python -m edge_agent run`, its own process) against a moto server (its own
process), the app's part played here (faces in S3, messages on the site's FIFO queue,
results read and their signatures checked).

It prints the cards per hour achieved against the simulator's own limit (3600 s / its
configured time per card), and the agent's overhead per card: wall time per card minus the
simulated time per card, in ms, as a fraction of the configured simulated time and of the
real printer's 18 s + 3 s (colour one side + encoding). The simulator runs faster than a real
printer (default 0.18 s + 0.03 s, one hundredth) so that 500 cards take minutes, not hours.

    edge_agent/.venv/bin/python edge_agent/bench/mass_print.py [--cards 500] [--print-seconds 0.18]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
import zlib
from pathlib import Path

import boto3

from edge_agent import protocol

REGION = "eu-west-3"
TENANT, SITE, PRINTER = "bench-venue", "bench-site", "bench-printer"
AGENT_KEY = bytes.fromhex("22" * 32)
BUCKET = "bench-card-images"
REAL_SECONDS = 18.0 + 3.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def card_png(tag: str) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(1016) for _ in range(648))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1016, 648, 8, 0, 0, 0, 0))
            + chunk(b"tEXt", b"job\x00" + tag.encode()) + chunk(b"IDAT", zlib.compress(raw, 1)) + chunk(b"IEND", b""))


def start_moto(port: int) -> subprocess.Popen:
    proc = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/moto-api/", timeout=1)
            return proc
        except OSError:
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("moto server did not start")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=500)
    parser.add_argument("--print-seconds", type=float, default=0.18)
    parser.add_argument("--encode-seconds", type=float, default=0.03)
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()
    os.environ.update({"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": REGION})
    work = Path(tempfile.mkdtemp(prefix="edge-agent-bench-"))
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    moto = start_moto(port)
    agent = None
    try:
        sqs = boto3.client("sqs", region_name=REGION, endpoint_url=endpoint)
        s3 = boto3.client("s3", region_name=REGION, endpoint_url=endpoint)
        print_url = sqs.create_queue(QueueName=f"ticketing-bench-print-{SITE}.fifo",
                                     Attributes={"FifoQueue": "true", "VisibilityTimeout": "300"})["QueueUrl"]
        results_url = sqs.create_queue(QueueName="ticketing-bench-card-results")["QueueUrl"]
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})

        jobs = [uuid.uuid4().hex for _ in range(args.cards)]
        entries = []
        for job in jobs:
            key = f"{TENANT}/{SITE}/{job}/front.png"
            s3.put_object(Bucket=BUCKET, Key=key, Body=card_png(job))
            url = s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key}, ExpiresIn=86400)
            body = {"v": 1, "type": "print_card", "tenant_id": TENANT, "site_id": SITE, "printer_id": PRINTER,
                    "job_id": job, "encode": True, "front": {"url": url, "bucket": BUCKET, "key": key},
                    "back": None, "card": {"holder": f"Holder {job[:6]}"}, "sent_at": protocol.now_iso()}
            entries.append({"Id": job, "MessageBody": json.dumps(body), "MessageGroupId": PRINTER,
                            "MessageDeduplicationId": job})
        for i in range(0, len(entries), 10):
            sqs.send_message_batch(QueueUrl=print_url, Entries=entries[i:i + 10])

        config = work / "agent.toml"
        config.write_text("\n".join([
            "[agent]", f'tenant_id = "{TENANT}"', f'site_id = "{SITE}"', f'agent_key = "{AGENT_KEY.hex()}"',
            'journal = "journal.sqlite3"',
            "[aws]", f'region = "{REGION}"', f'endpoint_url = "{endpoint}"', f'print_queue_url = "{print_url}"',
            f'results_queue_url = "{results_url}"',
            # moto's long poll does not wake when a FIFO group is freed (SQS's does): short polling here.
            "wait_time_seconds = 0",
            "[[printers]]", f'printer_id = "{PRINTER}"', 'driver = "simulator"', 'device = "Evolis Primacy 2"',
            "encoder = true", "[printers.simulator]", f"print_seconds = {args.print_seconds}",
            f"encode_seconds = {args.encode_seconds}", 'state_dir = "printer"',
        ]) + "\n")
        agent = subprocess.Popen([sys.executable, "-m", "edge_agent", "run", "--config", str(config),
                                  "--log-level", "WARNING"], cwd=work)

        taken_at: dict[str, float] = {}
        printed: dict[str, dict] = {}
        deadline = time.monotonic() + args.timeout
        while len(printed) < args.cards and time.monotonic() < deadline:
            answer = sqs.receive_message(QueueUrl=results_url, MaxNumberOfMessages=10, WaitTimeSeconds=1)
            for message in answer.get("Messages", []):
                result = json.loads(message["Body"])
                if not protocol.signature_matches(result, AGENT_KEY):
                    raise SystemExit(f"bad signature: {result}")
                if result["type"] == "job_result":
                    at = _seconds(result["at"])
                    if result["outcome"] == "taken":
                        taken_at.setdefault(result["job_id"], at)
                    elif result["outcome"] == "printed":
                        printed[result["job_id"]] = {**result, "at_s": at}
                    else:
                        raise SystemExit(f"not printed: {result}")
                sqs.delete_message(QueueUrl=results_url, ReceiptHandle=message["ReceiptHandle"])
        if len(printed) < args.cards:
            raise SystemExit(f"only {len(printed)} of {args.cards} printed before the timeout")
    finally:
        agent_cpu = None
        if agent is not None:
            agent.send_signal(signal.SIGTERM)
            _, status, usage = os.wait4(agent.pid, 0)  # the agent's own CPU time, start-up included
            agent.returncode = os.waitstatus_to_exitcode(status)
            agent_cpu = usage.ru_utime + usage.ru_stime
        moto.send_signal(signal.SIGTERM)
        moto.wait(30)

    log = [json.loads(x) for x in (work / "printer" / "printed.jsonl").read_text().splitlines()]
    assert len(log) == args.cards, f"the printer logged {len(log)} prints for {args.cards} jobs"
    assert len({p["uid"] for p in printed.values()}) == args.cards

    n = args.cards
    wall = max(p["at_s"] for p in printed.values()) - min(taken_at.values())
    simulated = args.print_seconds + args.encode_seconds
    per_card = wall / n
    overhead = per_card - simulated
    print(f"cards: {n}, printed once each (printer log), signatures checked")
    print(f"simulated time per card: {simulated * 1000:.0f} ms "
          f"(print {args.print_seconds * 1000:.0f} ms + encode {args.encode_seconds * 1000:.0f} ms)")
    print(f"wall time, first taken to last printed: {wall:.1f} s, {per_card * 1000:.1f} ms per card "
          f"(moto server and this script share the machine's cores with the agent)")
    print(f"cards per hour: {3600 / per_card:,.0f} achieved, simulator's own limit {3600 / simulated:,.0f} "
          f"({simulated / per_card:.1%} of it)")
    print(f"agent overhead per card: {overhead * 1000:.1f} ms = {overhead / simulated:.1%} of the configured "
          f"simulated time, {overhead / REAL_SECONDS:.2%} of a real card's 18 s + 3 s (goal <= 1%)")
    print(f"agent process CPU time: {agent_cpu:.1f} s, {agent_cpu / n * 1000:.1f} ms per card (start-up included)")
    print(f"at the real speed: {3600 / (REAL_SECONDS + overhead):,.1f} cards per hour against a limit of "
          f"{3600 / REAL_SECONDS:,.1f}")
    return 0


def _seconds(at: str) -> float:
    from datetime import datetime

    return datetime.fromisoformat(at.replace("Z", "+00:00")).timestamp()


if __name__ == "__main__":
    raise SystemExit(main())
