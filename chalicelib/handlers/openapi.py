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


def _problem(description: str) -> dict:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": _REF.format(model="Problem")}}}}


def _query_parameters(query_name: str) -> list[dict]:
    query_schema = schema(query_name).model_json_schema(ref_template=_REF, schema_generator=_generator())
    required = set(query_schema.get("required", []))
    return [{"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in query_schema.get("properties", {}).items()]


def _operation(route: RouteDoc, refs: dict) -> dict:
    operation: dict = {
        "summary": route.summary,
        "tags": [route.tag],
        "operationId": f"{route.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', route.path.lower()).strip('_')}",
        "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                       for name in _PATH_PARAM.findall(route.path)],
        "responses": {"400": _problem("Malformed request"), "422": _problem("Invalid fields")},
    }
    if route.query is not None:
        operation["parameters"] += _query_parameters(route.query)
    if route.body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": refs[(schema(route.body), "validation")]}}}
    success: dict = {"description": "Success"}
    if route.response is not None:
        success["content"] = {"application/json": {"schema": refs[(route.response_schema(), "serialization")]}}
    operation["responses"][str(route.status)] = success
    if route.role is not None:
        operation["security"] = [{"staffToken": []}]
        operation["responses"]["401"] = _problem("Missing, invalid or expired token")
        operation["responses"]["403"] = _problem(f"Needs the {route.role} role")
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
