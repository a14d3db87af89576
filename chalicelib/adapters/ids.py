"""Sortable unique ids (ULID: 48-bit millisecond time + 80 random bits, Crockford base32).

Written here rather than imported because it is twenty lines and a dependency would cost
cold-start time on every Lambda.
"""
from __future__ import annotations

import os

from chalicelib.adapters import clock

_ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_id() -> str:
    """A 26-character ULID; ids made later sort after ids made earlier (to the millisecond)."""
    millis = int(clock.now().timestamp() * 1000)
    value = (millis << 80) | int.from_bytes(os.urandom(10), "big")
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
