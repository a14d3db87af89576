"""Audited records against DynamoDB Local: lost updates are refused, and a failed write
leaves neither the change nor its audit event."""
from __future__ import annotations

import pytest

from chalicelib.errors import ConcurrentChange
from chalicelib.models.audit import AuditEvent
from chalicelib.models.base import tenant_key
from chalicelib.models.catalog import Venue
from chalicelib.services.shared import records
from chalicelib.services.shared.audit import write_audited


def test_a_stale_copy_cannot_overwrite_a_newer_change(actor):
    venue = records.create_record(actor, Venue, {"name": "Salle Molière"})
    mine = records.get_record(actor, Venue, venue.id)
    theirs = records.get_record(actor, Venue, venue.id)
    write_audited(actor, _renamed(theirs, "Salle Rameau"), action="update", before=None)
    with pytest.raises(ConcurrentChange):
        write_audited(actor, _renamed(mine, "Salle Lumière"), action="update", before=None)

    assert records.get_record(actor, Venue, venue.id).name == "Salle Rameau"
    events = list(AuditEvent.query(tenant_key(actor.tenant_id, "venue", venue.id)))
    assert [event.action for event in events] == ["create", "update"]
    assert events[-1].after["name"] == "Salle Rameau"


def _renamed(venue: Venue, name: str) -> Venue:
    venue.name = name
    return venue
