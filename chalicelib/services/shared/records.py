"""Create, read, update and list for tenant-owned entities, audited.

The catalog and contacts are mostly plain records; their services call these functions
and add only their own rules (references that must exist, fields the system owns).

A service states an entity's rules once, as a :data:`Rules` function, and passes it to both
:func:`create_record` and :func:`update_record`: the rules see the record exactly as it is
about to be written, so a rule holds whichever request changed which field. Index keys and
unique values are then derived from the record by the model itself
(:meth:`~chalicelib.models.base.TenantEntity.set_index_keys`,
:meth:`~chalicelib.models.base.TenantEntity.unique_values`), in the same write.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Optional, Type, TypeVar

from pynamodb.exceptions import DoesNotExist
from pynamodb.expressions.condition import Condition
from pynamodb.indexes import GlobalSecondaryIndex

from chalicelib.adapters import clock, ids
from chalicelib.errors import ConcurrentChange, FieldError, InvalidInput, NotFound
from chalicelib.models.base import TenantEntity, tenant_key
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import snapshot, write_audited
from chalicelib.services.shared.paging import Page, paged

E = TypeVar("E", bound=TenantEntity)
R = TypeVar("R", bound=TenantEntity)

Rules = Callable[[Actor, Any, Optional[dict]], None]
"""``rules(actor, record, before)``: check an entity's rules on ``record`` as it is about to be
written (``before`` is its snapshot before the change, ``None`` on create). It may set
fields the system owns; it raises a :class:`~chalicelib.errors.DomainError` to refuse."""


def refuse_if_changed(record: Any, read_at_version: int | None, described: str) -> None:
    """Refuse (409, nothing written) a change made from a form that showed ``record`` at
    ``read_at_version`` when the record changed since: a stale form replacing what someone else
    wrote meanwhile is lost work nobody sees. ``None``: the caller showed no version."""
    if read_at_version is not None and record.version != read_at_version:
        raise ConcurrentChange(f"{described} changed since it was read; reload it and try again.")


def get_record(actor: Actor, model: Type[E], record_id: str) -> E:
    """The tenant's ``model`` with this id, or :class:`NotFound` (also for another tenant's id)."""
    if not ids.is_id(record_id):
        raise NotFound(f"No {model.entity_type} with id {record_id!r}.")
    try:
        return model.get(actor.tenant_id, record_id, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"No {model.entity_type} with id {record_id!r}.") from None


def by_ids(actor: Actor, model: Type[E], record_ids) -> dict[str, E]:
    """The tenant's ``model`` records of ``record_ids`` by id, read in one batch (those that exist)."""
    keys = [(actor.tenant_id, record_id) for record_id in dict.fromkeys(record_ids)]
    return {record.id: record for record in model.batch_get(keys)} if keys else {}


def require_reference(actor: Actor, model: Type[E], record_id: str, field: str) -> E:
    """Like :func:`get_record`, but a missing reference is the request's fault (422 on ``field``)."""
    try:
        return get_record(actor, model, record_id)
    except NotFound as error:
        raise InvalidInput(error.detail, errors=[FieldError(field, f"unknown {model.entity_type}")]) from None


def check_reference(actor: Actor, record: TenantEntity, before: dict | None, field: str,
                    model: Type[R]) -> R | None:
    """The ``model`` that ``record.<field>`` names, when the field is set or changed by this write
    (422 on ``field`` if it does not exist); ``None`` when empty or unchanged."""
    value = getattr(record, field)
    if value is None or (before is not None and before.get(field) == value):
        return None
    return require_reference(actor, model, value, field)


def create_record(actor: Actor, model: Type[E], fields: dict[str, Any], *, rules: Rules | None = None) -> E:
    record = model(tenant_id=actor.tenant_id, id=ids.new_id(), **fields)
    if rules is not None:
        rules(actor, record, None)
    record.set_index_keys()
    write_audited(actor, record, action="create", before=None, condition=model.id.does_not_exist(),
                  claims=_claims(record, record.unique_values(), held={}))
    return record


def update_record(actor: Actor, model: Type[E], record_id: str, changes: dict[str, Any], *,
                  rules: Rules | None = None, read_at_version: int | None = None) -> E:
    """Apply ``changes`` (already validated) under optimistic locking on the record's version;
    ``read_at_version``: the version a form showed (409 if the record changed since)."""
    record = get_record(actor, model, record_id)
    refuse_if_changed(record, read_at_version, f"The {model.entity_type.replace('_', ' ')}")
    before = snapshot(record)
    held = record.unique_values()
    for name, value in changes.items():
        setattr(record, name, value)
    if rules is not None:
        rules(actor, record, before)
    record.updated_at = clock.now()
    record.set_index_keys()
    wanted = record.unique_values()
    write_audited(actor, record, action="update", before=before,
                  claims=_claims(record, wanted, held=held), releases=_claims(record, held, held=wanted))
    return record


def _claims(record: TenantEntity, values: dict[str, tuple[str, ...]], *, held: dict) -> list[UniqueKey]:
    """Claims on the ``values`` not already in ``held``."""
    return [UniqueKey.of(record, label, parts) for label, parts in values.items() if held.get(label) != parts]


def list_records(actor: Actor, model: Type[E], *, limit: int, cursor: str | None) -> Page[E]:
    """The tenant's records of ``model`` in creation order (ids are ULIDs)."""
    return paged(
        f"{model.entity_type}:{actor.tenant_id}",
        cursor,
        lambda start: model.query(actor.tenant_id, limit=limit, last_evaluated_key=start),
    )


def list_by_index(actor: Actor, index: GlobalSecondaryIndex, *key_parts: str, limit: int, cursor: str | None,
                  range_condition: Condition | None = None) -> Page:
    """One page of a tenant-first ``index`` under ``tenant_key(tenant, *key_parts)``, in the index's
    range-key order, narrowed by ``range_condition`` on that range key if given.

    The cursor is bound to the index, the key and the condition: it cannot be replayed on
    another listing. Index names must therefore be unique across models.
    """
    hash_key = tenant_key(actor.tenant_id, *key_parts)
    return paged(
        f"{index.Meta.index_name}:{hash_key}:{range_condition}",
        cursor,
        lambda start: index.query(hash_key, range_condition, limit=limit, last_evaluated_key=start),
    )


@dataclass(frozen=True)
class RecordKind:
    """One kind of plain record: its model, its rules, and the parents its list can be
    filtered by (``{"product_id": (Tariff.by_product, Product)}``). The create, read, update
    and list of every such record are the functions above, applied once here.

    A list filtered by a parent answers 422 on that parameter when the parent is not the
    tenant's, rather than an empty page: another tenant's id never "works".
    """

    model: Any
    rules: Rules | None = None
    filters: dict[str, tuple[GlobalSecondaryIndex, Any]] = field(default_factory=dict)

    def create(self, actor: Actor, fields: dict[str, Any]):
        return create_record(actor, self.model, fields, rules=self.rules)

    def update(self, actor: Actor, record_id: str, changes: dict[str, Any], *, read_at_version: int | None = None):
        return update_record(actor, self.model, record_id, changes, rules=self.rules, read_at_version=read_at_version)

    def get(self, actor: Actor, record_id: str):
        return get_record(actor, self.model, record_id)

    def list(self, actor: Actor, *, limit: int, cursor: str | None, **parents: str | None) -> Page:
        chosen = {name: value for name, value in parents.items() if value is not None}
        if not chosen:
            return list_records(actor, self.model, limit=limit, cursor=cursor)
        [(name, value)] = chosen.items()
        index, parent = self.filters[name]
        require_reference(actor, parent, value, name)
        return list_by_index(actor, index, value, limit=limit, cursor=cursor)
