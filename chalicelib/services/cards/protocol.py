"""The messages of ``docs/card-printing-protocol.md``, as the app writes and reads them: no I/O.

- :func:`agent_key`: a site's agent key, derived from the signing key the site was registered
  under and the site's id, so the app stores none, every site's key differs, and a rotation of
  the signing keys leaves it alone while that key stays in the ring.
- :func:`signature` / :func:`signed_by`: the HMAC-SHA256, hexadecimal, of a message's JSON
  without its ``signature`` field (sorted keys, separators ``,`` and ``:``, UTF-8), keyed with the
  agent key's bytes (the key is written in hexadecimal).
- :func:`print_message`: the body of a print job's message.
- :func:`read_message`: a result or heartbeat as received, checked for shape, or
  :class:`Unreadable` saying why it is dropped.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime

from chalicelib.adapters import signing

VERSION = 1
OUTCOMES = ("taken", "printed", "failed", "uncertain", "cancelled")
REASONS = ("feeder_empty", "ribbon_ended", "ribbon_low", "cover_open", "reject_box_full", "mechanical_error",
           "no_card_at_encoder", "encoder_not_answering", "printer_unreachable", "printer_busy", "timeout",
           "image_unavailable", "printer_not_configured", "unsupported_message", "interrupted_while_printing",
           "unknown_error")
HEARTBEAT_STATES = ("ready", "warning", "error", "offline")
MAX_DETAIL_CHARS = 500
_UID = re.compile(r"^[0-9A-F]{8,20}$")  # 4, 7 or 10-byte UIDs, upper-case hexadecimal
_ID = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")
_TENANT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class Unreadable(Exception):
    """A message the app drops (and logs): not ours, altered, or of an unknown shape."""


def agent_key(site) -> str | None:
    """The site's agent key (64 hexadecimal characters); ``None`` once the signing key it was
    derived from left the ring (its agent's configuration must then be issued again)."""
    return signing.derived_key("card-agent", site.id, site.key_id or "0")


def canonical(body: dict) -> bytes:
    """The bytes a signature covers: the message without ``signature``, sorted, compact, UTF-8."""
    unsigned = {name: value for name, value in body.items() if name != "signature"}
    return json.dumps(unsigned, sort_keys=True, separators=(",", ":")).encode("utf-8")


def signature(body: dict, key: str) -> str:
    return hmac.new(bytes.fromhex(key), canonical(body), hashlib.sha256).hexdigest()


def signed_by(body: dict, key: str) -> bool:
    given = body.get("signature")
    return bool(key) and isinstance(given, str) and hmac.compare_digest(given, signature(body, key))


def print_message(*, tenant_id: str, site_id: str, printer_id: str, job_id: str, encode: bool, front: dict,
                  back: dict | None, card: dict, sent_at: str) -> dict:
    return {"v": VERSION, "type": "print_card", "tenant_id": tenant_id, "site_id": site_id, "printer_id": printer_id,
            "job_id": job_id, "encode": encode, "front": front, "back": back, "card": card, "sent_at": sent_at}


@dataclass(frozen=True)
class Result:
    tenant_id: str
    site_id: str
    printer_id: str
    job_id: str
    outcome: str
    uid: str | None
    reason: str | None
    detail: str | None
    at: datetime


@dataclass(frozen=True)
class Heartbeat:
    tenant_id: str
    site_id: str
    printer_id: str
    state: str
    reasons: tuple[str, ...]
    ribbon_remaining: int | None
    current_job_id: str | None
    at: datetime
    agent_version: str | None


def read_message(raw: str, key_of) -> Result | Heartbeat:
    """The message of a results-queue record, its signature checked against its site's key
    (``key_of(tenant_id, site_id)``: the agent key, or ``None`` for no such site)."""
    try:
        body = json.loads(raw)
    except (TypeError, ValueError):
        raise Unreadable("not JSON") from None
    if not isinstance(body, dict) or body.get("v") != VERSION:
        raise Unreadable("not a version 1 message")
    for name in ("tenant_id", "site_id", "printer_id"):
        if not isinstance(body.get(name), str):
            raise Unreadable(f"no {name}")
    if not _TENANT.match(body["tenant_id"]) or not _ID.match(body["site_id"]) or not _ID.match(body["printer_id"]):
        raise Unreadable("malformed ids")
    if not signed_by(body, key_of(body["tenant_id"], body["site_id"])):
        raise Unreadable("bad signature")
    if body.get("type") == "job_result":
        return _result(body)
    if body.get("type") == "heartbeat":
        return _heartbeat(body)
    raise Unreadable(f"unknown type {body.get('type')!r}")


def _at(body: dict) -> datetime:
    text = body.get("at")
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00")) if isinstance(text, str) else None
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None:
        raise Unreadable("no time with an offset in 'at'")
    return moment


def _result(body: dict) -> Result:
    outcome, uid, reason, detail = body.get("outcome"), body.get("uid"), body.get("reason"), body.get("detail")
    if outcome not in OUTCOMES:
        raise Unreadable(f"unknown outcome {outcome!r}")
    if not isinstance(body.get("job_id"), str) or not _ID.match(body["job_id"]):
        raise Unreadable("malformed job id")
    if uid is not None and (not isinstance(uid, str) or not _UID.match(uid)):
        raise Unreadable("malformed uid")
    if reason is not None and reason not in REASONS:
        reason = "unknown_error"  # a newer agent's reason: still a failure staff must see
    if detail is not None and not isinstance(detail, str):
        detail = None
    return Result(body["tenant_id"], body["site_id"], body["printer_id"], body["job_id"], outcome, uid, reason,
                  detail[:MAX_DETAIL_CHARS] if detail else None, _at(body))


def _heartbeat(body: dict) -> Heartbeat:
    state, reasons, ribbon = body.get("state"), body.get("reasons") or [], body.get("ribbon_remaining")
    if state not in HEARTBEAT_STATES:
        raise Unreadable(f"unknown printer state {state!r}")
    if not isinstance(reasons, list) or not all(isinstance(reason, str) for reason in reasons):
        raise Unreadable("malformed reasons")
    if ribbon is not None and (not isinstance(ribbon, int) or isinstance(ribbon, bool) or ribbon < 0):
        ribbon = None
    current = body.get("current_job_id")
    current = current if isinstance(current, str) and _ID.match(current) else None
    version = body.get("agent_version") if isinstance(body.get("agent_version"), str) else None
    return Heartbeat(body["tenant_id"], body["site_id"], body["printer_id"], state,
                     tuple(reason if reason in REASONS else "unknown_error" for reason in reasons[:20]), ribbon,
                     current, _at(body), version[:40] if version else None)
