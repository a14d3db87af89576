"""The secrets in AWS: SecureString parameters of SSM Parameter Store, read on first use through
Powertools' parameters utility and kept ``secrets_max_age`` seconds; a missing one answers 503
on the requests that need it (one log line, never a value) while the rest of the app serves.

SSM here is moto server's (the run's AWS endpoint): it stores SecureStrings and answers
``ParameterNotFound`` as SSM does, but encrypts nothing and never refuses access; the one
refusal tested (an access denied) is a botocore Stubber in front of a real client.
"""
from __future__ import annotations

import dataclasses
import json
import secrets as random
import time

import pytest

from chalicelib.adapters import secrets, signing
from chalicelib.adapters.aws import client as aws_client
from tests.log_capture import captured_logs
from tests.money_helpers import deliver


@pytest.fixture
def ssm_store(monkeypatch):
    """The app reads its secrets from SSM under a prefix of this test's own; ``put(name, value)``
    writes one as an operator would, ``forget()`` drops what the warm container keeps."""
    prefix = f"/ticketing/test-{random.token_hex(4)}/"
    monkeypatch.setattr(secrets, "settings", dataclasses.replace(
        secrets.settings, secrets_store="ssm", secrets_prefix=prefix, secrets_max_age=300))
    ssm = aws_client("ssm")

    class Store:
        @staticmethod
        def put(name: str, value: str) -> None:
            ssm.put_parameter(Name=prefix + name, Value=value, Type="SecureString", Overwrite=True)

        @staticmethod
        def delete(name: str) -> None:
            ssm.delete_parameter(Name=prefix + name)

        @staticmethod
        def forget() -> None:
            secrets._ssm().clear_cache()

    return Store


def _ring(current: str, **keys: str) -> str:
    return json.dumps({"current": current, "keys": keys})


def test_every_secret_comes_from_its_secure_string_parameter(ssm_store, client):
    ssm_store.put("signing-keys", _ring("2026-12", **{"2026-12": "k" * 40}))
    ssm_store.put("stripe-secret-key", "sk_test_harness")  # localstripe takes any key
    ssm_store.put("stripe-webhook-secret", "whsec_from_ssm")
    token = signing.sign("tickets", {"o": "A1"})
    assert signing.verify("tickets", token) == {"o": "A1"}
    assert secrets.stripe_secret_key() == "sk_test_harness"
    answer = deliver(client, "customer.created", {"id": "cus_x", "object": "customer"})  # signed with SSM's secret
    assert answer.status_code == 204


def test_a_rotation_reaches_a_warm_container_once_its_copy_is_older_than_max_age(ssm_store, monkeypatch):
    monkeypatch.setattr(secrets, "settings", dataclasses.replace(secrets.settings, secrets_max_age=1))
    ssm_store.put("signing-keys", _ring("k1", k1="a" * 40))
    before = signing.sign("tickets", {"o": "A1"})
    ssm_store.put("signing-keys", _ring("k2", k2="b" * 40, k1="a" * 40))
    assert secrets.signing_keys().current == "k1"  # still the copy read on first use: SSM is not asked again
    time.sleep(1.1)
    assert secrets.signing_keys().current == "k2"
    assert signing.verify("tickets", before) == {"o": "A1"}  # signed with the previous key: still valid


def test_a_missing_secret_answers_503_where_needed_and_the_app_serves_the_rest(ssm_store, client):
    ssm_store.put("signing-keys", _ring("k1", k1="a" * 40))
    link = signing.sign("tickets", {"t": "tenant-x", "o": "01JAAAAAAAAAAAAAAAAAAAAAAA"})
    ssm_store.delete("signing-keys")
    ssm_store.forget()
    with captured_logs() as lines:
        webhook = deliver(client, "customer.created", {"id": "cus_x", "object": "customer"}, secret="whsec_unknown")
        page = client.get(f"/p/tickets/{link}")
        document = client.get("/openapi.json")
    for refused in (webhook, page):
        assert refused.status_code == 503
        assert refused.headers["Content-Type"] == "application/problem+json"
        assert json.loads(refused.body)["type"] == "/problems/unavailable"
    assert document.status_code == 200
    errors = [line for line in lines if line["level"] == "ERROR"]
    assert [line["secret"] for line in errors] == ["stripe-webhook-secret", "signing-keys"]
    assert "no SSM parameter" in errors[0]["message"] and secrets.settings.secrets_prefix in errors[0]["message"]
    assert "a" * 40 not in json.dumps(lines)

    ssm_store.put("stripe-webhook-secret", "whsec_now_there")  # failures are not kept: the next request reads again
    assert deliver(client, "customer.created", {"id": "cus_x", "object": "customer"},
                   secret="whsec_now_there").status_code == 204


def test_ssm_refusing_access_is_a_503_with_the_reason_logged(ssm_store, monkeypatch):
    """A focused fake: moto never refuses, so a Stubber answers as SSM does to a role without
    ``ssm:GetParameter`` on the parameter."""
    import boto3
    from aws_lambda_powertools.utilities.parameters import SSMProvider
    from botocore.stub import Stubber

    refusing = boto3.client("ssm", region_name="eu-west-3", aws_access_key_id="x", aws_secret_access_key="x")
    stubber = Stubber(refusing)
    stubber.add_client_error("get_parameter", service_error_code="AccessDeniedException", http_status_code=400)
    stubber.activate()
    monkeypatch.setattr(secrets, "_ssm", lambda: SSMProvider(boto3_client=refusing))
    with captured_logs() as lines, pytest.raises(secrets.SecretUnavailable):
        secrets.stripe_secret_key()
    assert [line["level"] for line in lines] == ["ERROR"]
    assert "could not be read" in lines[0]["message"] and "AccessDeniedException" in lines[0]["message"]
