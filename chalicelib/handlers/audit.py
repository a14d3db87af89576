"""Audit routes (staff): the history of any entity, oldest change first."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.errors import NotFound
from chalicelib.handlers.http import page_out, staff_route
from chalicelib.schemas.audit import AuditEventOut
from chalicelib.schemas.common import PageOut, PageQuery
from chalicelib.services import audit

bp = Blueprint(__name__)


@staff_route(bp, "/audit/{entity_type}/{entity_id}", query=PageQuery, response=PageOut[AuditEventOut],
             summary="History of changes to one entity", tag="audit")
def entity_history(actor, entity_type, entity_id, query):
    if not entity_type.isidentifier() or len(entity_type) > 40:
        raise NotFound(f"No entity type {entity_type!r}.")
    return page_out(AuditEventOut, audit.history(actor, entity_type, entity_id,
                                                 limit=query.limit, cursor=query.cursor))
