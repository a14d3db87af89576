"""The audit trail: every staff change and every money movement leaves an event.

:func:`write_audited` is the one way services persist a change to an entity: the entity
and its audit event go to DynamoDB in one transaction, so there is never a change without
its trace, nor a trace of a change that did not happen.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any, Sequence

from pynamodb.attributes import MapAttribute
from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock, ids
from chalicelib.errors import ConcurrentChange, Duplicate, FieldError, NotFound
from chalicelib.models.audit import AuditEvent
from chalicelib.models.base import connection, tenant_key
from chalicelib.models.transactions import condition_refused
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.paging import Page, paged


def snapshot(entity: Model | None) -> dict[str, Any] | None:
    """The entity as plain JSON values, as the audit trail stores it (sets as sorted lists,
    times as ISO strings)."""
    if entity is None:
        return None
    values = {name: plain(getattr(entity, name)) for name in entity.get_attributes()}
    return {name: value for name, value in values.items() if value is not None}


def plain(value: Any) -> Any:
    """A stored value as plain JSON values (maps as dicts, sets as sorted lists, times as ISO text)."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, (set, frozenset)):
        return sorted(plain(item) for item in value)
    if isinstance(value, MapAttribute):
        return {name: plain(item) for name, item in value.as_dict().items()}
    if isinstance(value, dict):
        return {name: plain(item) for name, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    return value


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
                  condition: Condition | None = None, also: Sequence[Model] = (),
                  claims: Sequence[UniqueKey] = (), releases: Sequence[UniqueKey] = ()) -> None:
    """Save ``entity`` (and the ``also`` items, each unconditionally) with its audit event, atomically.

    ``claims`` are unique values the entity takes (written only if nobody holds them);
    ``releases`` are the ones it gives up (deleted unless someone else holds them).
    A taken claim raises :class:`Duplicate` naming its label; another failed condition or
    a version clash raises :class:`ConcurrentChange`.
    """
    event = audit_event(actor, entity.entity_type, entity.id, action, before, None)
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(entity, condition=condition)
            for item in also:
                transaction.save(item)
            for claim in claims:
                transaction.save(claim, condition=UniqueKey.key.does_not_exist())
            for released in releases:
                transaction.delete(released, condition=UniqueKey.key.does_not_exist()
                                   | (UniqueKey.entity_id == released.entity_id))
            event.after = snapshot(entity)
            transaction.save(event)
    except TransactWriteError as error:
        if condition_refused(error):
            taken = [claim for claim in claims if _held_by_another(claim)]
            if taken:
                labels = ", ".join(claim.label for claim in taken)
                raise Duplicate(f"Another {entity.entity_type} already has this {labels}.",
                                errors=[FieldError(claim.label, "already taken") for claim in taken]) from error
            raise ConcurrentChange(f"The {entity.entity_type} changed while you were editing it.") from error
        raise


def _held_by_another(claim: UniqueKey) -> bool:
    try:
        return UniqueKey.get(claim.key, consistent_read=True).entity_id != claim.entity_id
    except UniqueKey.DoesNotExist:
        return False


def history(actor: Actor, entity_type: str, entity_id: str, *, limit: int, cursor: str | None) -> Page[AuditEvent]:
    """An entity's audit events, oldest first; :class:`NotFound` for an entity with no history
    (every entity of the tenant has at least its creation)."""
    key = tenant_key(actor.tenant_id, entity_type, entity_id)
    page = paged(f"audit:{key}", cursor, lambda start: AuditEvent.query(key, limit=limit, last_evaluated_key=start))
    if not page.items and cursor is None:
        raise NotFound(f"No {entity_type} with id {entity_id!r}.")
    return page


def record_action(actor: Actor, entity_type: str, entity_id: str, action: str, details: dict) -> None:
    """Audit an action that changes no stored entity itself (a resend, a preview sent...)."""
    audit_event(actor, entity_type, entity_id, action, None, details).save()


def scrub(tenant_id: str, entity_type: str, entity_id: str, forget) -> int:
    """Erasure: rewrite the entity's past events with ``forget(snapshot) -> snapshot`` applied to
    their before and after (who did what and when stays); how many events were rewritten."""
    rewritten = 0
    for event in AuditEvent.query(tenant_key(tenant_id, entity_type, entity_id), consistent_read=True):
        before, after = forget(event.before), forget(event.after)
        if (before, after) != (event.before, event.after):
            event.before, event.after = before, after
            event.save()
            rewritten += 1
    return rewritten