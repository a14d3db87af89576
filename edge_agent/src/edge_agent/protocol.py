"""The messages between the app and the agent (docs/card-printing-protocol.md): reading a
print message, writing the result and heartbeat messages, and their HMAC signature."""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from edge_agent import AGENT_VERSION

# Outcomes of a job (result messages).
TAKEN = "taken"
PRINTED = "printed"
FAILED = "failed"
UNCERTAIN = "uncertain"
CANCELLED = "cancelled"

# Printer states (heartbeats).
READY = "ready"
WARNING = "warning"
ERROR = "error"
OFFLINE = "offline"

# Failure reasons: the protocol's table.
FEEDER_EMPTY = "feeder_empty"
RIBBON_ENDED = "ribbon_ended"
RIBBON_LOW = "ribbon_low"
COVER_OPEN = "cover_open"
REJECT_BOX_FULL = "reject_box_full"
MECHANICAL_ERROR = "mechanical_error"
NO_CARD_AT_ENCODER = "no_card_at_encoder"
ENCODER_NOT_ANSWERING = "encoder_not_answering"
PRINTER_UNREACHABLE = "printer_unreachable"
PRINTER_BUSY = "printer_busy"
TIMEOUT = "timeout"
IMAGE_UNAVAILABLE = "image_unavailable"
PRINTER_NOT_CONFIGURED = "printer_not_configured"
UNSUPPORTED_MESSAGE = "unsupported_message"
INTERRUPTED_WHILE_PRINTING = "interrupted_while_printing"
UNKNOWN_ERROR = "unknown_error"

REASONS = frozenset({
    FEEDER_EMPTY, RIBBON_ENDED, RIBBON_LOW, COVER_OPEN, REJECT_BOX_FULL, MECHANICAL_ERROR,
    NO_CARD_AT_ENCODER, ENCODER_NOT_ANSWERING, PRINTER_UNREACHABLE, PRINTER_BUSY, TIMEOUT,
    IMAGE_UNAVAILABLE, PRINTER_NOT_CONFIGURED, UNSUPPORTED_MESSAGE, INTERRUPTED_WHILE_PRINTING,
    UNKNOWN_ERROR,
})

DETAIL_MAX = 500


class UnsupportedMessage(Exception):
    """A print message this agent cannot read (unknown `v` or `type`, or malformed)."""

    def __init__(self, detail: str, body: dict[str, Any] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.body = body or {}


@dataclass(frozen=True)
class Face:
    """Where one printed face of the card is: a presigned URL, and the object behind it."""

    url: str
    bucket: str
    key: str


@dataclass(frozen=True)
class PrintJob:
    """One card to print, as the app sent it."""

    tenant_id: str
    site_id: str
    printer_id: str
    job_id: str
    encode: bool
    front: Face
    back: Face | None
    card: dict[str, Any]


def parse_print_message(raw: str) -> PrintJob:
    """The print job of a message body; UnsupportedMessage when it is not one (v1, print_card)."""
    try:
        body = json.loads(raw)
    except ValueError as exc:
        raise UnsupportedMessage(f"not JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise UnsupportedMessage("not a JSON object")
    if body.get("v") != 1 or body.get("type") != "print_card":
        raise UnsupportedMessage(f"unsupported v={body.get('v')!r} type={body.get('type')!r}", body)
    try:
        return PrintJob(
            tenant_id=_text(body, "tenant_id"), site_id=_text(body, "site_id"),
            printer_id=_text(body, "printer_id"), job_id=_text(body, "job_id"),
            encode=bool(body.get("encode", False)), front=_face(body.get("front")),
            back=_face(body["back"]) if body.get("back") else None,
            card=body.get("card") if isinstance(body.get("card"), dict) else {},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UnsupportedMessage(f"malformed print_card: {exc}", body) from exc


def _text(body: dict[str, Any], field: str) -> str:
    value = body[field]
    if not isinstance(value, str) or not value:
        raise ValueError(f"{field} must be a non-empty string")
    return value


def _face(value: Any) -> Face:
    if not isinstance(value, dict):
        raise ValueError("a face must be an object with url, bucket and key")
    return Face(url=_text(value, "url"), bucket=_text(value, "bucket"), key=_text(value, "key"))


def now_iso() -> str:
    """UTC, millisecond precision, `Z` suffix (the protocol's `at`)."""
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def canonical(body: dict[str, Any]) -> bytes:
    """The signed bytes: the body without `signature`, sorted keys, compact separators, UTF-8."""
    unsigned = {k: v for k, v in body.items() if k != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode("utf-8")


def sign(body: dict[str, Any], agent_key: bytes) -> dict[str, Any]:
    """The body with its `signature` (hex HMAC-SHA256 with the site's agent key)."""
    signature = hmac.new(agent_key, canonical(body), hashlib.sha256).hexdigest()
    return {**body, "signature": signature}


def signature_matches(body: dict[str, Any], agent_key: bytes) -> bool:
    """What the app checks: the signature is the agent key's over the rest of the body."""
    expected = hmac.new(agent_key, canonical(body), hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, str(body.get("signature", "")))


def job_result(
    *, tenant_id: str, site_id: str, printer_id: str, job_id: str | None, outcome: str,
    uid: str | None = None, reason: str | None = None, detail: str | None = None,
) -> dict[str, Any]:
    """An unsigned result message."""
    if reason is not None and reason not in REASONS:
        raise ValueError(f"unknown reason {reason}")
    return {
        "v": 1, "type": "job_result", "tenant_id": tenant_id, "site_id": site_id,
        "printer_id": printer_id, "job_id": job_id, "outcome": outcome, "uid": uid,
        "reason": reason, "detail": detail[:DETAIL_MAX] if detail else None,
        "at": now_iso(), "agent_version": AGENT_VERSION,
    }


def heartbeat(
    *, tenant_id: str, site_id: str, printer_id: str, state: str, reasons: list[str],
    ribbon_remaining: int | None, current_job_id: str | None,
) -> dict[str, Any]:
    """An unsigned heartbeat message."""
    return {
        "v": 1, "type": "heartbeat", "tenant_id": tenant_id, "site_id": site_id,
        "printer_id": printer_id, "state": state, "reasons": list(reasons),
        "ribbon_remaining": ribbon_remaining, "current_job_id": current_job_id,
        "at": now_iso(), "agent_version": AGENT_VERSION,
    }
