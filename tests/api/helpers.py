"""Small helpers for API tests: JSON calls through ``chalice.test.Client``."""
from __future__ import annotations

import json


def call(client, method: str, path: str, headers: dict, payload=None):
    body = b"" if payload is None else (payload if isinstance(payload, bytes) else json.dumps(payload).encode())
    response = client.request(method, path, headers=headers, body=body)
    if not response.body:
        decoded = None
    elif response.headers.get("Content-Type", "").startswith("text/"):  # a document (HTML, CSV): its text
        decoded = response.body.decode("utf-8") if isinstance(response.body, bytes) else response.body
    else:
        decoded = json.loads(response.body)
    return response.status_code, decoded, response.headers


def assert_problem(status_and_body, status: int, *fields: str) -> dict:
    """The answer is a problem+json with ``status`` naming each of ``fields``."""
    code, body, headers = status_and_body
    assert code == status, body
    assert headers["Content-Type"] == "application/problem+json"
    assert body["status"] == status and body["type"].startswith("/problems/")
    named = {error["field"] for error in body["errors"]}
    for field in fields:
        assert any(name == field or name.startswith(field + ".") for name in named), (field, named)
    return body
