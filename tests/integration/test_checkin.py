"""Check-in at the door: a paid, valid ticket's QR value admits its attendee; the same value
is refused once the ticket is cancelled or refunded, for an unpaid order, after the code is
renewed, at another organisation's door, and when altered."""
from __future__ import annotations

import pytest

from chalicelib.models.base import tenant_key
from chalicelib.models.orders import Ticket
from chalicelib.services.documents.checkin import CheckinRefused, check_in, checkin_value
from chalicelib.services.orders import orders
from chalicelib.services.shared.actors import Actor
from tests.conftest import new_tenant_id
from tests.orders_world import build_world, draft, line


@pytest.fixture
def sold(actor):
    world = build_world(actor)
    order, tickets = orders.place_order(actor, draft(world, line(world, attendee_name="Léa Martin"), line(world)))
    return order, tickets


def refused(actor, value) -> str:
    with pytest.raises(CheckinRefused) as error:
        check_in(actor, value)
    assert error.value.status == 409
    return error.value.reason


def stored(actor, order, position) -> Ticket:
    return Ticket.get(tenant_key(actor.tenant_id, order.id), position, consistent_read=True)


def test_a_valid_ticket_checks_in(actor, sold):
    order, tickets = sold
    admitted = check_in(actor, checkin_value(tickets[0]))
    assert (admitted.order_id, admitted.position, admitted.attendee_name) == (order.id, 1, "Léa Martin")
    assert check_in(actor, checkin_value(tickets[1])).position == 2


@pytest.mark.parametrize("state", ["cancelled", "refunded"])
def test_a_cancelled_or_refunded_ticket_is_refused(actor, sold, state):
    order, tickets = sold
    value = checkin_value(tickets[0])
    ticket = stored(actor, order, 1)
    ticket.state = state  # the cancel and refund services come later; their effect on the ticket is this
    ticket.save()
    assert refused(actor, value) == state
    assert check_in(actor, checkin_value(tickets[1])).position == 2, "the other ticket still admits"


def test_a_renewed_code_voids_the_printed_one(actor, sold):
    order, tickets = sold
    old_value = checkin_value(tickets[0])
    ticket = stored(actor, order, 1)
    ticket.checkin_code = "renewed-code-123"
    ticket.save()
    assert refused(actor, old_value) == "superseded"
    assert check_in(actor, checkin_value(ticket)).position == 1


def test_an_unpaid_order_s_ticket_does_not_admit_until_paid(actor):
    world = build_world(actor)
    order, tickets = orders.place_order(actor, draft(world, payment_type="cheque"))
    assert refused(actor, checkin_value(tickets[0])) == "unpaid"
    orders.mark_paid(actor, order.id)
    assert check_in(actor, checkin_value(tickets[0])).position == 1


def test_another_organisation_s_door_refuses_it_as_unknown(actor, sold):
    _, tickets = sold
    elsewhere = Actor(tenant_id=new_tenant_id(), subject="door-2", roles=frozenset({"staff"}))
    assert refused(elsewhere, checkin_value(tickets[0])) == "unknown"


def test_an_altered_or_unknown_value_is_refused(actor, sold):
    _, tickets = sold
    value = checkin_value(tickets[0])
    assert refused(actor, value[:-2] + ("zz" if not value.endswith("zz") else "yy")) == "forged"
    ghost = Ticket(tenant_id=actor.tenant_id, order_id=tickets[0].order_id, position=7, checkin_code="x")
    assert refused(actor, checkin_value(ghost)) == "unknown"
