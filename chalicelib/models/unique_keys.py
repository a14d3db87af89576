"""Claims on values that only one entity of a tenant may hold (a seat's block/row/number in
its venue, later perhaps a subscriber number).

DynamoDB enforces uniqueness only on primary keys, so each such value gets an item whose
key *is* the value: ``tenant#entity_type#label#part#...``. The item is written, only if
absent, in the same transaction as the entity that claims it, and deleted in the same
transaction as the change that gives it up (see
:func:`chalicelib.services.shared.audit.write_audited`). A taken value makes the whole write fail.
"""
from __future__ import annotations

from pynamodb.attributes import UnicodeAttribute
from pynamodb.models import Model

from chalicelib.models.base import TenantEntity, table_meta, tenant_key


class UniqueKey(Model):
    Meta = table_meta("unique_keys")

    key = UnicodeAttribute(hash_key=True)
    entity_type = UnicodeAttribute()
    entity_id = UnicodeAttribute()
    label = UnicodeAttribute()
    # A seat claim a seat change took before its ticket moved (services/seat_changes): its change's id, so
    # that a later attempt of that change recognises its own claims (to resume, or to give them back).
    change_id = UnicodeAttribute(null=True)
    # A seat claim of a subscription's ticket (written by the order's sale): that subscription, so that a
    # renewal tells whether the seat awaits a subscriber still to renew without reading the order's tickets.
    subscription_id = UnicodeAttribute(null=True)

    @classmethod
    def of(cls, entity: TenantEntity, label: str, parts: tuple[str, ...]) -> "UniqueKey":
        """The claim of ``entity`` on the value ``parts`` named ``label``."""
        return cls(key=tenant_key(entity.tenant_id, entity.entity_type, label, *parts),
                   entity_type=entity.entity_type, entity_id=entity.id, label=label)
