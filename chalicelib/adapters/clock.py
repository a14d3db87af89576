"""The one injectable clock: every "now" in the product comes from here, so tests can move time."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Callable

_now: Callable[[], datetime] = lambda: datetime.now(timezone.utc)  # noqa: E731


def now() -> datetime:
    """Aware UTC now."""
    return _now()


def set_clock(source: Callable[[], datetime] | None) -> None:
    """Replace the clock (tests); ``None`` restores the system clock."""
    global _now
    _now = source or (lambda: datetime.now(timezone.utc))


def frozen_at(moment: datetime) -> Callable[[], datetime]:
    """A clock stuck at ``moment`` (must be aware)."""
    if moment.tzinfo is None:
        raise ValueError("a clock needs an aware datetime")
    return lambda: moment.astimezone(timezone.utc)


def advance(delta: timedelta) -> None:
    """Move the current clock forward by ``delta`` (tests)."""
    current = now() + delta
    set_clock(lambda: current)
