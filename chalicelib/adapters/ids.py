"""Sortable unique ids (ULID: 48-bit millisecond time + 80 random bits, Crockford base32).

Written here rather than imported because it is twenty lines and a dependency would cost
cold-start time on every Lambda.
"""
from __future__ import annotations

import os
import threading

from chalicelib.adapters import clock

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
_RANDOM_LIMIT = 1 << 80
_last_made = threading.Lock(), [0, 0]  # (guard, [millisecond, random part]) of this process's last id


def new_id() -> str:
    """A 26-character ULID; ids made later sort after ids made earlier, also within one
    millisecond of one process: there the random part of the last id steps up by a random amount
    (so a Lambda writing a batch lists it back in the order it wrote it, and neighbours are not
    guessable from one another)."""
    millis = int(clock.now().timestamp() * 1000)
    guard, last = _last_made
    with guard:
        random_part = last[1] + 1 + int.from_bytes(os.urandom(4), "big") if millis == last[0] else _RANDOM_LIMIT
        if random_part >= _RANDOM_LIMIT:  # a new millisecond, or (never in practice) the space ran out
            random_part = int.from_bytes(os.urandom(10), "big")
        last[:] = [millis, random_part]
    return _encoded(millis, random_part.to_bytes(10, "big"))


def derived_id(moment, *parts: str) -> str:
    """A ULID for ``moment`` whose random part is a digest of ``parts``: whoever asks for the same
    moment and parts gets the same id (a schedule's run claiming its job once)."""
    import hashlib

    digest = hashlib.sha256("\x1f".join(parts).encode()).digest()[:10]
    return _encoded(int(moment.timestamp() * 1000), digest)


def _encoded(millis: int, random_part: bytes) -> str:
    value = (millis << 80) | int.from_bytes(random_part, "big")
    chars = []
    for _ in range(26):
        value, digit = divmod(value, 32)
        chars.append(_ALPHABET[digit])
    return "".join(reversed(chars))


def made_at(ulid: str):
    """When the id was made (to the millisecond), from its time part."""
    from datetime import datetime, timezone

    value = 0
    for char in ulid[:10]:
        value = value * 32 + _ALPHABET.index(char)
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc)


def is_id(candidate: str) -> bool:
    return len(candidate) == 26 and all(c in _ALPHABET for c in candidate)
