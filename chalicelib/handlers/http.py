"""Plumbing shared by every staff route: authentication, input parsing, response shaping,
problem+json answers, and the registry of routes the OpenAPI document is generated from.

A staff route is declared once with :func:`staff_route`, which says its role and its body,
query and response schemas. The view receives the verified :class:`Actor` and the parsed,
validated inputs, and returns what the service returned (an entity, a
:class:`~chalicelib.services.shared.paging.Page` when ``many=True``, or ``None`` for 204); the
decorator shapes it through the response schema. A view that answers a document (HTML,
CSV) returns a Chalice ``Response`` itself. Views never see raw JSON nor build errors.

Schemas are named ``"module:Class"`` (under ``chalicelib.schemas``) and imported on the
first request that needs them: importing the app then costs neither pydantic nor any
schema, and a cold start pays only for the schemas of the route it serves.

Example::

    @staff_route(bp, "/venues", method="POST", body="catalog:VenueIn", response="catalog:VenueOut",
                 status=201, summary="Create a venue", tag="catalog")
    def create_venue(actor, body):
        return catalog.venues.create(actor, body.model_dump())
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import import_module
from typing import Any, Callable

from chalice import Blueprint, Response

from chalicelib.adapters import tokens
from chalicelib.config import settings
from chalicelib.errors import (
    DomainError,
    FieldError,
    Forbidden,
    InvalidInput,
    MalformedRequest,
    PayloadTooLarge,
    Unauthenticated,
    Unexpected,
    UnsupportedMediaType,
)
from chalicelib.observability import logger
from chalicelib.services.shared.actors import Actor

PROBLEM_BASE = "/problems/"
ROLES = ("staff", "admin")
SchemaName = "str | type"


@lru_cache(maxsize=None)
def schema(name: SchemaName) -> Any:
    """The pydantic model ``"module:Class"`` of ``chalicelib.schemas`` (a class is returned as is)."""
    if not isinstance(name, str):
        return name
    module, _, attribute = name.partition(":")
    return getattr(import_module(f"chalicelib.schemas.{module}"), attribute)


@lru_cache(maxsize=None)
def page_schema(item: SchemaName) -> Any:
    from chalicelib.schemas.common import PageOut

    return PageOut[schema(item)]


@dataclass(frozen=True)
class RouteDoc:
    """What the OpenAPI generator needs to know about one route (schemas by name)."""

    method: str
    path: str
    summary: str
    tag: str
    role: str | None
    body: SchemaName | None
    query: SchemaName | None
    response: SchemaName | None
    many: bool
    status: int
    content_types: tuple[str, ...] = ("application/json",)
    produces: str = "application/json"
    answers: tuple[int, ...] = ()  # statuses beyond those every route of its kind may answer (OpenAPI)

    def response_schema(self) -> Any:
        if self.response is None:
            return None
        return page_schema(self.response) if self.many else schema(self.response)


ROUTE_DOCS: list[RouteDoc] = []


def problem_response(error: DomainError, instance: str | None = None) -> Response:
    body = {
        "type": PROBLEM_BASE + error.kind,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "instance": instance,
        "errors": [{"field": e.field, "message": e.message} for e in error.errors],
    }
    return Response(body=json.dumps(body, ensure_ascii=False), status_code=error.status,
                    headers={"Content-Type": "application/problem+json"})


def shaped(route: RouteDoc, result: Any) -> Any:
    """The view's result as the route's response model (``None`` stays ``None``)."""
    out = route.response_schema()
    if result is None or out is None or isinstance(result, out):
        return result
    if route.many:
        item = schema(route.response)
        return out(items=[item.model_validate(entry) for entry in result.items], next_cursor=result.next_cursor)
    return out.model_validate(result)


def json_response(payload: Any, status: int) -> Response:
    body = "" if payload is None else payload.model_dump_json(by_alias=True)
    return Response(body=body, status_code=204 if payload is None and status == 200 else status,
                    headers={"Content-Type": "application/json"})


def authenticate(authorization: str | None, role: str) -> Actor:
    try:
        claims = tokens.verify_bearer(authorization)
    except tokens.InvalidToken as error:
        logger.info("staff token refused", extra={"reason": str(error)})  # the reason is ours to read, not the caller's
        raise Unauthenticated("The staff token is invalid.") from None
    if not _has_role(claims.roles, role):
        raise Forbidden(f"This action needs the {role!r} role.")
    return Actor(tenant_id=claims.tenant_id, subject=claims.subject, roles=claims.roles)


LOCAL_STAGES = ("local", "dev")
LOCAL_SOURCE_IP_HEADER = "x-local-source-ip"


def client_address(request) -> str | None:
    """The address the request came from, as API Gateway saw it (``requestContext.identity.sourceIp``):
    the shop bounds holds by it and its geographic limits locate it. Never ``X-Forwarded-For``
    nor any other header a client writes.

    In the local stack only (stage ``local`` or ``dev``, where ``chalice local`` says 127.0.0.1
    for everyone), a person can try a geographic limit: ``LOCAL_SOURCE_IP`` forces the address,
    and with ``LOCAL_SOURCE_IP_HEADER=true`` (``make dev`` sets it) the ``X-Local-Source-Ip``
    header names it. Neither setting exists in a deployed stage; any other stage ignores both."""
    identity = (request.context or {}).get("identity") or {}
    seen = identity.get("sourceIp") or None
    if settings.stage in LOCAL_STAGES:
        forced = settings.local_source_ip
        if settings.local_source_ip_header:
            forced = (request.headers.get(LOCAL_SOURCE_IP_HEADER) or "").strip() or forced
        if forced:
            return forced
    return seen


def _has_role(granted: frozenset[str], required: str) -> bool:
    """``admin`` can do everything ``staff`` can."""
    return required in granted or (required == "staff" and "admin" in granted)


def field_errors(error: Any) -> list[FieldError]:
    """Each refused field, pydantic's English sentence for the API, and its French one for the
    pages that speak French (a schema's own rule has only its English one)."""
    from chalicelib.values.validation_words import in_french

    return [
        FieldError(".".join(str(part) for part in item["loc"]) or "(body)", item["msg"],
                   french=in_french(item["type"], item.get("ctx")))
        for item in error.errors(include_url=False)
    ]


def parse_body(raw_body: bytes | None, model: SchemaName) -> Any:
    from pydantic import ValidationError

    raw = raw_body or b""
    if len(raw) > settings.max_body_bytes:
        raise PayloadTooLarge(f"The body exceeds {settings.max_body_bytes} bytes.")
    try:
        json.loads(raw or b"null")
    except ValueError:
        raise MalformedRequest("The body must be a JSON document.") from None
    try:
        return schema(model).model_validate_json(raw or b"null")
    except ValidationError as error:
        raise InvalidInput("Some fields are invalid.", errors=field_errors(error)) from None


def parse_query(params: dict[str, str] | None, model: SchemaName) -> Any:
    from pydantic import ValidationError

    try:
        return schema(model).model_validate(dict(params or {}))
    except ValidationError as error:
        raise InvalidInput("Some query parameters are invalid.", errors=field_errors(error)) from None


def staff_route(bp: Blueprint, path: str, *, method: str = "GET", role: str = "staff",
                body: SchemaName | None = None, query: SchemaName | None = None,
                response: SchemaName | None = None, many: bool = False, status: int = 200,
                produces: str = "application/json", answers: tuple[int, ...] = (), summary: str,
                tag: str) -> Callable:
    """Register an authenticated JSON route on ``bp``; the view gets ``(actor, **path, body=, query=)``.
    ``produces`` names the type of a view that shapes its own document (HTML)."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    return _route(bp, RouteDoc(method, path, summary, tag, role, body, query, response, many, status,
                               produces=produces, answers=answers))


def public_route(bp: Blueprint, path: str, *, method: str = "GET", body: SchemaName | None = None,
                 query: SchemaName | None = None, response: SchemaName | None = None, status: int = 200,
                 raw_body: bool = False, content_types: tuple[str, ...] = ("application/json",),
                 produces: str = "application/json", answers: tuple[int, ...] = (), summary: str,
                 tag: str) -> Callable:
    """Register a route without staff token (the shop, webhooks, spectators' pages, this API's
    document); the view gets ``(**path, body=, query=)``, plus ``request`` when ``raw_body``
    (a webhook verifies the exact bytes it was sent)."""
    return _route(bp, RouteDoc(method, path, summary, tag, None, body, query, response, False, status,
                               content_types, produces, answers), pass_request=raw_body)


def _check_content_type(route: RouteDoc, request) -> None:
    """A body of another type than the route takes is a 415 problem (an empty body has none)."""
    if not request.raw_body:
        return
    given = (request.headers.get("content-type") or "application/json").split(";")[0].strip().lower()
    if given not in route.content_types:
        raise UnsupportedMediaType(f"This route takes {' or '.join(route.content_types)}, not {given}.")


def _route(bp: Blueprint, route: RouteDoc, *, pass_request: bool = False) -> Callable:
    """The endpoint around a view: auth (staff routes), inputs, shaping, problem answers."""

    def register(view: Callable) -> Callable:
        ROUTE_DOCS.append(route)

        def endpoint(**path_params: str) -> Response:
            request = bp.current_request
            try:
                inputs: dict[str, Any] = dict(path_params)
                _check_content_type(route, request)
                if route.role is not None:
                    actor = authenticate(request.headers.get("authorization"), route.role)
                    logger.append_keys(tenant=actor.tenant_id)
                    inputs["actor"] = actor
                if route.body is not None:
                    inputs["body"] = parse_body(request.raw_body, route.body)
                if route.query is not None:
                    inputs["query"] = parse_query(request.query_params, route.query)
                if pass_request:
                    inputs["request"] = request
                result = view(**inputs)
                if isinstance(result, Response):  # a document (HTML, CSV...) the view shaped itself
                    return result
                return json_response(shaped(route, result), route.status)
            except DomainError as error:
                return problem_response(error, instance=request.context.get("path"))
            except Exception:  # a bug: log it whole, answer a problem without internals
                logger.exception("unhandled error in %s %s", route.method, route.path)
                return problem_response(Unexpected("Please retry; if it persists, tell us the time."))

        endpoint.__name__ = view.__name__
        endpoint.__doc__ = view.__doc__
        # Chalice would answer other types itself, not as a problem: the endpoint checks them.
        bp.route(route.path, methods=[route.method], content_types=["*/*"])(endpoint)
        return view

    return register


RECORD_ROUTES: list["RecordRoutes"] = []  # every plain record's routes, as registered


@lru_cache(maxsize=None)
def record_kind(name: str) -> Any:
    """The :class:`~chalicelib.services.shared.records.RecordKind` ``"module:attribute"`` of
    ``chalicelib.services`` (e.g. ``"catalog.catalog:venues"``), imported on first need."""
    module, _, attribute = name.partition(":")
    return getattr(import_module(f"chalicelib.services.{module}"), attribute)


@dataclass(frozen=True)
class RecordRoutes:
    """The four routes of a plain record (create, list, read, change), served by its
    :class:`~chalicelib.services.shared.records.RecordKind`, named by ``records``
    (``"catalog.catalog:venues"``) and imported on the first request that needs it, so that
    importing the app pays neither for the service nor for its model.

    ``schemas`` prefixes the record's schemas (``"catalog:Tariff"`` -> ``TariffIn``,
    ``TariffPatch``, ``TariffOut``, and ``TariffQuery`` when its list takes parent filters);
    ``filters`` names those parents, as the record kind's ``filters`` does (a test compares
    them); ``notes`` adds what a summary should say (e.g. which fields are fixed at creation).
    The record's noun in the views' names (``create_venue``) is the schemas' class in snake
    case, its model's ``entity_type`` (compared by the same test).
    """

    path: str
    id_param: str
    records: str
    label: str
    schemas: str
    notes: str = ""
    filters: tuple[str, ...] = ()

    @property
    def noun(self) -> str:
        return re.sub(r"(?<!^)(?=[A-Z])", "_", self.schemas.partition(":")[2]).lower()

    def register(self, bp: Blueprint, tag: str) -> None:
        RECORD_ROUTES.append(self)
        item_path = f"{self.path}/{{{self.id_param}}}"
        name, id_param, filters = self.records, self.id_param, self.filters
        query = f"{self.schemas}Query" if filters else "common:PageQuery"
        out = f"{self.schemas}Out"
        suffix = f" ({self.notes})" if self.notes else ""
        noun = self.noun

        def create_view(actor, body):
            return record_kind(name).create(actor, body.model_dump())

        def list_view(actor, query):
            return record_kind(name).list(actor, limit=query.limit, cursor=query.cursor,
                                          **{parent: getattr(query, parent) for parent in filters})

        def read_view(actor, **path):
            return record_kind(name).get(actor, path[id_param])

        def change_view(actor, body, **path):
            return record_kind(name).update(actor, path[id_param], body.model_dump(exclude_unset=True))

        for view, verb in ((create_view, "create"), (list_view, "list"), (read_view, "get"), (change_view, "update")):
            view.__name__ = f"{verb}_{noun}"
        staff_route(bp, self.path, method="POST", body=f"{self.schemas}In", response=out, status=201,
                    summary=f"Create a {self.label}", tag=tag)(create_view)
        staff_route(bp, self.path, query=query, response=out, many=True,
                    summary=f"List {self.label}s" + (f", filtered by {', '.join(filters)}" if filters else ""),
                    tag=tag)(list_view)
        staff_route(bp, item_path, response=out, summary=f"Read a {self.label}", tag=tag)(read_view)
        staff_route(bp, item_path, method="PATCH", body=f"{self.schemas}Patch", response=out,
                    summary=f"Change a {self.label}{suffix}", tag=tag)(change_view)
