"""The local stack's card-printing site: one site and one simulated Evolis printer for the demo
venue, and the venue's edge agent (``edge_agent/``, in its own virtualenv) printing on it.

:func:`prepare` registers the site and its printer through the app's own services (once: a
later ``make dev`` finds them), asks the app for the agent's configuration file exactly as
staff would download it, and turns it into the local one: the simulated printer instead of
Evolis's SDK, moto server's endpoint, short print times (so a print job created through the
API is printed, its UID bound and visible within seconds), and polls that return at once
(moto's long poll does not wake when a message arrives). :func:`start` runs the agent.
"""
from __future__ import annotations

import json
import tomllib
from pathlib import Path

from devtools.engines import LOCAL, ROOT

AGENT_DIR = LOCAL / "dev" / "card-agent"
AGENT_PYTHON = ROOT / "edge_agent" / ".venv" / "bin" / "python"
SITE_NAME = "Billetterie des Célestins"
PRINTER_NAME = "Evolis Primacy 2 (simulée)"
SIMULATED = {"print_seconds": 4.0, "back_seconds": 1.0, "encode_seconds": 1.0, "feeder_cards": 200,
             "ribbon_cards": 300}


def prepare(tenant_id: str) -> Path:
    """The local agent's configuration file for the demo venue's site (registered if missing)."""
    from chalicelib.adapters.aws import client
    from chalicelib.config import settings
    from chalicelib.services.cards import printers, sites
    from chalicelib.services.shared.actors import Actor

    admin = Actor(tenant_id, "dev-card-site", frozenset({"admin"}))
    client("sqs").create_queue(QueueName=settings.card_results_queue)  # the event pump also would, later
    site = next((found for found in sites.list_sites(admin, limit=50, cursor=None).items
                 if found.name == SITE_NAME), None)
    if site is None:
        site = sites.register_site(admin, {"name": SITE_NAME})
    if not sites.printers_of(admin, site.id):
        printers.register_printer(admin, {"site_id": site.id, "name": PRINTER_NAME, "model": "Evolis Primacy 2",
                                          "encoder": True})
    downloaded = tomllib.loads(sites.agent_config(admin, site.id))
    AGENT_DIR.mkdir(parents=True, exist_ok=True)
    path = AGENT_DIR / "agent.toml"
    path.write_text(_toml(_local(downloaded, settings.aws_endpoint)), encoding="utf-8")
    return path


def _local(config: dict, endpoint: str | None) -> dict:
    config["agent"].update({"heartbeat_seconds": 10, "status_poll_seconds": 2})
    config["aws"].update({"endpoint_url": endpoint or "", "wait_time_seconds": 0})
    for printer in config["printers"]:
        printer.update({"driver": "simulator",
                        "simulator": {**SIMULATED, "state_dir": f"printer-{printer['printer_id']}"}})
    return config


def _toml(config: dict) -> str:
    """The configuration as TOML (tables, arrays of tables, strings, numbers, booleans)."""
    lines = ["# Written by make dev from the app's agent configuration (devtools/card_agent.py)."]
    for name in ("agent", "aws"):
        lines += ["", f"[{name}]", *_pairs(config[name])]
    for printer in config["printers"]:
        lines += ["", "[[printers]]", *_pairs({k: v for k, v in printer.items() if k != "simulator"}),
                  "", "[printers.simulator]", *_pairs(printer["simulator"])]
    return "\n".join(lines) + "\n"


def _pairs(table: dict) -> list[str]:
    return [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in table.items()]


def start(config_path: Path, env: dict[str, str]):
    """The agent, echoed into the stack's console like the app's processes (``None`` and a word
    when its virtualenv is missing: ``make dev`` builds it)."""
    from devtools.dev import spawn_echoed

    if not AGENT_PYTHON.exists():
        print("[dev] the card agent's virtualenv is missing (make dev builds edge_agent/.venv): no card printing",
              flush=True)
        return None
    return spawn_echoed("card-agent", [str(AGENT_PYTHON), "-m", "edge_agent", "run", "--config", str(config_path)],
                        None, env)
