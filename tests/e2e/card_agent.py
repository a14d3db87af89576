"""The real edge agent (``edge_agent/``, its own virtualenv) run as a process of its own with its
simulated Evolis printer, against the test run's queues (moto server) and tables (DynamoDB Local),
for the browser-free card tests and the console's: its configuration is the one staff download
from the app, made local the way ``make dev`` makes it (:mod:`devtools.card_agent`), printing fast.
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
from chalicelib.services.cards import sites
from devtools import card_agent

FAST = {"print_seconds": 0.05, "back_seconds": 0.01, "encode_seconds": 0.01, "feeder_cards": 200,
        "ribbon_cards": 300}

needs_agent = pytest.mark.skipif(not card_agent.AGENT_PYTHON.exists(),
                                 reason="the agent's virtualenv (make test builds edge_agent/.venv)")


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


def start_agent(actor, site_id: str, directory: Path) -> RunningAgent:
    """The site's agent, configured from the app's own agent configuration, printing fast and
    beating every second (call it after the pump made the app's queues, the results queue among them)."""
    admin = actor.__class__(actor.tenant_id, "admin-1", frozenset({"admin"}))
    downloaded = tomllib.loads(sites.agent_config(admin, site_id))
    local = card_agent._local(downloaded, settings.aws_endpoint)
    local["agent"]["heartbeat_seconds"] = 1
    for printer in local["printers"]:
        printer["simulator"] = {**FAST, "state_dir": "printer"}
    config_path = directory / "agent.toml"
    config_path.write_text(card_agent._toml(local), encoding="utf-8")
    return RunningAgent(config_path, directory / "printer")


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
