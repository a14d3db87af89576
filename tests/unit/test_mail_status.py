"""Reading SES events (recorded shapes) and moving statuses only forward."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from chalicelib.services.mail.status import RANK, UnreadableEvent, furthest, read_ses_event
from tests.mail_fixtures import ses_event

NOW = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
EXPECTED = {
    "send": "sent", "delivery": "delivered", "bounce_permanent": "bounced_permanent",
    "bounce_transient": "bounced_transient", "bounce_suppressed": "suppressed", "complaint": "complained",
    "reject": "rejected", "delivery_delay": "delayed", "rendering_failure": "failed", "subscription": None,
}


@pytest.mark.parametrize("name,status", sorted(EXPECTED.items()))
def test_each_ses_event_type_gives_its_status(name, status):
    fact = read_ses_event(ses_event(name, "tenant-a", "01J0000000000000000000000A"), NOW)
    assert fact.status == status
    assert fact.tenant_id == "tenant-a" and fact.notification_id == "01J0000000000000000000000A"
    assert fact.at.tzinfo is not None


def test_a_permanent_bounce_names_the_undeliverable_address_and_a_complaint_the_complainer():
    bounce = read_ses_event(ses_event("bounce_permanent", "t", "01J0000000000000000000000A", "x@free.fr"), NOW)
    assert bounce.undeliverable == {"x@free.fr"} and "5.1.1" in bounce.detail
    transient = read_ses_event(ses_event("bounce_transient", "t", "01J0000000000000000000000A"), NOW)
    assert transient.undeliverable == frozenset()
    complaint = read_ses_event(ses_event("complaint", "t", "01J0000000000000000000000A", "y@orange.fr"), NOW)
    assert complaint.complained == {"y@orange.fr"}


@pytest.mark.parametrize("event", [
    {}, {"eventType": "Bounce"}, {"eventType": "Delivery", "mail": {"tags": {}}},
    {"eventType": "Teleport", "mail": {"tags": {"tenant": ["t"], "notification": ["n"]}}}, [], "text",
])
def test_events_we_cannot_tie_to_a_mail_are_unreadable(event):
    with pytest.raises(UnreadableEvent):
        read_ses_event(event, NOW)


def test_statuses_never_move_backward():
    assert furthest("bounced_permanent", "delivered") == "bounced_permanent"
    assert furthest("delivered", "complained") == "complained"
    assert furthest("delivered", "delayed") == "delivered"
    assert furthest("sent", None) == "sent"
    assert furthest("queued", "sent") == "sent"
    assert set(RANK) >= {"queued", "sent", "delivered", "bounced_permanent", "bounced_transient", "complained",
                         "rejected", "delayed", "suppressed", "failed"}
