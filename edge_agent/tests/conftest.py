"""The agent's test bench: a moto server (SQS and S3) on a free 127.0.0.1 port, a site with
its print queue, results queue and card-images bucket, and the app's part played by the
tests: send print messages, read (and verify) what the agent answers."""

from __future__ import annotations

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time
import urllib.request
import uuid
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import boto3
import pytest

from edge_agent import protocol

os.environ.update({
    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "eu-west-3",
})
os.environ.pop("AWS_PROFILE", None)

REGION = "eu-west-3"
AGENT_KEY = bytes.fromhex("11" * 32)
TENANT = "venue-a"
BUCKET = "ticketing-test-card-images"
AGENT_SRC = Path(__file__).resolve().parents[1] / "src"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def card_png(tag: str, width: int = 1016, height: int = 648) -> bytes:
    """A real PNG of a CR-80 card face (grey, 8 bits), made unique by a tEXt chunk."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    raw = b"".join(b"\x00" + bytes(width) for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"tEXt", b"job\x00" + tag.encode()) + chunk(b"IDAT", zlib.compress(raw, 1))
            + chunk(b"IEND", b""))


@pytest.fixture(scope="session")
def moto_endpoint():
    """moto server in its own process (in this one it would share the interpreter's lock with
    the agents under test)."""
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1)
            break
        except OSError:
            if time.monotonic() > deadline or server.poll() is not None:
                server.kill()
                raise RuntimeError("moto server did not start")
            time.sleep(0.1)
    yield endpoint
    server.terminate()
    server.wait(10)


@dataclass
class Site:
    """A site as the app sets it up, and the app's side of the messages."""

    endpoint: str
    site_id: str
    tmp: Path
    sqs: Any
    s3: Any
    print_queue_url: str
    results_queue_url: str
    results: list[dict[str, Any]] = field(default_factory=list)
    images: dict[str, str] = field(default_factory=dict)  # job_id -> front image sha256

    def send_job(self, printer_id: str, job_id: str | None = None, *, encode: bool = True, back: bool = False,
                 front_url: str | None = None, body: dict[str, Any] | None = None) -> str:
        """What the app does: the faces in the bucket, the message on the print queue."""
        import hashlib

        job_id = job_id or uuid.uuid4().hex
        if body is None:
            faces = {}
            for side in ("front", "back") if back else ("front",):
                key = f"{TENANT}/{self.site_id}/{job_id}/{side}.png"
                image = card_png(f"{job_id}/{side}")
                self.s3.put_object(Bucket=BUCKET, Key=key, Body=image, ContentType="image/png")
                url = self.s3.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": key},
                                                     ExpiresIn=3600)
                faces[side] = {"url": url, "bucket": BUCKET, "key": key}
                if side == "front":
                    self.images[job_id] = hashlib.sha256(image).hexdigest()
            if front_url is not None:
                faces["front"]["url"] = front_url
            body = {
                "v": 1, "type": "print_card", "tenant_id": TENANT, "site_id": self.site_id,
                "printer_id": printer_id, "job_id": job_id, "encode": encode, "front": faces["front"],
                "back": faces.get("back"), "card": {"holder": "Jeanne Martin", "season": "2026-2027"},
                "sent_at": protocol.now_iso(),
            }
        self.sqs.send_message(QueueUrl=self.print_queue_url, MessageBody=json.dumps(body),
                              MessageGroupId=printer_id, MessageDeduplicationId=job_id)
        return job_id

    def cancel(self, job_id: str) -> None:
        self.s3.put_object(Bucket=BUCKET, Key=f"{TENANT}/{self.site_id}/cancelled/{job_id}", Body=b"")

    def poll(self) -> None:
        """Read the results queue as the app does: every message's signature must match."""
        answer = self.sqs.receive_message(QueueUrl=self.results_queue_url, MaxNumberOfMessages=10,
                                          WaitTimeSeconds=0)
        for message in answer.get("Messages", []):
            body = json.loads(message["Body"])
            assert protocol.signature_matches(body, AGENT_KEY), body
            assert body["tenant_id"] == TENANT and body["site_id"] == self.site_id, body
            self.results.append(body)
            self.sqs.delete_message(QueueUrl=self.results_queue_url, ReceiptHandle=message["ReceiptHandle"])

    def wait_for(self, condition: Callable[[], bool], timeout: float = 15.0, what: str = "") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.poll()
            if condition():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what or condition}: {self.results}")

    def job_results(self, job_id: str) -> list[dict[str, Any]]:
        return [r for r in self.results if r["type"] == "job_result" and r["job_id"] == job_id]

    def outcome(self, job_id: str) -> dict[str, Any] | None:
        final = [r for r in self.job_results(job_id) if r["outcome"] != protocol.TAKEN]
        return final[-1] if final else None

    def wait_outcome(self, job_id: str, timeout: float = 15.0) -> dict[str, Any]:
        self.wait_for(lambda: self.outcome(job_id) is not None, timeout, f"the result of {job_id}")
        return self.outcome(job_id)

    def heartbeats(self, printer_id: str) -> list[dict[str, Any]]:
        return [r for r in self.results if r["type"] == "heartbeat" and r["printer_id"] == printer_id]

    def wait_heartbeat(self, printer_id: str, state: str, reason: str | None = None, timeout: float = 10.0):
        def seen() -> bool:
            return any(h["state"] == state and (reason is None or reason in h["reasons"])
                       for h in self.heartbeats(printer_id))
        self.wait_for(seen, timeout, f"heartbeat {printer_id} {state} {reason}")

    def queue_counts(self) -> tuple[int, int]:
        attrs = self.sqs.get_queue_attributes(
            QueueUrl=self.print_queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return int(attrs["ApproximateNumberOfMessages"]), int(attrs["ApproximateNumberOfMessagesNotVisible"])

    def config_text(self, printers: list[dict[str, Any]], wait_time_seconds: int = 0, **agent: Any) -> str:
        """The agent's TOML. Short polling by default: moto's long poll does not wake when a FIFO
        group is freed, and an agent stops within one poll."""
        settings = {"heartbeat_seconds": 30, "status_poll_seconds": 0.1, "busy_retry_seconds": 1,
                    "print_timeout_seconds": 30, **agent}
        lines = [
            "[agent]", f'tenant_id = "{TENANT}"', f'site_id = "{self.site_id}"',
            f'agent_key = "{AGENT_KEY.hex()}"', 'journal = "journal.sqlite3"',
            *(f"{k} = {json.dumps(v)}" for k, v in settings.items()),
            "[aws]", f'region = "{REGION}"', f'endpoint_url = "{self.endpoint}"',
            f'print_queue_url = "{self.print_queue_url}"', f'results_queue_url = "{self.results_queue_url}"',
            f"wait_time_seconds = {wait_time_seconds}", "visibility_timeout_seconds = 2", "visibility_extend_seconds = 0.5",
        ]
        for p in printers:
            sim = {"print_seconds": 0.05, "back_seconds": 0.01, "encode_seconds": 0.01,
                   "state_dir": f"sim-{p['printer_id']}", **p.get("simulator", {})}
            lines += ["[[printers]]", f'printer_id = "{p["printer_id"]}"', f'driver = "{p.get("driver", "simulator")}"',
                      f'device = "{p.get("device", "Evolis Primacy 2")}"',
                      f'encoder = {"true" if p.get("encoder", True) else "false"}',
                      "[printers.simulator]", *(f"{k} = {json.dumps(v)}" for k, v in sim.items())]
        return "\n".join(lines) + "\n"

    def write_config(self, printers: list[dict[str, Any]], **settings: Any) -> Path:
        path = self.tmp / "agent.toml"
        path.write_text(self.config_text(printers, **settings))
        return path

    def faults(self, printer_id: str) -> Path:
        path = self.tmp / f"sim-{printer_id}" / "faults"
        path.mkdir(parents=True, exist_ok=True)
        return path

    def printed(self, printer_id: str) -> list[dict[str, Any]]:
        """The simulator's log: every card ink touched."""
        path = self.tmp / f"sim-{printer_id}" / "printed.jsonl"
        return [json.loads(x) for x in path.read_text().splitlines()] if path.exists() else []

    def machine(self, printer_id: str) -> dict[str, Any]:
        return json.loads((self.tmp / f"sim-{printer_id}" / "state.json").read_text())

    def prints_of(self, printer_id: str, job_id: str) -> list[dict[str, Any]]:
        return [p for p in self.printed(printer_id) if p["front_sha256"] == self.images[job_id]]


@pytest.fixture
def site(moto_endpoint, tmp_path) -> Site:
    return new_site(moto_endpoint, tmp_path)


def new_site(moto_endpoint: str, tmp_path: Path) -> Site:
    """A site of its own (queues named after a fresh site id) in the shared bucket."""
    sqs = boto3.client("sqs", region_name=REGION, endpoint_url=moto_endpoint)
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=moto_endpoint)
    site_id = "site-" + uuid.uuid4().hex[:12]
    print_url = sqs.create_queue(
        QueueName=f"ticketing-test-print-{site_id}.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "false", "VisibilityTimeout": "300"},
    )["QueueUrl"]
    results_url = sqs.create_queue(QueueName=f"ticketing-test-card-results-{site_id}")["QueueUrl"]
    try:
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    return Site(moto_endpoint, site_id, tmp_path, sqs, s3, print_url, results_url)


@pytest.fixture
def run_agent(site):
    """Start the agent in this process on a configuration; stopped (gracefully) at the end."""
    from edge_agent.agent import Agent
    from edge_agent.config import load

    agents = []

    def start(printers: list[dict[str, Any]], **agent_settings: Any) -> Agent:
        agent = Agent(load(site.write_config(printers, **agent_settings)))
        agent.start()
        agents.append(agent)
        return agent

    yield start
    for agent in agents:
        agent.stop()
    for agent in agents:
        agent.wait(timeout=10)


class AgentProcess:
    """The agent as it runs at a venue: `python -m edge_agent run`, in its own process."""

    def __init__(self, config: Path, env: dict[str, str] | None = None):
        self.log = config.parent / f"agent-{time.monotonic_ns()}.log"
        self._log = open(self.log, "w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "edge_agent", "run", "--config", str(config), "--log-level", "INFO"],
            env={**os.environ, **(env or {})}, stdout=self._log, stderr=subprocess.STDOUT, cwd=config.parent,
        )

    def wait_exit(self, timeout: float = 20.0) -> int:
        try:
            return self.proc.wait(timeout)
        finally:
            self._log.close()

    def terminate(self, timeout: float = 20.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        return self.wait_exit(timeout)

    def kill(self) -> None:
        self.proc.kill()
        self.wait_exit()
