"""Plumbing shared by every staff route: authentication, input parsing, problem+json answers,
and the registry of routes the OpenAPI document is generated from.

A staff route is declared once with :func:`staff_route`, which says its role, body, query
and response models. The view itself receives the verified :class:`Actor` and parsed,
validated inputs and returns a response model; it never sees raw JSON nor builds errors.

Example::

    @staff_route(bp, "/venues", method="POST", body=VenueIn, response=VenueOut, status=201,
                 summary="Create a venue", tag="catalog")
    def create_venue(actor, body):
        return VenueOut.model_validate(catalog.create_venue(actor, body))
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable

from chalice import Blueprint, Response
from pydantic import BaseModel, ValidationError

from chalicelib.adapters import tokens
from chalicelib.errors import (DomainError, FieldError, Forbidden, InvalidInput, MalformedRequest,
                               PayloadTooLarge, Unauthenticated, Unexpected)
from chalicelib.config import settings
from chalicelib.observability import logger
from chalicelib.services.actors import Actor

PROBLEM_BASE = "/problems/"
ROLES = ("staff", "admin")


@dataclass(frozen=True)
class RouteDoc:
    """What the OpenAPI generator needs to know about one route."""

    method: str
    path: str
    summary: str
    tag: str
    role: str | None
    body: type[BaseModel] | None
    query: type[BaseModel] | None
    response: type[BaseModel] | None
    status: int


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


def json_response(payload: BaseModel | None, status: int) -> Response:
    body = "" if payload is None else payload.model_dump_json(by_alias=True)
    return Response(body=body, status_code=status, headers={"Content-Type": "application/json"})


def page_out(item_model: type[BaseModel], page: Any) -> BaseModel:
    """A service :class:`~chalicelib.services.paging.Page` as the ``PageOut`` of ``item_model``."""
    from chalicelib.schemas.common import PageOut

    return PageOut[item_model](items=[item_model.model_validate(item) for item in page.items],
                               next_cursor=page.next_cursor)


def authenticate(authorization: str | None, role: str) -> Actor:
    try:
        claims = tokens.verify_bearer(authorization)
    except tokens.InvalidToken as error:
        raise Unauthenticated(f"The staff token was refused: {error}.") from None
    if not _has_role(claims.roles, role):
        raise Forbidden(f"This action needs the {role!r} role.")
    return Actor(tenant_id=claims.tenant_id, subject=claims.subject, roles=claims.roles)


def _has_role(granted: frozenset[str], required: str) -> bool:
    """``admin`` can do everything ``staff`` can."""
    return required in granted or (required == "staff" and "admin" in granted)


def _field_errors(error: ValidationError) -> list[FieldError]:
    return [
        FieldError(".".join(str(part) for part in item["loc"]) or "(body)", item["msg"])
        for item in error.errors(include_url=False)
    ]


def parse_body(raw_body: bytes | None, model: type[BaseModel]) -> BaseModel:
    raw = raw_body or b""
    if len(raw) > settings.max_body_bytes:
        raise PayloadTooLarge(f"The body exceeds {settings.max_body_bytes} bytes.")
    try:
        json.loads(raw or b"null")
    except ValueError:
        raise MalformedRequest("The body must be a JSON document.") from None
    try:
        return model.model_validate_json(raw or b"null")
    except ValidationError as error:
        raise InvalidInput("Some fields are invalid.", errors=_field_errors(error)) from None


def parse_query(params: dict[str, str] | None, model: type[BaseModel]) -> BaseModel:
    try:
        return model.model_validate(dict(params or {}))
    except ValidationError as error:
        raise InvalidInput("Some query parameters are invalid.", errors=_field_errors(error)) from None


def staff_route(bp: Blueprint, path: str, *, method: str = "GET", role: str = "staff",
                body: type[BaseModel] | None = None, query: type[BaseModel] | None = None,
                response: type[BaseModel] | None = None, status: int = 200,
                summary: str, tag: str) -> Callable:
    """Register an authenticated JSON route on ``bp``; the view gets ``(actor, **path, body=, query=)``."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")

    def register(view: Callable) -> Callable:
        ROUTE_DOCS.append(RouteDoc(method, path, summary, tag, role, body, query, response, status))

        def endpoint(**path_params: str) -> Response:
            request = bp.current_request
            try:
                actor = authenticate(request.headers.get("authorization"), role)
                logger.append_keys(tenant=actor.tenant_id)
                inputs: dict[str, Any] = dict(path_params)
                if body is not None:
                    inputs["body"] = parse_body(request.raw_body, body)
                if query is not None:
                    inputs["query"] = parse_query(request.query_params, query)
                return json_response(view(actor, **inputs), status)
            except DomainError as error:
                return problem_response(error, instance=request.context.get("path"))
            except Exception:  # a bug: log it whole, answer a problem without internals
                logger.exception("unhandled error in %s %s", method, path)
                return problem_response(Unexpected("Please retry; if it persists, tell us the time."))

        endpoint.__name__ = view.__name__
        endpoint.__doc__ = view.__doc__
        bp.route(path, methods=[method])(endpoint)
        return view

    return register


def public_route(bp: Blueprint, path: str, *, method: str = "GET", response: type[BaseModel] | None = None,
                 summary: str, tag: str) -> Callable:
    """Register an unauthenticated route; it is documented, and answers problems like the others."""

    def register(view: Callable) -> Callable:
        ROUTE_DOCS.append(RouteDoc(method, path, summary, tag, None, None, None, response, 200))

        def endpoint(**path_params: str) -> Response:
            try:
                return view(**path_params)
            except DomainError as error:
                return problem_response(error)

        endpoint.__name__ = view.__name__
        bp.route(path, methods=[method])(endpoint)
        return view

    return register
