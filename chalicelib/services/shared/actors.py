"""Who does something: a staff member from a verified token, or the system itself."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Actor:
    """The author of a change. ``tenant_id`` always comes from a verified token or an
    event the platform produced, never from request input."""

    tenant_id: str
    subject: str
    roles: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def system(cls, tenant_id: str, process: str) -> "Actor":
        return cls(tenant_id=tenant_id, subject=f"system:{process}", roles=frozenset({"system"}))
