"""A property-based fuzz of the whole API over its own OpenAPI document (schemathesis).

Every operation gets generated requests, valid and invalid, with a staff token of a fresh
venue; every answer must be no server error, a status the document declares for that
operation, and a body of the declared type and schema. Bounded in examples per operation so
the suite stays quick; the fuzz is seeded, so a failure replays the same way.

The app is called in-process through Chalice's local gateway (what ``chalice local`` runs),
wrapped as a WSGI app for schemathesis; DynamoDB Local and the other engines are the suite's.
"""
from __future__ import annotations

from http import HTTPStatus
from urllib.parse import quote

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks as core_checks
from schemathesis.specs.openapi import checks as openapi_checks

import app as application
from tests.conftest import new_tenant_id
from tests.job_helpers import drain

EXAMPLES_PER_OPERATION = 12


class ChaliceAsWsgi:
    """The Chalice app behind a WSGI callable, through the same local gateway its tests use."""

    def __init__(self, chalice_app) -> None:
        from chalice.test import Client

        self._client = Client(chalice_app, stage_name="dev")

    def __call__(self, environ, start_response):
        # The path as sent, still percent-encoded: a decoded "%3F" would be taken for a query.
        path = quote(environ.get("PATH_INFO") or "/", safe="/!$&'()*+,;=:@~")
        if environ.get("QUERY_STRING"):
            path += "?" + environ["QUERY_STRING"]
        headers = {name[5:].replace("_", "-").lower(): value for name, value in environ.items()
                   if name.startswith("HTTP_")}
        for name in ("CONTENT_TYPE", "CONTENT_LENGTH"):
            if environ.get(name):
                headers[name.replace("_", "-").lower()] = environ[name]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        answer = self._client.http.request(environ["REQUEST_METHOD"], path, headers=headers, body=body)
        reason = HTTPStatus(answer.status_code).phrase if answer.status_code in HTTPStatus._value2member_map_ else ""
        start_response(f"{answer.status_code} {reason}", list(answer.headers.items()))
        return [answer.body or b""]


# Methods no route declares (OPTIONS, TRACE...) never reach the app: API Gateway answers them.
# Invalid data is rejected with the usual codes, or 413 when a string past its maximum length makes
# the whole body larger than the app takes (MAX_BODY_BYTES: a logo's base64, escaped characters).
FUZZ_CONFIG = schemathesis.Config.from_dict({
    "phases": {"coverage": {"unexpected-methods": []}},
    "checks": {"negative_data_rejection": {"expected-statuses": [
        "400", "401", "403", "404", "405", "406", "409", "413", "415", "422", "428", "429", "5xx"]}}})
schema = schemathesis.openapi.from_wsgi("/openapi.json", ChaliceAsWsgi(application.app), config=FUZZ_CONFIG)

CHECKS = [core_checks.not_a_server_error, openapi_checks.status_code_conformance,
          openapi_checks.content_type_conformance, openapi_checks.response_schema_conformance,
          openapi_checks.negative_data_rejection]


@pytest.fixture(scope="module")
def fuzz_headers(signer, app):
    from devtools.event_pump import EventPump

    pump = EventPump(app)
    pump.prepare()  # the jobs queue exists, as in AWS: starting a job is not a 503
    yield {"Authorization": f"Bearer {signer.mint(new_tenant_id(), ['staff', 'admin'], 'fuzz-staff')}"}
    # The jobs the fuzz started run to their end (their chunks meet the fuzz's inputs too),
    # so the shared queue is empty for the tests that follow.
    drain(pump, rounds=300)


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_its_document_says(case, fuzz_headers):
    case.call_and_validate(headers=fuzz_headers, checks=CHECKS)
