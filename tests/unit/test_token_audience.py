"""A staff token is accepted only when issued for this application: its app client (``aud`` of an
ID token, ``client_id`` of a Cognito access token) and its ``token_use`` are checked as prod
configures them; a refused token's reason is logged, never told to the caller."""
from __future__ import annotations

import dataclasses

import pytest

from chalicelib.adapters import tokens
from chalicelib.errors import ServiceUnavailable, Unauthenticated
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


def test_prod_without_an_audience_refuses_staff_tokens_with_a_503(signer, monkeypatch):
    """A token of any app client of the pool would pass: staff routes are closed until it is set."""
    monkeypatch.setattr(tokens, "settings", dataclasses.replace(tokens.settings, stage="prod", jwt_audience=None))
    with pytest.raises(ServiceUnavailable):
        http.authenticate(_bearer(signer, token_use="id", aud="client-ours"), "staff")


@pytest.mark.parametrize("missing", ["SIGNING_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "JWT_AUDIENCE"])
def test_prod_settings_load_without_any_secret_and_never_take_a_public_default(monkeypatch, missing):
    """Loading prod's settings no longer fails (the app must import, and answer 503 where a secret
    is missing); the environment store never holds a public development default in prod."""
    from chalicelib import config

    for name in ("SECRETS_STORE", "SIGNING_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET", "JWT_AUDIENCE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("STAGE", "prod")
    loaded = config.load_settings()
    assert loaded.secrets_store == "ssm" and loaded.secrets_prefix == "/ticketing/prod/"
    assert loaded.environment_secrets == {} and loaded.jwt_audience is None
    defaults = {variable: default for variable, default in config.SECRETS.values()}
    if missing in defaults:
        monkeypatch.setenv(missing, defaults[missing])
        assert config.load_settings().environment_secrets == {}
