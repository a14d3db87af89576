"""The test harness: real engines, started once per run on free 127.0.0.1 ports, stopped after.

Before any product module is imported, this starts DynamoDB Local (in memory), moto
server and localstripe, points the settings at them with a table prefix unique to this run, generates a
signing key pair for staff tokens, and creates the tables. Tests are isolated by tenant:
each test gets a fresh tenant id, and every key starts with the tenant id.

It also enforces **no Scan**: any DynamoDB ``Scan`` issued during the run raises in the
test that issued it and fails the whole run at the end, even if the error was swallowed.
"""
from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path

import pytest

from devtools import engines

_stack = engines.Stack()
SCANS: list[str] = []
RUN_DIR = Path(tempfile.mkdtemp(prefix="ticketing-tests-"))
# moto's S3 refuses parts (but the last) under this size, as S3 does under 5 MiB: tests that
# make several parts out of a few rows lower the product's part size to it.
S3_PART_MIN_SIZE = 1024


def _forbid_scan() -> None:
    import botocore.client

    original = botocore.client.BaseClient._make_api_call

    def guarded(self, operation_name, api_params):
        if operation_name == "Scan":
            SCANS.append(f"Scan on {api_params.get('TableName')}")
            raise AssertionError(f"DynamoDB Scan is forbidden (table {api_params.get('TableName')})")
        return original(self, operation_name, api_params)

    botocore.client.BaseClient._make_api_call = guarded


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return  # xdist workers inherit the controller's environment
    try:
        _start_engines(engines.LOCAL / "test-logs")
    except BaseException:
        _stack.stop()  # pytest does not unconfigure after a failed configure: leave nothing running
        raise


def _start_engines(log_dir: Path) -> None:
    dynamodb = _stack.add(engines.start_dynamodb(log_dir))
    moto = _stack.add(engines.start_moto(log_dir, s3_part_min_size=S3_PART_MIN_SIZE))
    stripe = _stack.add(engines.start_localstripe(log_dir))
    from devtools.tokens import LocalSigner

    signer = LocalSigner(RUN_DIR / "keys", issuer="https://ticketing.local/test")
    os.environ.update(engines.aws_environment(dynamodb, moto))
    os.environ.update({
        "STAGE": "test",
        "TABLE_PREFIX": f"t{secrets.token_hex(3)}-",
        "JWKS_URL": str(signer.jwks_path),
        "JWT_ISSUER": signer.issuer,
        "SIGNING_SECRET": secrets.token_hex(16),
        "TEST_KEY_DIR": str(RUN_DIR / "keys"),
        "POWERTOOLS_TRACE_DISABLED": "true",
        "POWERTOOLS_LOG_LEVEL": "WARNING",
        "MAIL_TRANSPORT": "ses",
        "MAIL_FROM_ADDRESS": "billetterie@notices.example.org",
        "MAIL_SEND_RATE": "1000",
        "MAIL_EVENTS_TOPIC": "ticketing-test-mail-events",
        "STRIPE_API_BASE": stripe.url,
        "STRIPE_SECRET_KEY": "sk_test_harness",
        "STRIPE_WEBHOOK_SECRET": f"whsec_{secrets.token_hex(12)}",
    })
    _forbid_scan()
    from chalicelib.models.registry import create_missing_tables

    create_missing_tables()
    from chalicelib.adapters.aws import client

    client("sesv2").create_email_identity(EmailIdentity="notices.example.org")
    import app  # noqa: F401 - wires the job kinds, as the Lambda does when it loads


def pytest_unconfigure(config: pytest.Config) -> None:
    _stack.stop()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if SCANS:
        print("\nDynamoDB Scan issued during the run (forbidden):\n  " + "\n  ".join(SCANS))
        session.exitstatus = 1


@pytest.fixture(scope="session")
def signer():
    from devtools.tokens import LocalSigner

    return LocalSigner(Path(os.environ["TEST_KEY_DIR"]), issuer=os.environ["JWT_ISSUER"])


def new_tenant_id() -> str:
    return f"tenant-{secrets.token_hex(6)}"


@pytest.fixture
def tenant() -> str:
    """A fresh tenant for this test: nothing of another test is visible to it."""
    return new_tenant_id()


@pytest.fixture
def staff_headers(signer, tenant):
    return {"Authorization": f"Bearer {signer.mint(tenant, ['staff'], 'staff-1')}",
            "Content-Type": "application/json"}


@pytest.fixture
def admin_headers(signer, tenant):
    return {"Authorization": f"Bearer {signer.mint(tenant, ['admin'], 'admin-1')}",
            "Content-Type": "application/json"}


@pytest.fixture(scope="session")
def app():
    import app as application

    return application.app


@pytest.fixture
def client(app):
    from chalice.test import Client

    with Client(app, stage_name="dev") as test_client:
        yield test_client.http


@pytest.fixture
def actor(tenant):
    from chalicelib.services.shared.actors import Actor

    return Actor(tenant_id=tenant, subject="staff-1", roles=frozenset({"staff"}))


@pytest.fixture
def pump(app):
    """The event pump over the app's real queues and topics (jobs, mail events), subscribed and
    ready; tests call ``run_once()`` (or the helpers in ``tests/job_helpers.py``) to feed them."""
    from devtools.event_pump import EventPump

    feeder = EventPump(app)
    feeder.prepare()  # creates the jobs queue and subscribes to the mail-events topic
    return feeder


@pytest.fixture(scope="session")
def geo_database_file(tmp_path_factory):
    """A GeoIP2-City database of the sample places (devtools/geo_database.py), written once."""
    from devtools.geo_database import write_database

    return write_database(tmp_path_factory.mktemp("geoip") / "GeoIP2-City-test.mmdb")


def use_geo_database(monkeypatch, source: str) -> None:
    """The app's geolocation reads ``source`` from now on (a file, an s3:// address, or none)."""
    import dataclasses

    from chalicelib.adapters import geoip

    monkeypatch.setattr(geoip, "settings", dataclasses.replace(geoip.settings, geoip_database=source))
    geoip.reset()


@pytest.fixture
def geo_database(geo_database_file, monkeypatch):
    """The sample GeoIP2-City database in use (by the app served to the browser too: same process)."""
    from chalicelib.adapters import geoip

    use_geo_database(monkeypatch, str(geo_database_file))
    yield geo_database_file
    geoip.reset()
