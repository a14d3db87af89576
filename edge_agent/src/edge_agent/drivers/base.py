"""What the agent asks of a card printer: a small, typed interface every driver keeps, the
printer's status as the protocol's heartbeat shows it, and the fault a step can end in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from edge_agent import protocol


class DriverUnavailable(Exception):
    """The driver cannot start at all (its SDK or native library is missing): the message says
    what to install."""


class PrinterFault(Exception):
    """A printer step failed; `reason` is one of the protocol's reasons, `detail` the printer's
    or SDK's own words."""

    def __init__(self, reason: str, detail: str):
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class PrinterStatus:
    state: str  # protocol.READY | WARNING | ERROR | OFFLINE
    reasons: tuple[str, ...] = ()
    ribbon_remaining: int | None = None
    detail: str | None = None

    @property
    def takes_jobs(self) -> bool:
        """A printer in error or offline takes no new job until it is ready again."""
        return self.state in (protocol.READY, protocol.WARNING)


class PrinterDriver(Protocol):
    """One physical printer. Calls come from one thread (the printer's worker)."""

    def start(self) -> None:
        """Load the SDK and connect; DriverUnavailable when the SDK cannot be loaded."""

    def status(self) -> PrinterStatus:
        """The printer's state now (never raises: an unreachable printer is `offline`)."""

    def reserve(self, wait_seconds: float) -> None:
        """Take the printer for this agent (PrinterFault printer_busy when another program holds it)."""

    def release(self) -> None:
        """Give the printer back (never raises)."""

    def insert_card(self) -> None:
        """Take a blank card from the feeder into the printer."""

    def read_uid(self) -> str:
        """Move the card to the contactless encoder and read its UID (upper-case hexadecimal)."""

    def print_card(self, front: bytes, back: bytes | None, timeout_seconds: int) -> None:
        """Print the PNG faces on the card inside (the card stays inside)."""

    def eject_card(self) -> None:
        """Put the printed card in the output hopper."""

    def reject_card(self) -> None:
        """Put the card inside, if any, in the reject box (never raises)."""

    def close(self) -> None:
        """Disconnect (never raises)."""
