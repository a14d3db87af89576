"""Signed, optionally expiring, tamper-proof tokens (HMAC-SHA256 over a JSON payload).

Used for opaque paging cursors, the links sent to spectators and the tickets' check-in codes.
Each use has its own ``purpose``: a token made for one purpose never verifies for another,
so a cursor can never be replayed as a refund link or against another tenant's listing.

The keys come from :func:`chalicelib.adapters.secrets.signing_keys`, a key ring: a token is
signed with the ring's current key and names it (``"k"`` in the signed envelope), and verifies
as long as the key it names is in the ring, so rotating the key keeps every link valid until
it expires. A token naming no key (made before key ids) is checked with the ring's
:data:`~chalicelib.adapters.secrets.PLAIN_KEY_ID` key, the one a plain secret stands for.
Every keyed digest of the app (:func:`keyed_digest`) uses the current key too: this module is
the one user of the signing secret.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

from chalicelib.adapters import secrets


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


def _mac(secret: str, purpose: str, body: bytes) -> bytes:
    key = hashlib.sha256(f"{secret}\x00{purpose}".encode()).digest()
    return hmac.new(key, body, hashlib.sha256).digest()


def keyed_digest(purpose: str, value: str) -> str:
    """A short keyed digest of ``value`` (32 hex characters) to store instead of the value itself,
    with the current key: after a rotation the same value digests differently."""
    ring = secrets.signing_keys()
    return _mac(ring.current_secret, purpose, value.encode()).hex()[:32]


def current_key_id() -> str:
    return secrets.signing_keys().current


def derived_key(purpose: str, value: str, key_id: str) -> str | None:
    """A secret of its own for ``value`` (64 hex characters), derived from the ring's key
    ``key_id`` (``None`` once that key has left the ring): the same on every call while it stays.
    For keys handed to someone else once (a card site's agent), who keep them across rotations."""
    secret = secrets.signing_keys().keys.get(key_id)
    return None if secret is None else _mac(secret, purpose, value.encode()).hex()


def sign(purpose: str, payload: dict, *, expires_at: int | None = None) -> str:
    """``payload`` as a URL-safe token; ``expires_at`` is a Unix time in seconds."""
    ring = secrets.signing_keys()
    envelope = {"p": payload, "e": expires_at, "k": ring.current}
    body = json.dumps(envelope, separators=(",", ":"), sort_keys=True).encode()
    return f"{_b64(body)}.{_b64(_mac(ring.current_secret, purpose, body))}"


def _key_of(body: bytes) -> str:
    """The secret of the key the token names (before its MAC is checked: only the id is read)."""
    try:
        key_id = json.loads(body).get("k", secrets.PLAIN_KEY_ID)
    except (ValueError, AttributeError) as error:
        raise BadSignature("malformed token") from error
    secret = secrets.signing_keys().keys.get(key_id) if isinstance(key_id, str) else None
    if secret is None:
        raise BadSignature("unknown signing key")
    return secret


def verify(purpose: str, token: str, *, now: float | None = None) -> dict:
    """The payload of a token made by :func:`sign` for ``purpose``, or raise."""
    try:
        body_part, mac_part = token.split(".")
        body = _unb64(body_part)
        mac = _unb64(mac_part)
    except (ValueError, TypeError) as error:
        raise BadSignature("malformed token") from error
    if not hmac.compare_digest(mac, _mac(_key_of(body), purpose, body)):
        raise BadSignature("signature mismatch")
    envelope = json.loads(body)
    expires_at = envelope.get("e")
    if expires_at is not None and (now if now is not None else time.time()) >= expires_at:
        raise Expired("token expired")
    return envelope["p"]
