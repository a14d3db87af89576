"""The command line: `python -m edge_agent run --config agent.toml` runs the agent until
SIGTERM or Ctrl-C; `check` prints each configured printer's state and exits."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys

from edge_agent import AGENT_VERSION
from edge_agent.config import ConfigError, load
from edge_agent.drivers import driver_for
from edge_agent.drivers.base import DriverUnavailable

EXIT_CONFIG = 2
EXIT_DRIVER = 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="edge_agent", description="The venue's card-printing agent.")
    parser.add_argument("--version", action="version", version=AGENT_VERSION)
    commands = parser.add_subparsers(dest="command", required=True)
    for name, text in (("run", "run the agent"), ("check", "print each printer's state")):
        command = commands.add_parser(name, help=text)
        command.add_argument("--config", required=True, help="the agent's TOML configuration")
        command.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s")
    try:
        config = load(args.config)
    except ConfigError as exc:
        print(f"edge_agent: configuration: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        return run(config) if args.command == "run" else check(config)
    except DriverUnavailable as exc:
        print(f"edge_agent: printer driver: {exc}", file=sys.stderr)
        return EXIT_DRIVER


def run(config) -> int:
    from edge_agent.agent import Agent

    agent = Agent(config)
    agent.start()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: agent.stop())
    while not agent.stop_event.wait(1.0):
        pass
    logging.getLogger(__name__).info("stopping: finishing the cards being printed")
    agent.wait()
    return 0


def check(config) -> int:
    for printer in config.printers:
        driver = driver_for(printer)
        driver.start()
        status = driver.status()
        driver.close()
        print(json.dumps({
            "printer_id": printer.printer_id, "driver": printer.driver, "device": printer.device,
            "state": status.state, "reasons": list(status.reasons),
            "ribbon_remaining": status.ribbon_remaining, "detail": status.detail,
        }))
    return 0
