"""A credit or donation for a buyer without a customer record makes that record in the
settlement's own transaction: concurrent submits leave one contact (the one the order names),
a settlement that fails leaves none, and a later settlement of the same order reuses it."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from chalicelib.adapters import clock
from chalicelib.errors import ConcurrentChange
from chalicelib.models.contacts import Contact
from chalicelib.models.orders import Order
from chalicelib.services.campaigns import affected_customers, campaigns, refund_page
from chalicelib.services.campaigns.refund_links import PageAddress
from chalicelib.services.money import customer_money
from chalicelib.services.orders import orders
from chalicelib.services.shared.audit import history
from tests.job_helpers import drive, ensure_jobs_queue
from tests.money_helpers import paid_cheque_order
from tests.orders_world import build_world, line


@pytest.fixture
def world(actor):
    return build_world(actor)


def _contacts(actor) -> list[Contact]:
    return list(Contact.query(actor.tenant_id, consistent_read=True))


def test_six_concurrent_credit_submits_on_the_refund_page_make_one_contact(actor, world, pump):
    order = paid_cheque_order(actor, world, line(world), line(world, world.reduced))
    assert order.buyer.contact_id is None and _contacts(actor) == []
    ensure_jobs_queue()
    made = campaigns.create_campaign(actor, {"performance_id": world.evening.id, "kind": "cancellation",
                                             "refund_deadline": clock.now() + timedelta(days=14)})
    drive(pump, actor.tenant_id, made.build_job_id)
    address = PageAddress(actor.tenant_id, made.id, order.id)

    def submit(_):
        return refund_page.choose(refund_page.page_for(address), "credit", iban=None, holder=None, staff=None)

    with ThreadPoolExecutor(max_workers=6) as pool:
        pages = list(pool.map(submit, range(6)))

    [contact] = _contacts(actor)
    assert (contact.last_name, [email.address for email in contact.emails]) == ("Lefèvre", ["elodie@exemple.fr"])
    assert orders.get_order(actor, order.id).buyer.contact_id == contact.id
    [entry] = customer_money.credit_history(actor, contact.id, limit=50, cursor=None).items
    assert entry.amount_cents == 5300 and entry.contact_id == contact.id
    assert customer_money.credit_account(actor, contact.id).balance_cents == 5300
    [created] = history(actor, "contact", contact.id, limit=10, cursor=None).items
    assert (created.action, created.actor) == ("create", "system:refund-page")
    customer = affected_customers.get_customer(actor, made.id, order.id)
    assert (customer.choice, customer.choice_reference) == ("credit", entry.entry_id)
    assert {page.customer.choice for page in pages} == {"credit"}


def test_a_settlement_whose_transaction_fails_writes_no_contact(actor, world, monkeypatch):
    order = paid_cheque_order(actor, world)
    real_write = customer_money.write_ticket_change

    def order_changed_meanwhile(writer, change):
        stale = Order.get(actor.tenant_id, order.id, consistent_read=True)
        stale.save()  # another write moves the order's version past the one this settlement read
        return real_write(writer, change)

    monkeypatch.setattr(customer_money, "write_ticket_change", order_changed_meanwhile)
    with pytest.raises(ConcurrentChange):
        customer_money.credit_tickets(actor, order.id, [1])
    with pytest.raises(ConcurrentChange):
        customer_money.donate_tickets(actor, order.id, [1])

    assert _contacts(actor) == []
    stored = orders.get_order(actor, order.id)
    assert stored.buyer.contact_id is None and int(stored.credited_cents or 0) == 0
    assert [ticket.settlement for ticket in orders.tickets_of(stored)] == [None]


def test_a_donation_then_a_credit_on_one_order_share_the_contact_made_first(actor, world):
    order = paid_cheque_order(actor, world, line(world), line(world, world.reduced))
    donation = customer_money.donate_tickets(actor, order.id, [1])
    entry = customer_money.credit_tickets(actor, order.id, [2])

    [contact] = _contacts(actor)
    assert donation.contact_id == entry.contact_id == contact.id
    assert orders.get_order(actor, order.id).buyer.contact_id == contact.id
    assert (donation.amount_cents, entry.amount_cents) == (3200, 2100)
    assert [event.action for event in history(actor, "contact", contact.id, limit=10, cursor=None).items] == [
        "create"]
