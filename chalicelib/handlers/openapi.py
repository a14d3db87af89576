"""``GET /openapi.json``: the OpenAPI 3.1 document, generated from the route registry and the
pydantic schemas, so it cannot drift from what the routes accept and answer."""
from __future__ import annotations

import json
import re
from functools import lru_cache

from chalice import Blueprint, Response
from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from chalicelib.handlers.http import ROUTE_DOCS, RouteDoc, public_route
from chalicelib.schemas.common import Problem

bp = Blueprint(__name__)
_PATH_PARAM = re.compile(r"{([^}]+)}")
_REF = "#/components/schemas/{model}"


class _OpenApiSchema(GenerateJsonSchema):
    """Patch models use ``field: T = None`` for "may be omitted, never null"; their schema
    must not advertise a ``null`` default that the type itself refuses."""

    def default_schema(self, schema):
        json_schema = super().default_schema(schema)
        if schema.get("default", ...) is None and schema["schema"]["type"] != "nullable":
            json_schema.pop("default", None)
        return json_schema


def _problem(description: str) -> dict:
    return {"description": description,
            "content": {"application/problem+json": {"schema": {"$ref": _REF.format(model="Problem")}}}}


def _query_parameters(model: type[BaseModel], schemas: dict) -> list[dict]:
    schema = model.model_json_schema(ref_template=_REF, schema_generator=_OpenApiSchema)
    required = set(schema.get("required", []))
    return [{"name": name, "in": "query", "required": name in required, "schema": prop}
            for name, prop in schema.get("properties", {}).items()]


def _operation(route: RouteDoc, refs: dict, schemas: dict) -> dict:
    operation: dict = {
        "summary": route.summary,
        "tags": [route.tag],
        "operationId": f"{route.method.lower()}_{re.sub(r'[^a-z0-9]+', '_', route.path.lower()).strip('_')}",
        "parameters": [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                       for name in _PATH_PARAM.findall(route.path)],
        "responses": {"400": _problem("Malformed request"), "422": _problem("Invalid fields")},
    }
    if route.query is not None:
        operation["parameters"] += _query_parameters(route.query, schemas)
    if route.body is not None:
        operation["requestBody"] = {"required": True, "content": {"application/json": {
            "schema": refs[(route.body, "validation")]}}}
    success: dict = {"description": "Success"}
    if route.response is not None:
        success["content"] = {"application/json": {"schema": refs[(route.response, "serialization")]}}
    operation["responses"][str(route.status)] = success
    if route.role is not None:
        operation["security"] = [{"staffToken": []}]
        operation["responses"]["401"] = _problem("Missing, invalid or expired token")
        operation["responses"]["403"] = _problem(f"Needs the {route.role} role")
    return operation


@lru_cache(maxsize=1)
def openapi_document() -> dict:
    wanted = {(Problem, "serialization")}
    for route in ROUTE_DOCS:
        if route.body is not None:
            wanted.add((route.body, "validation"))
        if route.response is not None:
            wanted.add((route.response, "serialization"))
    refs, definitions = models_json_schema(sorted(wanted, key=lambda pair: (pair[0].__name__, pair[1])),
                                           ref_template=_REF, schema_generator=_OpenApiSchema)
    schemas = definitions.get("$defs", {})
    paths: dict = {}
    for route in ROUTE_DOCS:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route, refs, schemas)
    return {
        "openapi": "3.1.0",
        "info": {"title": "Ticketing back office API", "version": "1.0.0",
                 "description": "Staff API. Errors are RFC 9457 problem+json documents."},
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"staffToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


@public_route(bp, "/openapi.json", summary="This API's OpenAPI 3.1 document", tag="meta")
def openapi_json() -> Response:
    return Response(body=json.dumps(openapi_document()), status_code=200,
                    headers={"Content-Type": "application/json"})
