"""The staff's identity provider over HTTP: Cognito's OAuth 2.0 token endpoint, where the console
exchanges an authorisation code (and its PKCE verifier) for tokens, and, in the local stack only,
the dev key pair that stands in for Cognito's signing key.

Only the transport lives here; what the tokens say is checked by
:mod:`chalicelib.adapters.tokens`, the same code that checks the API's bearer tokens.
"""
from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from chalicelib.config import settings

DEV_STAGES = ("local", "dev", "test")
TIMEOUT_SECONDS = 5


class ProviderRefused(Exception):
    """The token endpoint refused the code, could not be reached, or answered no ID token."""


def exchange_code(token_url: str, form: dict[str, str]) -> dict:
    """The token endpoint's JSON answer to ``form`` (``grant_type=authorization_code``...)."""
    request = urllib.request.Request(token_url, data=urllib.parse.urlencode(form).encode("ascii"), method="POST",
                                     headers={"Content-Type": "application/x-www-form-urlencoded",
                                              "Accept": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:  # noqa: S310 - an https URL we set
            tokens = json.loads(answer.read())
    except urllib.error.HTTPError as error:
        raise ProviderRefused(f"token endpoint answered {error.code}") from None
    except (urllib.error.URLError, TimeoutError, ValueError) as error:
        raise ProviderRefused(f"token endpoint unreachable or unreadable: {error}") from None
    if not isinstance(tokens, dict) or not isinstance(tokens.get("id_token"), str):
        raise ProviderRefused("the token endpoint gave no ID token")
    return tokens


def dev_keys_available() -> bool:
    """The local stack's key pair is here: a local stage, and a JWKS that is a file beside its
    private key (a deployed stage's JWKS is Cognito's URL, with no private key anywhere near it)."""
    jwks = settings.jwks_url
    return settings.stage in DEV_STAGES and bool(jwks) and "://" not in jwks and \
        (Path(jwks).parent / "signing-key.pem").exists()


def mint_dev_token(tenant_id: str, roles: list[str], subject: str, *, ttl_seconds: int = 300) -> str:
    """An ID token signed with the local stack's key pair (the private key beside the JWKS file
    the app verifies with); refused wherever :func:`dev_keys_available` is not so."""
    import jwt

    if not dev_keys_available():
        raise ProviderRefused("the dev sign-in exists only in the local stack")
    key_dir = Path(settings.jwks_url).parent
    jwks = json.loads((key_dir / "jwks.json").read_text(encoding="utf-8"))
    issued = int(time.time())
    claims = {"sub": subject, "iss": settings.jwt_issuer, "iat": issued, "exp": issued + ttl_seconds,
              "tenant_id": tenant_id, "roles": roles, "token_use": "id"}
    if settings.jwt_audience:
        claims["aud"] = settings.jwt_audience.split(",")[0].strip()
    return jwt.encode(claims, (key_dir / "signing-key.pem").read_bytes(), algorithm="RS256",
                      headers={"kid": jwks["keys"][0]["kid"]})
