"""Order status derivation and the actions-by-status matrix, every cell."""
from __future__ import annotations

import pytest

from chalicelib.services.orders.status import (
    ACTIONS,
    STATUSES,
    ActionNotAllowed,
    allowed_actions,
    derive_status,
    require_action,
)


@pytest.mark.parametrize("paid,states,status", [
    (False, ["valid", "valid"], "unpaid"),
    (False, ["valid", "cancelled"], "unpaid"),
    (False, ["cancelled", "cancelled"], "cancelled"),
    (True, ["valid", "valid"], "complete"),
    (True, ["valid", "cancelled"], "partially_complete"),
    (True, ["valid", "refunded", "refunded"], "partially_complete"),
    (True, ["refunded", "refunded"], "refunded"),
    (True, ["cancelled"], "cancelled"),
    (True, ["cancelled", "refunded"], "refunded_cancelled"),
    (False, ["refunded"], "refunded"),
])
def test_status_follows_tickets_and_payment(paid, states, status):
    assert derive_status(paid, states) == status


def test_an_order_without_tickets_has_no_status():
    with pytest.raises(ValueError):
        derive_status(True, [])


# The domain's table (DOMAIN §2), cell by cell: action -> statuses where it is allowed.
DOMAIN_TABLE = {
    "mark_paid": {"unpaid"},
    "resend_confirmation": {"complete"},
    "view_ticket": {"unpaid", "complete", "cancelled"},
    "view_receipt": {"complete", "refunded", "cancelled"},
    "view_invoice": {"unpaid", "complete", "cancelled"},
    "refund": {"complete", "cancelled"},
    "cancel": {"unpaid", "complete"},
}


@pytest.mark.parametrize("action", sorted(DOMAIN_TABLE))
@pytest.mark.parametrize("status", ["unpaid", "complete", "refunded", "cancelled"])
def test_every_cell_of_the_domain_matrix(action, status):
    if status in DOMAIN_TABLE[action]:
        require_action(status, action)
        assert action in allowed_actions(status)
    else:
        with pytest.raises(ActionNotAllowed):
            require_action(status, action)


def test_partially_complete_acts_as_complete_and_every_status_is_covered():
    assert {a for a in ACTIONS if "partially_complete" in ACTIONS[a]} == \
        {a for a in ACTIONS if "complete" in ACTIONS[a]}
    assert all(status in STATUSES for statuses in ACTIONS.values() for status in statuses)


def test_ticket_actions_follow_the_ticket_and_the_order():
    from chalicelib.services.orders.status import ticket_actions

    assert ticket_actions("complete", True, "valid") == ["view_ticket", "cancel", "refund", "resend_confirmation"]
    assert ticket_actions("partially_complete", True, "cancelled") == ["refund"]
    assert ticket_actions("partially_complete", True, "refunded") == []
    assert ticket_actions("unpaid", False, "valid") == ["view_ticket", "cancel"]
    assert ticket_actions("cancelled", False, "cancelled") == []


def test_an_order_never_paid_offers_no_refund():
    from chalicelib.services.orders.status import order_actions

    assert "refund" not in order_actions("cancelled", False)
    assert "refund" in order_actions("cancelled", True)
