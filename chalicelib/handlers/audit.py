"""Audit routes (staff): the history of any entity, oldest change first."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.errors import NotFound
from chalicelib.handlers.http import staff_route

bp = Blueprint(__name__)


@staff_route(bp, "/audit/{entity_type}/{entity_id}", query="common:PageQuery", response="audit:AuditEventOut",
             many=True, summary="History of changes to one entity", tag="audit")
def entity_history(actor, entity_type, entity_id, query):
    from chalicelib.services.shared import audit

    if not entity_type.isidentifier() or len(entity_type) > 40:
        raise NotFound(f"No entity type {entity_type!r}.")
    return audit.history(actor, entity_type, entity_id, limit=query.limit, cursor=query.cursor)
