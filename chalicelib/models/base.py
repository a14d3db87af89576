"""What every model shares: table naming per stage, the local endpoint, the tenant-first keys.

Tables are named ``{TABLE_PREFIX}{name}`` so one DynamoDB account (or one DynamoDB Local)
holds several stages or test runs side by side. Every entity of a tenant lives under a
partition key that *is* or *starts with* the tenant id taken from the verified token;
:func:`tenant_key` is the one place composite keys are built, so the separator rule
(tenant ids never contain ``#``) is enforced once.
"""
from __future__ import annotations

import re
from functools import lru_cache

from pynamodb.attributes import UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute
from pynamodb.connection import Connection
from pynamodb.models import Model

from chalicelib.adapters import clock
from chalicelib.config import settings

KEY_SEPARATOR = "#"
TENANT_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def table_meta(name: str) -> type:
    """The ``Meta`` of a model stored in table ``name`` for the current stage."""

    class Meta:
        table_name = f"{settings.table_prefix}{name}"
        region = settings.aws_region
        host = settings.dynamodb_endpoint
        billing_mode = "PAY_PER_REQUEST"

    return Meta


def index_meta(name: str) -> type:
    """The ``Meta`` of a global secondary index (all attributes projected)."""
    from pynamodb.indexes import AllProjection

    class Meta:
        index_name = name
        projection = AllProjection()
        billing_mode = "PAY_PER_REQUEST"

    return Meta


def tenant_key(tenant_id: str, *parts: str) -> str:
    """A partition key owned by ``tenant_id``: ``tenant#part#part``."""
    if not TENANT_ID_PATTERN.match(tenant_id):
        raise ValueError(f"not a tenant id: {tenant_id!r}")
    return KEY_SEPARATOR.join((tenant_id, *parts))


@lru_cache(maxsize=1)
def connection() -> Connection:
    """The low-level connection transactions run on (same endpoint as the models)."""
    return Connection(region=settings.aws_region, host=settings.dynamodb_endpoint)


class TenantEntity(Model):
    """An entity owned by a tenant: hash key = tenant id, range key = the entity's ULID.

    ``entity_type`` names the entity in audit events and problem messages.
    """

    entity_type = "entity"

    tenant_id = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)
    version = VersionAttribute(null=True)
    created_at = UTCDateTimeAttribute(default_for_new=clock.now)
    updated_at = UTCDateTimeAttribute(default_for_new=clock.now)
