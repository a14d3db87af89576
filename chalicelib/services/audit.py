"""The audit trail: every staff change and every money movement leaves an event.

:func:`write_audited` is the one way services persist a change to an entity: the entity
and its audit event go to DynamoDB in one transaction, so there is never a change without
its trace, nor a trace of a change that did not happen.
"""
from __future__ import annotations

from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock, ids
from chalicelib.errors import ConcurrentChange
from chalicelib.models.audit import AuditEvent
from chalicelib.models.base import connection, tenant_key
from chalicelib.services.actors import Actor
from chalicelib.services.paging import Page, paged


def snapshot(entity: Model | None) -> dict[str, Any] | None:
    """The entity as plain JSON values, as the audit trail stores it."""
    return None if entity is None else entity.to_simple_dict()


def audit_event(actor: Actor, entity_type: str, entity_id: str, action: str,
                before: dict | None, after: dict | None) -> AuditEvent:
    return AuditEvent(
        entity_key=tenant_key(actor.tenant_id, entity_type, entity_id),
        event_id=ids.new_id(),
        tenant_id=actor.tenant_id,
        entity_type=entity_type,
        entity_id=entity_id,
        action=action,
        actor=actor.subject,
        at=clock.now(),
        before=before,
        after=after,
    )


def write_audited(actor: Actor, entity: Model, *, action: str, before: dict | None,
                  condition: Condition | None = None, also: list[Model] = ()) -> None:
    """Save ``entity`` (and the ``also`` items, each unconditionally) with its audit event, atomically.

    A failed condition or a version clash raises :class:`ConcurrentChange`.
    """
    event = audit_event(actor, entity.entity_type, entity.id, action, before, None)
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(entity, condition=condition)
            for item in also:
                transaction.save(item)
            event.after = snapshot(entity)
            transaction.save(event)
    except TransactWriteError as error:
        if _condition_failed(error):
            raise ConcurrentChange(f"The {entity.entity_type} changed while you were editing it.") from error
        raise


def _condition_failed(error: TransactWriteError) -> bool:
    reasons = getattr(error, "cancellation_reasons", None) or []
    return any(reason is not None and reason.code == "ConditionalCheckFailed" for reason in reasons)


def history(actor: Actor, entity_type: str, entity_id: str, *, limit: int, cursor: str | None) -> Page[AuditEvent]:
    """An entity's audit events, oldest first."""
    key = tenant_key(actor.tenant_id, entity_type, entity_id)
    return paged(f"audit:{key}", cursor, lambda start: AuditEvent.query(key, limit=limit, last_evaluated_key=start))

