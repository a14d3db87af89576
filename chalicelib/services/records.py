"""Create, read, update and list for tenant-owned entities, audited.

The catalog and contacts are mostly plain records; their services call these functions
and add only their own rules (references that must exist, fields the system owns).
"""
from __future__ import annotations

from typing import Any, Type, TypeVar

from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters import clock, ids
from chalicelib.errors import FieldError, InvalidInput, NotFound
from chalicelib.models.base import TenantEntity
from chalicelib.services.actors import Actor
from chalicelib.services.audit import snapshot, write_audited
from chalicelib.services.paging import Page, paged

E = TypeVar("E", bound=TenantEntity)


def get_record(actor: Actor, model: Type[E], record_id: str) -> E:
    """The tenant's ``model`` with this id, or :class:`NotFound` (also for another tenant's id)."""
    if not ids.is_id(record_id):
        raise NotFound(f"No {model.entity_type} with id {record_id!r}.")
    try:
        return model.get(actor.tenant_id, record_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"No {model.entity_type} with id {record_id!r}.") from None


def require_reference(actor: Actor, model: Type[E], record_id: str, field: str) -> E:
    """Like :func:`get_record`, but a missing reference is the request's fault (422 on ``field``)."""
    try:
        return get_record(actor, model, record_id)
    except NotFound as error:
        raise InvalidInput(error.detail, errors=[FieldError(field, f"unknown {model.entity_type}")]) from None


def create_record(actor: Actor, model: Type[E], fields: dict[str, Any]) -> E:
    record = model(tenant_id=actor.tenant_id, id=ids.new_id(), **fields)
    write_audited(actor, record, action="create", before=None, condition=model.id.does_not_exist())
    return record


def update_record(actor: Actor, model: Type[E], record_id: str, changes: dict[str, Any]) -> E:
    """Apply ``changes`` (already validated) under optimistic locking on the record's version."""
    record = get_record(actor, model, record_id)
    before = snapshot(record)
    for name, value in changes.items():
        setattr(record, name, value)
    record.updated_at = clock.now()
    write_audited(actor, record, action="update", before=before)
    return record


def list_records(actor: Actor, model: Type[E], *, limit: int, cursor: str | None) -> Page[E]:
    """The tenant's records of ``model`` in creation order (ids are ULIDs)."""
    return paged(
        f"{model.entity_type}:{actor.tenant_id}",
        cursor,
        lambda start: model.query(actor.tenant_id, limit=limit, last_evaluated_key=start),
    )
