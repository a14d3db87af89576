"""A staff token is accepted only when issued for this application: its app client (``aud`` of an
ID token, ``client_id`` of a Cognito access token) and its ``token_use`` are checked as prod
configures them; a refused token's reason is logged, never told to the caller."""
from __future__ import annotations

import dataclasses

import pytest

from chalicelib.adapters import tokens
from chalicelib.errors import Unauthenticated
from chalicelib.handlers import http


@pytest.fixture
def prod_claims(monkeypatch):
    checked = dataclasses.replace(tokens.settings, jwt_audience="client-ours,client-console",
                                  jwt_token_uses=("id", "access"))
    monkeypatch.setattr(tokens, "settings", checked)


def _bearer(signer, **claims) -> str:
    return f"Bearer {signer.mint('theatre-lyon', ['staff'], 'alice', **claims)}"


@pytest.mark.parametrize("claims", [
    {"token_use": "id", "aud": "client-ours"},
    {"token_use": "id", "aud": ["client-console", "other"]},
    {"token_use": "access", "client_id": "client-ours"},
])
def test_tokens_of_our_app_clients_are_accepted(signer, prod_claims, claims):
    assert tokens.verify_bearer(_bearer(signer, **claims)).tenant_id == "theatre-lyon"


@pytest.mark.parametrize("claims", [
    {"token_use": "id", "aud": "client-of-another-app"},
    {"token_use": "access", "client_id": "client-of-another-app"},
    {"token_use": "access", "aud": "client-ours"},  # an access token names its client in client_id
    {"aud": "client-ours"},  # no token_use
    {"token_use": "refresh", "aud": "client-ours"},
    {"token_use": "id"},  # no audience at all
])
def test_tokens_of_another_app_or_use_are_refused(signer, prod_claims, claims):
    with pytest.raises(tokens.InvalidToken):
        tokens.verify_bearer(_bearer(signer, **claims))


def test_a_refused_token_says_invalid_without_the_library_reason(signer):
    with pytest.raises(Unauthenticated) as refused:
        http.authenticate("Bearer not.a.jwt", "staff")
    assert refused.value.detail == "The staff token is invalid."


@pytest.mark.parametrize("missing", ["SIGNING_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "JWT_AUDIENCE"])
def test_prod_refuses_to_start_without_each_secret(monkeypatch, missing):
    from chalicelib import config

    for name, value in {"STAGE": "prod", "SIGNING_SECRET": "s" * 32, "STRIPE_SECRET_KEY": "sk_live_x",
                        "STRIPE_WEBHOOK_SECRET": "whsec_x", "JWT_AUDIENCE": "client-ours"}.items():
        monkeypatch.setenv(name, value)
    config.load_settings()  # all set: it starts
    monkeypatch.delenv(missing)
    with pytest.raises(RuntimeError, match=missing):
        config.load_settings()
    monkeypatch.setenv(missing, config.PROD_REQUIRED[missing])  # the public development default is no better
    with pytest.raises(RuntimeError, match=missing):
        config.load_settings()
