"""The agent's configuration: one TOML file naming the site, its queues, its key, its
journal and its printers (edge_agent/agent.example.toml shows every setting)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DRIVERS = ("evolis", "simulator")


class ConfigError(Exception):
    """The configuration file is missing, unreadable or wrong; the message says where."""


@dataclass(frozen=True)
class SimulatorSettings:
    """The simulated printer (drivers/simulator.py): speed, stock, and where it keeps its state."""

    print_seconds: float = 18.0
    back_seconds: float = 6.0
    encode_seconds: float = 3.0
    feeder_cards: int | None = None
    ribbon_cards: int | None = None
    ribbon_low_at: int = 20
    random_fault_rate: float = 0.0
    seed: int | None = None
    state_dir: Path | None = None


@dataclass(frozen=True)
class PrinterConfig:
    printer_id: str
    driver: str
    device: str
    encoder: bool
    simulator: SimulatorSettings = field(default_factory=SimulatorSettings)


@dataclass(frozen=True)
class AgentConfig:
    tenant_id: str
    site_id: str
    agent_key: bytes
    journal_path: Path
    region: str
    print_queue_url: str
    results_queue_url: str
    printers: tuple[PrinterConfig, ...]
    profile: str | None = None
    endpoint_url: str | None = None
    wait_time_seconds: int = 20
    visibility_timeout_seconds: int = 300
    visibility_extend_seconds: float = 60.0
    heartbeat_seconds: float = 30.0
    status_poll_seconds: float = 5.0
    busy_retry_seconds: float = 60.0
    print_timeout_seconds: int = 300

    def printer(self, printer_id: str) -> PrinterConfig | None:
        return next((p for p in self.printers if p.printer_id == printer_id), None)


def load(path: str | Path) -> AgentConfig:
    """The configuration in `path`; relative paths in it are relative to the file's folder."""
    path = Path(path)
    try:
        with path.open("rb") as stream:
            raw = tomllib.load(stream)
    except OSError as exc:
        raise ConfigError(f"{path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return parse(raw, base=path.parent)


def parse(raw: dict[str, Any], base: Path) -> AgentConfig:
    try:
        return _parse(raw, base)
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"a setting has the wrong type: {exc}") from exc


def _parse(raw: dict[str, Any], base: Path) -> AgentConfig:
    agent = _table(raw, "agent")
    aws = _table(raw, "aws")
    printers = raw.get("printers")
    if not isinstance(printers, list) or not printers:
        raise ConfigError("[[printers]]: at least one printer is needed")
    parsed = tuple(_printer(p, base, i) for i, p in enumerate(printers))
    ids = [p.printer_id for p in parsed]
    if len(set(ids)) != len(ids):
        raise ConfigError("[[printers]]: a printer_id appears twice")
    return AgentConfig(
        tenant_id=_str(agent, "agent.tenant_id"), site_id=_str(agent, "agent.site_id"),
        agent_key=_hex_key(agent), journal_path=_path(base, _str(agent, "agent.journal")),
        region=_str(aws, "aws.region"), print_queue_url=_str(aws, "aws.print_queue_url"),
        results_queue_url=_str(aws, "aws.results_queue_url"), printers=parsed,
        profile=aws.get("profile") or None, endpoint_url=aws.get("endpoint_url") or None,
        wait_time_seconds=int(aws.get("wait_time_seconds", 20)),
        visibility_timeout_seconds=int(aws.get("visibility_timeout_seconds", 300)),
        visibility_extend_seconds=float(aws.get("visibility_extend_seconds", 60)),
        heartbeat_seconds=float(agent.get("heartbeat_seconds", 30)),
        status_poll_seconds=float(agent.get("status_poll_seconds", 5)),
        busy_retry_seconds=float(agent.get("busy_retry_seconds", 60)),
        print_timeout_seconds=int(agent.get("print_timeout_seconds", 300)),
    )


def _printer(raw: Any, base: Path, index: int) -> PrinterConfig:
    where = f"printers[{index}]"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: must be a table")
    driver = _str(raw, f"{where}.driver")
    if driver not in DRIVERS:
        raise ConfigError(f"{where}.driver: {driver!r} is not one of {', '.join(DRIVERS)}")
    sim = raw.get("simulator", {})
    state_dir = sim.get("state_dir")
    settings = SimulatorSettings(
        print_seconds=float(sim.get("print_seconds", 18.0)),
        back_seconds=float(sim.get("back_seconds", 6.0)),
        encode_seconds=float(sim.get("encode_seconds", 3.0)),
        feeder_cards=sim.get("feeder_cards"), ribbon_cards=sim.get("ribbon_cards"),
        ribbon_low_at=int(sim.get("ribbon_low_at", 20)),
        random_fault_rate=float(sim.get("random_fault_rate", 0.0)), seed=sim.get("seed"),
        state_dir=_path(base, state_dir) if state_dir else None,
    )
    return PrinterConfig(
        printer_id=_str(raw, f"{where}.printer_id"), driver=driver,
        device=str(raw.get("device", "")) or f"simulated-{index}",
        encoder=bool(raw.get("encoder", False)), simulator=settings,
    )


def _table(raw: dict[str, Any], name: str) -> dict[str, Any]:
    value = raw.get(name)
    if not isinstance(value, dict):
        raise ConfigError(f"[{name}]: missing")
    return value


def _str(table: dict[str, Any], dotted: str) -> str:
    value = table.get(dotted.rsplit(".", 1)[-1])
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{dotted}: missing")
    return value.strip()


def _hex_key(agent: dict[str, Any]) -> bytes:
    try:
        key = bytes.fromhex(_str(agent, "agent.agent_key"))
    except ValueError as exc:
        raise ConfigError("agent.agent_key: not hexadecimal") from exc
    if len(key) < 16:
        raise ConfigError("agent.agent_key: too short (at least 16 bytes)")
    return key


def _path(base: Path, value: str) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path
