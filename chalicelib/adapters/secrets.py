"""The app's secrets, read on first use: the signing keys, Stripe's secret key and its webhook secret.

Where they come from is configuration (``settings.secrets_store``), never a code path of
its own: in AWS, SSM Parameter Store SecureStrings named ``{settings.secrets_prefix}{name}``
(``/ticketing/prod/signing-keys``, ``/ticketing/prod/stripe-secret-key``,
``/ticketing/prod/stripe-webhook-secret``), read through Powertools' parameters utility and
kept ``settings.secrets_max_age`` seconds, so a rotation reaches every warm Lambda within that
time; in development and tests, the environment (:attr:`Settings.environment_secrets`). No
secret is in the template, the Lambda's environment or a log line, and packaging needs none.

A secret that is missing (no parameter, an empty value, a public development default in prod),
malformed or unreadable (SSM refused or did not answer) raises :class:`SecretUnavailable`, a
503 problem, after one error line naming the secret, never its value. The app therefore
imports and serves everything else; only the requests that need the secret are refused, and
they succeed again as soon as it is there (failures are not cached).

The signing keys are a key ring, so that a rotation keeps every link valid until it expires:
the value is JSON, ``{"current": "<id>", "keys": {"<id>": "<secret>", ...}}``; new tokens are
signed with the current key and name it, a token naming another key of the ring still verifies.
A value that is not a JSON object is a ring of one key, :data:`PLAIN_KEY_ID` (development,
tests). The rotation procedure is in ``docs/secrets.md``.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache

from chalicelib.adapters.aws import client
from chalicelib.config import settings
from chalicelib.errors import ServiceUnavailable
from chalicelib.observability import logger

SIGNING_KEYS = "signing-keys"
STRIPE_SECRET_KEY = "stripe-secret-key"
STRIPE_WEBHOOK_SECRET = "stripe-webhook-secret"
PLAIN_KEY_ID = "0"
_KEY_ID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")


class SecretUnavailable(ServiceUnavailable):
    """A secret the request needs is missing, malformed or unreadable: the request is refused (503)."""


@dataclass(frozen=True)
class KeyRing:
    """The signing keys by id; ``current`` signs new tokens, every key verifies."""

    current: str
    keys: dict[str, str]

    @property
    def current_secret(self) -> str:
        return self.keys[self.current]


def signing_keys() -> KeyRing:
    """The signing key ring (raises :class:`SecretUnavailable`)."""
    raw = _value(SIGNING_KEYS)
    try:
        return _ring(raw)
    except ValueError as error:
        raise _unavailable(SIGNING_KEYS, f"is malformed ({error})") from None


def stripe_secret_key() -> str:
    return _value(STRIPE_SECRET_KEY)


def stripe_webhook_secret() -> str:
    return _value(STRIPE_WEBHOOK_SECRET)


@lru_cache(maxsize=4)
def _ring(raw: str) -> KeyRing:
    """The key ring a secret's value spells (parsed once per value, not per request)."""
    if not raw.lstrip().startswith("{"):
        return KeyRing(PLAIN_KEY_ID, {PLAIN_KEY_ID: raw})
    try:
        document = json.loads(raw)
    except ValueError:
        raise ValueError("not JSON") from None
    keys = document.get("keys") if isinstance(document, dict) else None
    current = document.get("current") if isinstance(document, dict) else None
    if not isinstance(keys, dict) or not keys:
        raise ValueError('no "keys" object')
    if any(not isinstance(key_id, str) or not _KEY_ID.match(key_id) or not isinstance(secret, str) or not secret
           for key_id, secret in keys.items()):
        raise ValueError("a key id is not 1-32 letters, digits, '_', '.', '-', or a key is empty")
    if current not in keys:
        raise ValueError('"current" names no key of "keys"')
    return KeyRing(current, dict(keys))


def _value(name: str) -> str:
    if settings.secrets_store == "ssm":
        value = _from_ssm(name)
    elif settings.secrets_store == "environment":
        value = settings.environment_secrets.get(name, "")
    else:
        raise _unavailable(name, f"has an unknown store {settings.secrets_store!r} (SECRETS_STORE: ssm or environment)")
    if not value.strip():
        raise _unavailable(name, f"is missing from the {settings.secrets_store} store")
    return value


def _from_ssm(name: str) -> str:
    from aws_lambda_powertools.utilities.parameters import GetParameterError

    parameter = f"{settings.secrets_prefix}{name}"
    try:
        return _ssm().get(parameter, decrypt=True, max_age=settings.secrets_max_age)
    except GetParameterError as error:
        cause = getattr(error.__context__, "response", {}).get("Error", {}).get("Code")
        if cause == "ParameterNotFound":
            raise _unavailable(name, f"is missing: no SSM parameter {parameter}") from None
        raise _unavailable(name, f"could not be read from SSM parameter {parameter} ({cause or error})") from None


@lru_cache(maxsize=1)
def _ssm():
    """Powertools' SSM provider (its cache lives as long as the container) over our SSM client."""
    from aws_lambda_powertools.utilities.parameters import SSMProvider

    return SSMProvider(boto3_client=client("ssm"))


def _unavailable(name: str, why: str) -> SecretUnavailable:
    logger.error(f"secret {name} {why}: requests that need it answer 503", extra={"secret": name})
    return SecretUnavailable("This service is not available right now; please retry later.")
