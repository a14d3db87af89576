"""``make dev``: the whole product running locally on 127.0.0.1, stopped as one by Ctrl-C.

It owns the order of start-up and the one environment every local piece shares:

1. the staff-token key pair (``.local/keys``, :func:`devtools.tokens.dev_signer`);
2. DynamoDB Local persisting to ``.local/dev/dynamodb``, moto server (SQS, SNS, SES) and
   localstripe, each on a free port in its own process group (:mod:`devtools.engines`);
   localstripe is told to post its events to the app's ``/webhooks/stripe``, signed with this
   run's webhook secret, so a card payment (``make pay INTENT=pi_...``) completes as on Stripe;
3. the mail inbox (:mod:`devtools.mailbox`, in this process, mails in ``.local/dev/mailbox``);
4. the environment the app reads (:func:`stack_environment`), the missing tables, and the
   demo tenant's data, once per database (:mod:`devtools.seed`);
5. the app's processes: ``chalice local --stage dev`` and the event pump
   (:mod:`devtools.event_pump`), with that environment plus the stage's variables from
   ``.chalice/config.json``, as Lambda gets them. Their output is echoed here, prefixed,
   and kept in ``.local/dev/logs``;
6. the demo venue's card site with a simulated Evolis printer, and its edge agent
   (:mod:`devtools.card_agent`): a card printed through the API is printed (simulated) and
   its UID bound within seconds.

Then it prints the URLs, a staff token for the demo tenant and an example ``curl``, writes
the same to ``.local/dev/stack.env`` (``set -a; . .local/dev/stack.env; set +a``), and waits.

The app's processes are restarted when the packaged code changes (``app.py``,
``chalicelib/``, ``templates/``, ``vendor/``, ``.chalice/config.json``), by this module
rather than by ``chalice local``'s own reloader, which polls every file of the checkout
(``.venv``, ``node_modules`` and the ``.local`` folder the stack itself writes to, which
would restart it forever) and would not restart the pump. If the app crashes (a typo), the
engines keep running and the next code change tries again.

SIGINT, SIGTERM or SIGHUP, or an engine dying, stops every process group it started. One
stack per checkout: a second ``make dev`` is refused while the first runs.

    python -m devtools.dev            # what `make dev` runs
    python -m devtools.dev --reset    # forget the local database and mails first
"""
from __future__ import annotations

import argparse
import fcntl
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import traceback
from contextlib import contextmanager
from pathlib import Path

from devtools import card_agent, engines
from devtools.engines import LOCAL, ROOT, Engine, Stack
from devtools.geo_database import write_database as write_geo_database
from devtools.mailbox import Mailbox
from devtools.tokens import DEV_ISSUER, dev_signer

DEV_DIR = LOCAL / "dev"
LOG_DIR = DEV_DIR / "logs"
DATA_DIR = DEV_DIR / "dynamodb"
MAIL_DIR = DEV_DIR / "mailbox"
STACK_ENV = DEV_DIR / "stack.env"
GEOIP_DATABASE = DEV_DIR / "geoip" / "GeoIP2-City-test.mmdb"
STAGE = "dev"
DEMO_TENANT = "theatre-lyon"
HOST = "127.0.0.1"
# What `chalice package` ships (plus the stage config): a change here restarts the app.
PACKAGED_CODE = ("app.py", "chalicelib", "templates", "vendor", ".chalice/config.json")
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)

# Set by a stop signal and checked between start-up steps: raising from the handler could
# land between a child's spawn and its registration in the stack, and leave it running.
stop_requested = threading.Event()


class Shutdown(Exception):
    """A stop was requested during start-up."""


def _request_stop(signum, frame) -> None:
    stop_requested.set()


def checkpoint() -> None:
    if stop_requested.is_set():
        raise Shutdown()


@contextmanager
def single_instance():
    """Hold ``.local/dev/dev.lock``: two stacks on one database directory would corrupt it."""
    DEV_DIR.mkdir(parents=True, exist_ok=True)
    with open(DEV_DIR / "dev.lock", "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SystemExit("Another `make dev` is running in this checkout (.local/dev/dev.lock).") from None
        yield


# -- environment ---------------------------------------------------------------------------


def chalice_stage_environment(stage: str = STAGE) -> dict[str, str]:
    """The variables ``.chalice/config.json`` gives the stage's Lambda (global, then stage)."""
    config = json.loads((ROOT / ".chalice" / "config.json").read_text())
    return {**config.get("environment_variables", {}),
            **config.get("stages", {}).get(stage, {}).get("environment_variables", {})}


def stack_environment(dynamodb: Engine, moto: Engine, stripe: Engine, mailbox: Mailbox,
                      api_url: str, jwks_path: Path, webhook_secret: str) -> dict[str, str]:
    """What the app's settings read to run against the local stack."""
    return {
        **engines.aws_environment(dynamodb, moto),
        "STAGE": STAGE,
        "TABLE_PREFIX": f"ticketing-{STAGE}-",
        "JWKS_URL": str(jwks_path),
        "JWT_ISSUER": DEV_ISSUER,
        "MAIL_TRANSPORT": "smtp",
        "SMTP_HOST": HOST,
        "SMTP_PORT": str(mailbox.smtp_port),
        "LOCAL_MAIL_EVENTS": "true",
        "MAIL_FROM_ADDRESS": "billetterie@theatre-lyon.localhost",
        "STRIPE_API_BASE": stripe.url,
        "STRIPE_SECRET_KEY": "sk_test_local",
        "STRIPE_WEBHOOK_SECRET": webhook_secret,
        "PUBLIC_BASE_URL": api_url,
        "POWERTOOLS_TRACE_DISABLED": "true",
        # Geographic limits: the test database of devtools/geo_database.py (192.0.2.10 is in Strasbourg...),
        # and the X-Local-Source-Ip header to say where a request comes from (chalice local says 127.0.0.1).
        "GEOIP_DATABASE": str(write_geo_database(GEOIP_DATABASE)),
        "LOCAL_SOURCE_IP_HEADER": "true",
    }


def write_stack_env(env: dict[str, str], token: str) -> None:
    """The stack's environment and token, for scripts and shells; removed when the stack stops."""
    STACK_ENV.write_text("".join(f"{name}={shlex.quote(value)}\n"
                                 for name, value in {**env, "DEV_TOKEN": token}.items()))
    STACK_ENV.chmod(0o600)


# -- data ----------------------------------------------------------------------------------


def prepare_data() -> None:
    """Tables, then the demo tenant. Runs here, after ``os.environ`` points at the stack,
    because ``chalicelib.config`` reads the environment once, at import."""
    from chalicelib.models.registry import create_missing_tables
    from devtools.seed import seed_demo_if_missing

    created = create_missing_tables()
    print(f"tables: {len(created)} created" if created else "tables: all present", flush=True)
    started = time.monotonic()
    try:
        seeded = seed_demo_if_missing()
    except Exception:  # noqa: BLE001 - the stack is still useful; say how to start clean
        traceback.print_exc()
        print("demo data: seeding FAILED (above); `python -m devtools.dev --reset` starts from an empty database")
        return
    print(f"demo data: seeded tenant {DEMO_TENANT} in {time.monotonic() - started:.1f}s" if seeded
          else f"demo data: tenant {DEMO_TENANT} already seeded", flush=True)


def prepare_card_site() -> Path | None:
    """The demo venue's card site, its simulated printer and its agent's configuration."""
    try:
        path = card_agent.prepare(DEMO_TENANT)
    except Exception:  # noqa: BLE001 - the stack is useful without card printing
        traceback.print_exc()
        print("card printing: the demo site could not be prepared (above); no card agent", flush=True)
        return None
    print(f"card printing: site {card_agent.SITE_NAME!r}, a simulated printer, agent configuration {path}", flush=True)
    return path


# -- the app's processes -------------------------------------------------------------------


def _echo(stream, log_path: Path, prefix: str) -> None:
    """Copy a child's output to its log file and, prefixed, to our console."""
    with open(log_path, "ab") as log:
        for line in iter(stream.readline, b""):
            log.write(line)
            log.flush()
            sys.stdout.write(f"{prefix} {line.decode('utf-8', 'replace')}")
            sys.stdout.flush()


def spawn_echoed(name: str, command: list[str], port: int | None, env: dict[str, str]) -> Engine:
    """A child in its own process group (stopped with the group), its output echoed."""
    LOG_DIR.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env, "PYTHONUNBUFFERED": "1"},
                               stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               start_new_session=True)
    engine = Engine(name, port or 0, process, LOG_DIR / f"{name}.log")
    threading.Thread(target=_echo, args=(process.stdout, engine.log_path, f"[{name}]"), daemon=True).start()
    if port:
        try:
            engines.wait_until_listening(port, process, name)
        except RuntimeError:
            engine.stop()
            raise
    return engine


class AppProcesses:
    """``chalice local`` and the event pump: the processes that run our code."""

    def __init__(self, env: dict[str, str], port: int) -> None:
        self.env = env
        self.port = port
        self.running: list[Engine] = []

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def start(self) -> bool:
        """Start both; ``False`` (and nothing left running) if the app does not come up."""
        chalice = str(Path(sys.executable).parent / "chalice")
        try:
            self.running.append(spawn_echoed(
                "chalice", [chalice, "local", "--stage", STAGE, "--host", HOST, "--port", str(self.port),
                            "--no-autoreload"], self.port, self.env))
            engines.http_ready(f"{self.url}/openapi.json")
            self.running.append(spawn_echoed(
                "event-pump", [sys.executable, "-m", "devtools.event_pump", "--app", "app:app",
                               "--wait-seconds", "2"], None, self.env))
        except RuntimeError as error:
            print(f"[dev] the app did not start: {error}; waiting for a code change", flush=True)
            self.stop()
            return False
        return True

    def stop(self) -> None:
        for engine in reversed(self.running):
            engine.stop()
        self.running.clear()

    def restart(self, reason: str) -> None:
        print(f"[dev] {reason}: restarting chalice local and the event pump", flush=True)
        self.stop()
        self.start()

    def crashed(self) -> Engine | None:
        """A process that exited on its own; the others are stopped with it."""
        for engine in self.running:
            if engine.process.poll() is not None:
                print(f"[dev] {engine.name} exited with code {engine.process.returncode}; "
                      f"waiting for a code change", flush=True)
                self.stop()
                return engine
        return None


class CodeWatcher:
    """Notices a change (edit, new or removed file) in the packaged code, by polling mtimes."""

    def __init__(self, paths: tuple[str, ...] = PACKAGED_CODE, root: Path = ROOT) -> None:
        self.root = root
        self.paths = [root / path for path in paths]
        self._seen = self._scan()

    def _scan(self) -> dict[Path, int]:
        found: dict[Path, int] = {}
        for path in self.paths:
            files = [path] if path.is_file() else path.rglob("*") if path.is_dir() else []
            for file in files:
                if file.is_file() and "__pycache__" not in file.parts and not file.name.startswith("."):
                    found[file] = file.stat().st_mtime_ns
        return found

    def changed(self) -> str | None:
        """The first changed path (relative), or ``None``."""
        current = self._scan()
        if current == self._seen:
            return None
        time.sleep(0.3)  # an editor or a `git checkout` writes several files: take them together
        current, previous = self._scan(), self._seen
        self._seen = current
        differing = sorted(path for path in current.keys() | previous.keys()
                           if current.get(path) != previous.get(path))
        return str(differing[0].relative_to(self.root)) if differing else None


# -- the stack -----------------------------------------------------------------------------


def banner(urls: dict[str, str], token: str, app_up: bool) -> str:
    lines = ["", "=" * 78, "  Local stack ready (Ctrl-C stops everything)", "=" * 78]
    if not app_up:
        lines += ["  !! the app did not start (see [chalice] above); fix the code, it restarts"]
    lines += [f"  {name:<15} {url}" for name, url in urls.items()]
    lines += ["", f"  Staff token (tenant {DEMO_TENANT}, roles staff+admin, 12 h):", f"  {token}", "",
              "  Try:", f"  curl -s -H 'Authorization: Bearer {token}' {urls['API']}/venues", "",
              "  or, in any shell, with the whole environment:",
              f"  set -a; . {STACK_ENV.relative_to(ROOT)}; set +a",
              '  curl -s -H "Authorization: Bearer $DEV_TOKEN" "$PUBLIC_BASE_URL/venues"',
              "", f"  Logs: {LOG_DIR.relative_to(ROOT)}/", "=" * 78, ""]
    return "\n".join(lines)


def watch(stack: Stack, app: AppProcesses, code: CodeWatcher) -> int:
    """Until a stop signal (0) or an engine dying (1): restart the app when its code changes."""
    while not stop_requested.wait(0.5):
        for engine in stack.engines:
            if engine.process.poll() is not None:
                print(f"\n[dev] {engine.name} exited with code {engine.process.returncode}; see "
                      f"{engine.log_path.relative_to(ROOT)}. Stopping the stack.", flush=True)
                return 1
        app.crashed()
        changed = code.changed()
        if changed:
            app.restart(f"{changed} changed")
    return 0


def start_engines(stack: Stack) -> tuple[Engine, Engine, Engine]:
    print("starting DynamoDB Local, moto, localstripe ...", flush=True)
    # DynamoDB Local sends usage telemetry to AWS unless told not to; nothing leaves the machine.
    os.environ["DDB_LOCAL_TELEMETRY"] = "0"
    dynamodb = stack.add(engines.start_dynamodb(LOG_DIR, data_dir=DATA_DIR))
    checkpoint()
    moto = stack.add(engines.start_moto(LOG_DIR))
    checkpoint()
    stripe = stack.add(engines.start_localstripe(LOG_DIR))
    checkpoint()
    return dynamodb, moto, stripe


def run(reset: bool) -> int:
    stack, mailbox, app = Stack(), None, None
    try:
        if reset:
            for directory in (DATA_DIR, MAIL_DIR):
                shutil.rmtree(directory, ignore_errors=True)
        signer = dev_signer()
        dynamodb, moto, stripe = start_engines(stack)
        mailbox = Mailbox(MAIL_DIR).start()
        api_url = f"http://{HOST}:{engines.free_port()}"
        env = stack_environment(dynamodb, moto, stripe, mailbox, api_url, signer.jwks_path,
                                webhook_secret=f"whsec_{secrets.token_hex(16)}")
        # localstripe calls no webhook until told: card payments complete as on Stripe.
        engines.register_stripe_webhook(stripe.url, f"{api_url}/webhooks/stripe", env["STRIPE_WEBHOOK_SECRET"])
        os.environ.update(env)
        prepare_data()
        agent_config = prepare_card_site()
        checkpoint()
        code = CodeWatcher()
        app = AppProcesses({**env, **chalice_stage_environment()}, int(api_url.rsplit(":", 1)[1]))
        app_up = app.start()
        if agent_config is not None and (agent := card_agent.start(agent_config, env)) is not None:
            stack.add(agent)
        checkpoint()
        token = signer.mint(DEMO_TENANT, ["staff", "admin"], "demo-staff")
        write_stack_env(env, token)
        print(banner({"API": api_url, "OpenAPI": f"{api_url}/openapi.json", "Mailbox (web)": mailbox.web_url,
                      "Mailbox (SMTP)": f"{HOST}:{mailbox.smtp_port}", "localstripe": stripe.url,
                      "DynamoDB Local": dynamodb.url, "moto (SQS/SNS)": moto.url}, token, app_up), flush=True)
        return watch(stack, app, code)
    except Shutdown:
        return 0
    finally:
        # A second Ctrl-C must not cut the clean-up short and leave engines behind.
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        print("\nstopping the local stack ...", flush=True)
        if app is not None:
            app.stop()
        stack.stop()
        if mailbox is not None:
            mailbox.stop()
        STACK_ENV.unlink(missing_ok=True)
        print("local stack stopped", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description="Run the whole product locally (make dev)")
    parser.add_argument("--reset", action="store_true", help="delete the local database and mails first")
    args = parser.parse_args()
    for signum in STOP_SIGNALS:
        signal.signal(signum, _request_stop)
    with single_instance():
        code = run(args.reset)
    sys.exit(code)


if __name__ == "__main__":
    main()
