"""Signed, optionally expiring, tamper-proof tokens (HMAC-SHA256 over a JSON payload).

Used for opaque paging cursors and, later, for the links sent to spectators. Each use has
its own ``purpose``: a token made for one purpose never verifies for another, so a cursor
can never be replayed as a refund link or against another tenant's listing.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from chalicelib.config import settings


class BadSignature(Exception):
    """The token was altered, truncated or made for another purpose."""


class Expired(BadSignature):
    """The token was genuine but its time is over."""


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    """Strict decoding: only the one canonical spelling of the bytes is accepted, so a token's
    unused padding bits cannot be flipped into a second valid token."""
    raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    if _b64(raw) != text:
        raise ValueError("non-canonical base64")
    return raw


def _mac(purpose: str, body: bytes) -> bytes:
    key = hashlib.sha256(f"{settings.signing_secret}\x00{purpose}".encode()).digest()
    return hmac.new(key, body, hashlib.sha256).digest()


def sign(purpose: str, payload: dict, *, expires_at: int | None = None) -> str:
    """``payload`` as a URL-safe token; ``expires_at`` is a Unix time in seconds."""
    envelope = {"p": payload, "e": expires_at}
    body = json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(body)}.{_b64(_mac(purpose, body))}"


def verify(purpose: str, token: str, *, now: float | None = None) -> dict:
    """The payload of a token made by :func:`sign` for ``purpose``, or raise."""
    try:
        body_part, mac_part = token.split(".")
        body = _unb64(body_part)
        mac = _unb64(mac_part)
    except (ValueError, TypeError) as error:
        raise BadSignature("malformed token") from error
    if not hmac.compare_digest(mac, _mac(purpose, body)):
        raise BadSignature("signature mismatch")
    envelope = json.loads(body)
    expires_at = envelope.get("e")
    if expires_at is not None and (now if now is not None else time.time()) >= expires_at:
        raise Expired("token expired")
    return envelope["p"]
