"""The OpenAPI document is valid 3.1 and documents every route the app registers."""
from __future__ import annotations

import json

from openapi_spec_validator import validate

CONSOLE = "/console"


def test_openapi_document_is_valid_and_complete(client, app):
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document = json.loads(response.body)
    validate(document)
    assert document["openapi"].startswith("3.1")
    documented = {(path, method) for path, operations in document["paths"].items() for method in operations}
    # the staff console's screens are HTML for people, not the API (docs/console.md)
    registered = {(path, method.lower()) for path, methods in app.routes.items() for method in methods
                  if path != CONSOLE and not path.startswith(CONSOLE + "/")}
    assert registered - documented == set(), "routes missing from /openapi.json"
    assert documented - registered == set(), "documented routes that do not exist"


def test_staff_routes_declare_auth_and_problem_answers(client):
    from chalicelib.handlers.http import ROUTE_DOCS

    public = {(doc.path, doc.method.lower()) for doc in ROUTE_DOCS if doc.role is None}
    assert ("/openapi.json", "get") in public
    document = json.loads(client.get("/openapi.json").body)
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if (path, method) in public:
                assert "security" not in operation
                continue
            assert operation["security"] == [{"staffToken": []}], (method, path)
            for status in ("401", "403", "422"):
                assert "application/problem+json" in operation["responses"][status]["content"], (method, path, status)


def test_write_bodies_reference_their_schemas(client, app):
    document = json.loads(client.get("/openapi.json").body)
    schemas = document["components"]["schemas"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if (path, method) == ("/p/refund/{token}", "post"):  # the spectator's HTML form
                form = operation["requestBody"]["content"]["application/x-www-form-urlencoded"]["schema"]
                assert set(form["required"]) == {"form", "choice"}
                continue
            if method in ("patch", "put") or "requestBody" in operation:
                ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
                name = ref.rsplit("/", 1)[1]
                assert name in schemas and schemas[name].get("additionalProperties") is False, (method, path)
