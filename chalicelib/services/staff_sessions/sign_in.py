"""Signing staff in to the console.

In AWS: Cognito's hosted UI with the OAuth 2.0 authorisation code and PKCE (RFC 7636). The
console sends the browser to ``/oauth2/authorize`` with a random ``state`` and the SHA-256
challenge of a random verifier; both are kept in a short-lived signed cookie, so the callback
can only be completed by the browser that started it. The code is then exchanged at
``/oauth2/token`` with the verifier, and the ID token is verified by the very code that checks
the API's bearer tokens (signature against the pool's JWKS, issuer, audience, expiry).

Locally (stages local, dev, test): a dev sign-in mints an ID token for the chosen tenant and
role with the dev stack's key pair, and goes through the same verification.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from urllib.parse import urlencode

from chalicelib.adapters import clock, identity_provider, signing, tokens
from chalicelib.config import console_settings
from chalicelib.errors import Forbidden, InvalidInput, NotFound, Unauthenticated
from chalicelib.models.base import TENANT_ID_PATTERN
from chalicelib.services.staff_sessions.sessions import StaffSession, open_session

STARTED = "console-sign-in"
START_SECONDS = 600  # the time a person has on the hosted UI before the callback is refused
HOME = "/console"
DEV_ROLES = {"staff": ["staff"], "admin": ["staff", "admin"]}
_SUBJECT = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")


class SignInRefused(Unauthenticated):
    """The identity provider's answer could not be trusted (state, code or token)."""


@dataclass(frozen=True)
class HostedStart:
    authorize_url: str
    state_cookie: str


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def pkce_challenge(verifier: str) -> str:
    """RFC 7636's S256 challenge of ``verifier``."""
    return _b64(hashlib.sha256(verifier.encode("ascii")).digest())


def safe_next(path: str | None) -> str:
    """Where to go after sign-in: a console path of this site only (never another site)."""
    if not path or not (path == HOME or path.startswith(HOME + "/")) or "\\" in path:
        return HOME
    return path


def hosted_ui_configured() -> bool:
    return bool(console_settings.cognito_domain and console_settings.cognito_client_id)


def start_hosted(next_path: str | None) -> HostedStart:
    """The hosted UI's address for a new sign-in, and the cookie that remembers it."""
    if not hosted_ui_configured():
        raise Forbidden("The console's sign-in is not configured for this stage.")
    state, verifier = secrets.token_urlsafe(24), secrets.token_urlsafe(48)
    query = urlencode({"response_type": "code", "client_id": console_settings.cognito_client_id,
                       "redirect_uri": console_settings.redirect_uri, "scope": "openid email profile",
                       "state": state, "code_challenge": pkce_challenge(verifier), "code_challenge_method": "S256"})
    remembered = signing.sign(STARTED, {"s": state, "v": verifier, "n": safe_next(next_path)},
                              expires_at=int(clock.now().timestamp()) + START_SECONDS)
    return HostedStart(f"{console_settings.cognito_domain}/oauth2/authorize?{query}", remembered)


def finish_hosted(code: str | None, state: str | None, state_cookie: str | None) -> tuple[StaffSession, str, str]:
    """The session opened by the hosted UI's callback: (session, its cookie value, where to go)."""
    try:
        started = signing.verify(STARTED, state_cookie or "", now=clock.now().timestamp())
    except signing.BadSignature:
        raise SignInRefused("This sign-in was not started here, or took too long.") from None
    if not code or not state or not hmac.compare_digest(state.encode(), str(started["s"]).encode()):
        raise SignInRefused("The sign-in answer does not match the sign-in started.")
    try:
        answer = identity_provider.exchange_code(f"{console_settings.cognito_domain}/oauth2/token", {
            "grant_type": "authorization_code", "client_id": console_settings.cognito_client_id, "code": code,
            "redirect_uri": console_settings.redirect_uri, "code_verifier": str(started["v"])})
    except identity_provider.ProviderRefused as error:
        raise SignInRefused(f"The identity provider refused the sign-in ({error}).") from None
    session, cookie = _session_of(answer["id_token"])
    return session, cookie, safe_next(str(started["n"]))


def _session_of(id_token: str) -> tuple[StaffSession, str]:
    try:
        claims = tokens.verify_bearer(f"Bearer {id_token}")
    except tokens.InvalidToken as error:
        raise SignInRefused(f"The identity token is not valid ({error}).") from None
    if "staff" not in claims.roles and "admin" not in claims.roles:
        raise Forbidden("This account has no staff role.")
    return open_session(claims)


def dev_sign_in_available() -> bool:
    return identity_provider.dev_keys_available()


def dev_sign_in(tenant_id: str, role: str, subject: str) -> tuple[StaffSession, str]:
    """A session for the chosen tenant and role, in the local stack only."""
    if not dev_sign_in_available():
        raise NotFound("The dev sign-in does not exist in this stage.")
    problems = [(name, message) for name, value, pattern, message in (
        ("tenant", tenant_id, TENANT_ID_PATTERN, "letters, digits, - and _ only"),
        ("subject", subject, _SUBJECT, "letters, digits and . @ - _ only")) if not pattern.match(value or "")]
    if role not in DEV_ROLES:
        problems.append(("role", "staff or admin"))
    if problems:
        raise InvalidInput.on(*problems[0])
    return _session_of(identity_provider.mint_dev_token(tenant_id, DEV_ROLES[role], subject))
