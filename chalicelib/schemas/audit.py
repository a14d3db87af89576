"""Audit trail responses and the entity types whose history can be read."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.schemas.common import OutputModel


class AuditEventOut(OutputModel):
    event_id: str
    entity_type: str
    entity_id: str
    action: str
    actor: str
    at: datetime
    before: dict[str, Any] | None
    after: dict[str, Any] | None
