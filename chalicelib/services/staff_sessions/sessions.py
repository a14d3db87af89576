"""The console's session: a signed, expiring token in a cookie, holding the verified actor.

The token is HMAC-signed (``adapters.signing``), names the tenant, subject and roles the identity
provider's token gave, and ends after ``idle_minutes`` without a request or ``max_hours`` after
sign-in. Signing out records the session as ended (``models.staff_sessions``): a copy of the
cookie kept elsewhere opens nothing after it; every request reads that one item. A request in the second half of the idle time gets a
renewed token. Every form carries :meth:`StaffSession.form_value`, derived from the session's
random id, so a form made for another session (or none) is refused.
"""
from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timezone

from chalicelib.adapters import clock, signing
from chalicelib.adapters.tokens import VerifiedClaims
from chalicelib.config import console_settings
from chalicelib.models.base import tenant_key
from chalicelib.models.staff_sessions import EndedSession
from chalicelib.services.shared.actors import Actor

SESSION = "console-session"
FORM = "console-form"


@dataclass(frozen=True)
class StaffSession:
    actor: Actor
    session_id: str
    signed_in_at: int
    expires_at: int

    def form_value(self) -> str:
        """The anti-forgery value of this session's forms (the same for every form of it)."""
        return signing.sign(FORM, {"s": self.session_id})

    def may(self, role: str) -> bool:
        """``admin`` may do everything ``staff`` may (as at the API's door)."""
        return role in self.actor.roles or (role == "staff" and "admin" in self.actor.roles)


def _now() -> int:
    return int(clock.now().timestamp())


def _expiry(signed_in_at: int) -> int:
    return min(_now() + console_settings.idle_minutes * 60, signed_in_at + console_settings.max_hours * 3600)


def _token(session: StaffSession) -> str:
    actor = session.actor
    return signing.sign(SESSION, {"t": actor.tenant_id, "u": actor.subject, "r": sorted(actor.roles),
                                  "s": session.session_id, "i": session.signed_in_at, "e": session.expires_at},
                        expires_at=session.expires_at)


def open_session(claims: VerifiedClaims) -> tuple[StaffSession, str]:
    """A new session for verified claims, and its cookie value."""
    started = _now()
    session = StaffSession(Actor(tenant_id=claims.tenant_id, subject=claims.subject, roles=claims.roles),
                           secrets.token_urlsafe(18), started, _expiry(started))
    return session, _token(session)


def read_session(token: str | None) -> StaffSession | None:
    """The session of a cookie value, or ``None`` (absent, altered, expired)."""
    if not token:
        return None
    try:
        payload = signing.verify(SESSION, token, now=clock.now().timestamp())
        actor = Actor(tenant_id=str(payload["t"]), subject=str(payload["u"]), roles=frozenset(payload["r"]))
        session = StaffSession(actor, str(payload["s"]), int(payload["i"]), int(payload["e"]))
    except (signing.BadSignature, ValueError, TypeError, KeyError):
        return None
    return None if _has_ended(session) else session


def _ended_key(session: StaffSession) -> str:
    return tenant_key(session.actor.tenant_id, "ended_session", session.session_id)


def _has_ended(session: StaffSession) -> bool:
    # consistent: a sign-out is followed at once by the same cookie's next request (a back button)
    try:
        EndedSession.get(_ended_key(session), consistent_read=True)
    except EndedSession.DoesNotExist:
        return False
    return True


def end_session(session: StaffSession) -> None:
    """Sign-out: the session opens nothing any more, from this browser or a copy of its cookie.
    Ending an ended session again changes nothing (a second click, a retried request)."""
    EndedSession(_ended_key(session), subject=session.actor.subject, ended_at=clock.now(),
                 expires_on=datetime.fromtimestamp(session.expires_at, tz=timezone.utc)).save()


def renewal(session: StaffSession) -> str | None:
    """A renewed cookie value when the session has used half its idle time, else ``None``."""
    if session.expires_at - _now() > console_settings.idle_minutes * 30:
        return None
    renewed = StaffSession(session.actor, session.session_id, session.signed_in_at, _expiry(session.signed_in_at))
    return _token(renewed) if renewed.expires_at > _now() else None


def form_is_genuine(session: StaffSession, value: str | None) -> bool:
    return bool(value) and hmac.compare_digest(value.encode(), session.form_value().encode())
