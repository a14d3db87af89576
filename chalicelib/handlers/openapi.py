"""``GET /openapi.json``: the OpenAPI 3.1 document, generated from the route registry and the
pydantic schemas, so it cannot drift from what the routes accept and answer.

Built on the first request for it (pydantic's JSON Schema generation is not cold-start work).
"""
from __future__ import annotations

import json
import re
from functools import lru_cache

from chalice import Blueprint, Response

from chalicelib.handlers.http import ROUTE_DOCS, RouteDoc, public_route, schema

bp = Blueprint(__name__)
_PATH_PARAM = re.compile(r"{([^}]+)}")
_REF = "#/components/schemas/{model}"


@lru_cache(maxsize=1)
def _generator() -> type:
    from pydantic.json_schema import GenerateJsonSchema

    class OpenApiSchema(GenerateJsonSchema):
        """Patch models use ``field: T = None`` for "may be omitted, never null"; their schema
        must not advertise a ``null`` default that the type itself refuses."""

        def default_schema(self, core_schema):
            json_schema = super().default_schema(core_schema)
            if core_schema.get("default", ...) is None and core_schema["schema"]["type"] != "nullable":
                json_schema.pop("default", None)
            return json_schema

    return OpenApiSchema


# What each status means when a route answers it; which routes may answer it is in _statuses.
_STATUS_MEANINGS = {
    400: "Malformed request (a body or cursor that cannot be read, a bad signature)",
    401: "Missing, invalid or expired token",
    403: "Needs another role, or a link that is not valid",
    404: "Not found (in this venue), or something the request names does not exist",
    409: "Conflicts with the current state (a concurrent change, a duplicate, a step already taken)",
    410: "The link has expired",
    413: "The request body is too large",
    415: "The request body is not of a type this route takes",
    422: "Invalid fields",
    429: "Too many at once from this client; retry later",
    503: "A service or secret this needs (the jobs queue, mail, Stripe, the signing keys) is not available; "
         "nothing was done, retry",
}


def _problem(description: str, produces: str = "application/json") -> dict:
    content = {"application/problem+json": {"schema": {"$ref": _REF.format(model="Problem")}}}
    if produces != "application/json":  # a page answers its own refusals as a page, too
        content[produces] = {"schema": {"type": "string"}}
    return {"description": description, "content": content}


def _statuses(route: RouteDoc) -> set[int]:
    """Every refusal the route may answer: the endpoint's own (body type, size, auth, fields), the
    services' typed errors for what it names (a path id, a referenced record, a cursor), and
    conflicts for whatever changes state. Any route may answer 503: a secret it needs (a cursor's
    signing key, a staff token's audience) may be missing from a stage."""
    statuses = {400, 415, 422, 503} | set(route.answers)
    if route.role is not None:
        statuses |= {401, 403}
    if _PATH_PARAM.search(route.path) or route.body is not None or route.query is not None:
        statuses.add(404)
    if route.method not in ("GET", "HEAD"):
        statuses |= {409, 413}
    return statuses


def _query_parameters(query_name: str) -> list[dict]:
    query_schema = schema(query_name).model_json_schema(ref_template=_REF, schema_generator=_generator())
    required = set(query_schema.get("required", []))
    return [{"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in query_schema.get("properties", {}).items()]


def _request_body(route: RouteDoc, refs: dict) -> dict | None:
    if route.body is not None:
        return {"required": True, "content": {"application/json": {"schema": refs[(schema(route.body), "validation")]}}}
    if "application/x-www-form-urlencoded" in route.content_types:
        return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": _FORM}}}
    return None


# The refund page's form (templates/pages/refund.html.j2): the signed form token, the choice,
# and the bank details a transfer needs.
_FORM = {"type": "object", "required": ["form", "choice"], "properties": {
    "form": {"type": "string", "description": "The form token the page signed"},
    "choice": {"type": "string", "description": "The option chosen, as the page offers it"},
    "iban": {"type": "string", "description": "For a refund by transfer"},
    "holder": {"type": "string", "description": "The account holder, for a refund by transfer"}}}


def _operation(route: RouteDoc, refs: dict) -> dict:
    operation: dict = {
        "summary": route.summary,
        "tags": [route.tag],
        "operationId": f"{route.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', route.path.lower()).strip('_')}",
        "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                       for name in _PATH_PARAM.findall(route.path)],
        "responses": {str(status): _problem(_STATUS_MEANINGS[status], route.produces)
                      for status in sorted(_statuses(route))},
    }
    if route.query is not None:
        operation["parameters"] += _query_parameters(route.query)
    body = _request_body(route, refs)
    if body is not None:
        operation["requestBody"] = body
    success: dict = {"description": "Success"}
    if route.response is not None:
        success["content"] = {"application/json": {"schema": refs[(route.response_schema(), "serialization")]}}
    elif route.produces != "application/json":
        success["content"] = {route.produces: {"schema": {"type": "string"}}}
    operation["responses"][str(route.status)] = success
    if route.role is not None:
        operation["security"] = [{"staffToken": []}]
        operation["responses"]["403"] = _problem(f"Needs the {route.role} role", route.produces)
    return operation


@lru_cache(maxsize=1)
def openapi_document() -> dict:
    from pydantic.json_schema import models_json_schema

    wanted = {(schema("common:Problem"), "serialization")}
    for route in ROUTE_DOCS:
        if route.body is not None:
            wanted.add((schema(route.body), "validation"))
        if route.response is not None:
            wanted.add((route.response_schema(), "serialization"))
    refs, definitions = models_json_schema(sorted(wanted, key=lambda pair: (pair[0].__name__, pair[1])),
                                           ref_template=_REF, schema_generator=_generator())
    paths: dict = {}
    for route in ROUTE_DOCS:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, refs)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Ticketing back office API", "version": "1.0.0",
                 "description": "Staff API. Errors are RFC 9457 problem+json documents."},
        "paths": paths,
        "components": {
            "schemas": definitions.get("$defs", {}),
            "securitySchemes": {"staffToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


@public_route(bp, "/openapi.json", summary="This API's OpenAPI 3.1 document", tag="meta")
def openapi_json() -> Response:
    return Response(body=json.dumps(openapi_document()), status_code=200,
                    headers={"Content-Type": "application/json"})
