"""Season cards end to end: the real edge agent (``edge_agent/``, its own virtualenv, a process of
its own) with its simulated Evolis printer, against the app's local queues (moto server) and
tables (DynamoDB Local), the app's results handler fed by the event pump as Lambda would be.

The agent's configuration is the one staff download from the app (``agent_config``), made local
the way ``make dev`` makes it (:mod:`devtools.card_agent`). A card printed through the app comes
back printed with a real-looking UID, bound to its subscription, and admits its holder at the
door; a mass print of 50 prints 50 cards once each; a printer fault fails its job with the
printer's reason and the printer's state reaches the app; a refill lets the next job through.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import tomllib
from pathlib import Path

import pytest

from chalicelib.config import settings
from chalicelib.models.cards import CardPrinter, PrintJob
from chalicelib.services.cards import binding, checkin, mass_print, printing, sites
from devtools import card_agent
from tests.cards_world import CardWorld
from tests.job_helpers import drive

ROOT = Path(__file__).resolve().parents[2]
FAST = {"print_seconds": 0.05, "back_seconds": 0.01, "encode_seconds": 0.01, "feeder_cards": 200,
        "ribbon_cards": 300}

pytestmark = pytest.mark.skipif(not card_agent.AGENT_PYTHON.exists(),
                                reason="the agent's virtualenv (make test builds edge_agent/.venv)")


@pytest.fixture
def cards(actor):
    return CardWorld(actor, capacity=80)


class RunningAgent:
    def __init__(self, config_path: Path, state_dir: Path) -> None:
        self.state_dir = state_dir
        self.log = open(config_path.parent / "agent.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [str(card_agent.AGENT_PYTHON), "-m", "edge_agent", "run", "--config", str(config_path)],
            cwd=config_path.parent, env={**os.environ, "PYTHONUNBUFFERED": "1"}, stdout=self.log,
            stderr=subprocess.STDOUT, start_new_session=True)

    def printed(self) -> list[dict]:
        log = self.state_dir / "printed.jsonl"
        return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []

    def fault(self, name: str) -> None:
        (self.state_dir / "faults" / name).write_text("")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
        self.log.close()


@pytest.fixture
def agent(actor, cards, tmp_path, pump):
    """The site's agent, configured from the app's own agent configuration, printing fast (after the
    pump made the app's queues, the results queue among them)."""
    admin = actor.__class__(actor.tenant_id, "admin-1", frozenset({"admin"}))
    downloaded = tomllib.loads(sites.agent_config(admin, cards.site.id))
    local = card_agent._local(downloaded, settings.aws_endpoint)
    local["agent"]["heartbeat_seconds"] = 1
    for printer in local["printers"]:
        printer["simulator"] = {**FAST, "state_dir": "printer"}
    config_path = tmp_path / "agent.toml"
    config_path.write_text(card_agent._toml(local), encoding="utf-8")
    running = RunningAgent(config_path, tmp_path / "printer")
    yield running
    running.stop()


def until(pump, condition, *, seconds: float = 60.0):
    """Feed the app's queues (results, jobs) until ``condition()`` holds."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        pump.run_once()
        found = condition()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError("the agent's results did not arrive in time")


def job_state(actor, job_id: str) -> PrintJob:
    return PrintJob.get(actor.tenant_id, job_id, consistent_read=True)


def test_a_card_printed_through_the_app_is_bound_and_admits_its_holder(actor, cards, agent, pump):
    subscription = cards.sell("Jeanne")
    job = printing.print_card(actor, subscription.id, cards.printer.id)
    done = until(pump, lambda: (found := job_state(actor, job.id)).state == "printed" and found)
    assert len(done.uid) == 14 and done.uid.startswith("04")  # a 7-byte NXP UID, read at the encoder
    [card] = binding.cards_of_subscription(actor, subscription.id)
    assert card.uid == done.uid
    assert [entry["uid"] for entry in agent.printed()] == [done.uid]  # one card touched by ink
    ticket = checkin.check_in_card(actor, cards.world.evening.id, uid=done.uid.lower())
    assert ticket.subscription_id == subscription.id
    printer = until(pump, lambda: (found := CardPrinter.get(actor.tenant_id, cards.printer.id,
                                                            consistent_read=True)).last_contact_at and found)
    assert printer.state == "ready"


def test_a_mass_print_of_50_prints_each_card_once(actor, cards, agent, pump):
    sold = cards.sell("Abonné", count=50)
    batch = mass_print.start_mass_print(actor, product_id=cards.product.id, printer_id=cards.printer.id)
    drive(pump, actor.tenant_id, batch.id)
    jobs = until(pump, lambda: (found := printing.list_jobs(actor, printer_id=cards.printer.id, state="printed",
                                                            limit=100, cursor=None).items)
                 and len(found) == 50 and found, seconds=120)
    uids = {job.uid for job in jobs}
    assert len(uids) == 50 and {job.subscription_id for job in jobs} == {sub.id for sub in sold}
    assert sorted(entry["uid"] for entry in agent.printed()) == sorted(uids)  # nothing printed twice


def test_a_printer_fault_fails_its_job_with_the_reason_and_a_refill_lets_the_next_through(
        actor, cards, agent, pump):
    first = printing.print_card(actor, cards.sell("Ana").id, cards.printer.id)
    until(pump, lambda: job_state(actor, first.id).state == "printed")
    agent.fault("cover_open")
    blocked = printing.print_card(actor, cards.sell("Bea").id, cards.printer.id)
    failed = until(pump, lambda: (found := job_state(actor, blocked.id)).state == "failed" and found)
    assert failed.reason == "cover_open"
    printer = until(pump, lambda: (found := CardPrinter.get(actor.tenant_id, cards.printer.id,
                                                            consistent_read=True)).state == "error" and found)
    assert "cover_open" in (printer.reasons or [])
    (agent.state_dir / "faults" / "cover_open").unlink()
    after = printing.print_card(actor, cards.sell("Clo").id, cards.printer.id)
    until(pump, lambda: job_state(actor, after.id).state == "printed")
    assert len(agent.printed()) == 2
