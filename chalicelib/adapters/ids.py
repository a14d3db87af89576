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


def is_id(candidate: str) -> bool:
    return len(candidate) == 26 and all(c in _ALPHABET for c in candidate)
