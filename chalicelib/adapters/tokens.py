"""Staff token verification: RS256 JWTs checked against a JWKS, the same code in every stage.

In AWS the JWKS is the Cognito user pool's ``.../.well-known/jwks.json`` (an https URL,
fetched and cached by :class:`jwt.PyJWKClient`); in development and tests it is a local
file written next to a generated key pair (``devtools/tokens.py``). Only where the keys
come from differs; the signature, expiry, issuer, audience (app client) and token use checks are one code path.
In prod the audience is required: without ``JWT_AUDIENCE`` a token of any app client of the
user pool would pass, so staff routes answer 503 (and log why) until it is set.

``jwt`` (and ``cryptography`` under it) is imported on first verification, not at cold
start of routes that never see a staff token.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from chalicelib.config import settings
from chalicelib.errors import ServiceUnavailable
from chalicelib.observability import logger

TENANT_CLAIMS = ("tenant_id", "custom:tenant_id")
ROLE_CLAIMS = ("roles", "cognito:groups")
_TENANT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class InvalidToken(Exception):
    """Missing, malformed, badly signed, expired or foreign token."""


@dataclass(frozen=True)
class VerifiedClaims:
    subject: str
    tenant_id: str
    roles: frozenset[str]


class _FileKeys:
    """Signing keys from a JWKS file (development and tests)."""

    def __init__(self, path: str) -> None:
        import jwt

        with open(path, encoding="utf-8") as handle:
            self._keys = {key.key_id: key for key in jwt.PyJWKSet.from_dict(json.load(handle)).keys}

    def key_for(self, token: str) -> Any:
        import jwt

        kid = jwt.get_unverified_header(token).get("kid")
        if kid not in self._keys:
            raise InvalidToken("unknown signing key")
        return self._keys[kid].key


class _UrlKeys:
    """Signing keys from an https JWKS (Cognito), cached by PyJWT."""

    def __init__(self, url: str) -> None:
        import jwt

        self._client = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)

    def key_for(self, token: str) -> Any:
        return self._client.get_signing_key_from_jwt(token).key


@lru_cache(maxsize=4)
def _key_source(jwks_url: str) -> _FileKeys | _UrlKeys:
    if jwks_url.startswith("https://") or jwks_url.startswith("http://"):
        return _UrlKeys(jwks_url)
    return _FileKeys(jwks_url.removeprefix("file://"))


def verify_bearer(authorization: str | None) -> VerifiedClaims:
    """Claims of the ``Authorization: Bearer <jwt>`` header value, or :class:`InvalidToken`."""
    if not authorization or not authorization.startswith("Bearer "):
        raise InvalidToken("missing bearer token")
    token = authorization.removeprefix("Bearer ").strip()
    if not settings.jwks_url:
        raise InvalidToken("no JWKS configured")
    if settings.stage == "prod" and not settings.jwt_audience:
        logger.error("JWT_AUDIENCE is not set in prod: staff routes answer 503 until it names our app clients")
        raise ServiceUnavailable("This service is not available right now; please retry later.")
    import jwt

    try:
        key = _key_source(settings.jwks_url).key_for(token)
        claims = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "iat", "sub", "iss"], "verify_aud": False},  # checked below, per use
            leeway=30,
        )
    except (jwt.PyJWTError, ValueError) as error:
        raise InvalidToken(str(error)) from error
    _check_app_client(claims)
    return _claims(claims)


def _check_app_client(claims: dict) -> None:
    """The token was issued for us: its ``token_use`` is one we accept (when configured), and it
    names one of our app clients: ``aud`` for an ID token, ``client_id`` for a Cognito access
    token (which has no ``aud``). A token of another app client of the same pool is refused."""
    use = claims.get("token_use")
    if settings.jwt_token_uses and use not in settings.jwt_token_uses:
        raise InvalidToken(f"token_use {use!r} is not accepted")
    if not settings.jwt_audience:
        return
    ours = {client.strip() for client in settings.jwt_audience.split(",") if client.strip()}
    named = claims.get("client_id") if use == "access" else claims.get("aud")
    named = {named} if isinstance(named, str) else set(named or [])
    if not named & ours:
        raise InvalidToken("token issued for another application")


def _claims(claims: dict) -> VerifiedClaims:
    tenant = next((claims[name] for name in TENANT_CLAIMS if claims.get(name)), None)
    if not isinstance(tenant, str) or not _TENANT.match(tenant):
        raise InvalidToken("token carries no valid tenant")
    roles: Any = next((claims[name] for name in ROLE_CLAIMS if claims.get(name)), [])
    if isinstance(roles, str):
        roles = roles.split()
    return VerifiedClaims(subject=str(claims["sub"]), tenant_id=tenant, roles=frozenset(map(str, roles)))
