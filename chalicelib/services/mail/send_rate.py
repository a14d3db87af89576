"""The sending rate limit: bulk senders never exceed the SES maximum send rate, and stay close to it.

The budget is counted per calendar second in DynamoDB (one :class:`SendWindow` item per
bucket and second), so every Lambda sending at the same time shares it. A sender reserves
several mails' worth at once with one conditional ``ADD`` (``used + n <= rate``), then
spaces those sends evenly, which keeps the achieved rate near the cap for a fraction of a
write per mail. A reservation left unused only lowers the rate, never raises it.

The bucket is the stage's SES account (``ses:{stage}``): that is what SES enforces.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

from pynamodb.exceptions import UpdateError

from chalicelib.models.mail import SendWindow

WINDOW_TTL_SECONDS = 600


def reserve(bucket: str, second: int, wanted: int, rate: int) -> bool:
    """Take ``wanted`` sends from ``bucket`` in ``second``, all or nothing."""
    window = SendWindow(window_key=f"{bucket}#{second}")
    try:
        window.update(
            actions=[SendWindow.used.add(wanted),
                     SendWindow.expires_at.set(datetime.fromtimestamp(second + WINDOW_TTL_SECONDS, timezone.utc))],
            condition=SendWindow.used.does_not_exist() | (SendWindow.used <= rate - wanted),
        )
        return True
    except UpdateError as error:
        if error.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise


@dataclass
class Pacer:
    """Lets one mail go at a time: at most ``rate`` per second across every process sharing
    ``bucket``, evenly spaced.

    Each process reserves only what it can use: its reservation grows (doubling, up to
    ``max_batch``) while it uses all it took, and shrinks to what it used when sends were left
    over at the end of a second, so slow senders do not sit on budget that fast ones need.
    """

    bucket: str
    rate: int
    max_batch: int = 0
    now: Callable[[], float] = time.time
    sleep: Callable[[float], None] = time.sleep
    _batch: int = field(default=1, init=False)
    _second: int = field(default=-1, init=False)
    _left: int = field(default=0, init=False)
    _next_at: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        if self.rate < 1:
            raise ValueError("rate must be at least one mail per second")
        self.max_batch = self.max_batch or max(1, math.ceil(self.rate / 2))

    def wait_turn(self) -> None:
        """Block until this process may send one more mail."""
        while True:
            delay = self._next_at - self.now()
            if delay > 0:
                self.sleep(delay)
            if self._left > 0 and int(self.now()) == self._second:
                break
            self._adapt_batch()
            self._reserve()  # a reservation is only ever spent within its own second
        self._left -= 1
        self._next_at = max(self.now(), self._next_at) + 1.0 / self.rate

    def _adapt_batch(self) -> None:
        if self._left > 0:  # the second ended with sends unused: take fewer next time
            self._batch = max(1, self._batch - self._left)
        elif self._second == int(self.now()):  # all used within the second: take more
            self._batch = min(self.max_batch, self._batch * 2)

    def _reserve(self) -> None:
        second = int(self.now())
        wanted = self._batch
        while wanted >= 1:
            if reserve(self.bucket, second, wanted, self.rate):
                self._second, self._left = second, wanted
                return
            wanted //= 2
        self._left = 0
        self.sleep(max(0.0, second + 1 - self.now()))  # this second's budget is spent
