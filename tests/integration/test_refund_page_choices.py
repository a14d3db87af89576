"""The refund page's choice and the money always agree: concurrent submits, a concurrent buyer
edit, a crash between the money and the record, tickets settled by staff, a refusal that moved
nothing. Each ends with the recorded choice naming the one money movement that carries it."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest

from chalicelib.adapters import clock
from chalicelib.errors import DomainError
from chalicelib.models.money import CreditEntry
from chalicelib.services.campaigns import affected_customers, campaigns, refund_page
from chalicelib.services.campaigns.refund_links import PageAddress
from chalicelib.services.money import customer_money, refunds
from chalicelib.services.money.quotes import OverRefund
from chalicelib.services.orders import orders
from tests.job_helpers import drive, ensure_jobs_queue
from tests.money_helpers import paid_card_order, paid_cheque_order, refunds_at_stripe
from tests.orders_world import build_world, line


@pytest.fixture
def world(actor):
    return build_world(actor)


def _campaign(actor, world, pump):
    ensure_jobs_queue()
    made = campaigns.create_campaign(actor, {"performance_id": world.evening.id, "kind": "cancellation",
                                             "refund_deadline": clock.now() + timedelta(days=14)})
    drive(pump, actor.tenant_id, made.build_job_id)
    return campaigns.get_campaign(actor, made.id)


def _address(actor, campaign, order) -> PageAddress:
    return PageAddress(actor.tenant_id, campaign.id, order.id)


def _settlements(actor, order) -> set[tuple[str, str]]:
    return {(t.settlement, t.settlement_id) for t in orders.tickets_of(orders.get_order(actor, order.id))
            if t.settlement}


def _credit_entries(actor, contact_id) -> list[CreditEntry]:
    return customer_money.credit_history(actor, contact_id, limit=50, cursor=None).items


def test_eight_concurrent_submits_of_credit_make_one_credit_and_record_it(actor, world, pump):
    order = paid_cheque_order(actor, world, line(world), line(world, world.reduced))
    campaign = _campaign(actor, world, pump)
    address = _address(actor, campaign, order)

    def submit(_):
        return refund_page.choose(refund_page.page_for(address), "credit", iban=None, holder=None, staff=None)

    with ThreadPoolExecutor(max_workers=8) as pool:
        pages = list(pool.map(submit, range(8)))

    [(settlement, reference)] = _settlements(actor, order)
    contact_id = orders.get_order(actor, order.id).buyer.contact_id
    [entry] = _credit_entries(actor, contact_id)
    assert (settlement, reference) == ("credit", entry.entry_id) and entry.amount_cents == 5300
    assert customer_money.credit_account(actor, contact_id).balance_cents == 5300
    customer = affected_customers.get_customer(actor, campaign.id, order.id)
    assert (customer.state, customer.choice, customer.choice_reference, customer.chosen_by) == (
        "made_choices", "credit", reference, "spectator")
    assert {page.customer.choice for page in pages} == {"credit"}  # every tab shows the choice made


def test_concurrent_card_refund_submits_refund_once_at_stripe(actor, world, pump):
    order = paid_card_order(actor, world)
    campaign = _campaign(actor, world, pump)
    address = _address(actor, campaign, order)

    def submit(_):
        return refund_page.choose(refund_page.page_for(address), "refund", iban=None, holder=None, staff=None)

    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(submit, range(6)))

    [at_stripe] = refunds_at_stripe(order.payment_intent_id)
    [refund] = refunds.refunds_of_order(actor, order.id)
    assert at_stripe.amount == 3200 and refund.stripe_refund_id == at_stripe.id
    customer = affected_customers.get_customer(actor, campaign.id, order.id)
    assert (customer.choice, customer.choice_reference) == ("refund", refund.refund_id)


def test_a_buyer_edit_landing_during_the_choice_is_retried_from_fresh_reads(actor, world, pump, monkeypatch):
    order = paid_cheque_order(actor, world)
    campaign = _campaign(actor, world, pump)
    real_write = customer_money.write_ticket_change
    edits = []

    def staff_edits_the_buyer_first(writer, change):
        if not edits:  # staff save the buyer's new address between our read and our write
            edits.append(orders.edit_buyer(actor, order.id, {"email": "nouvelle.adresse@exemple.fr"}))
        return real_write(writer, change)

    monkeypatch.setattr(customer_money, "write_ticket_change", staff_edits_the_buyer_first)
    page = refund_page.choose(refund_page.page_for(_address(actor, campaign, order)), "donation", iban=None,
                              holder=None, staff=None)

    [(settlement, reference)] = _settlements(actor, order)
    assert settlement == "donation" and page.customer.choice_reference == reference
    stored = orders.get_order(actor, order.id)
    assert stored.buyer.email == "nouvelle.adresse@exemple.fr"  # the edit was kept, not overwritten
    assert int(stored.donated_cents) == 3200


def test_a_crash_between_the_money_and_the_record_is_recorded_at_the_next_visit(actor, world, pump, monkeypatch):
    order = paid_cheque_order(actor, world)
    campaign = _campaign(actor, world, pump)
    address = _address(actor, campaign, order)
    real_record = affected_customers.record_choice

    def lambda_dies(*args, **kwargs):
        raise RuntimeError("the Lambda ran out of time")

    monkeypatch.setattr(affected_customers, "record_choice", lambda_dies)
    with pytest.raises(RuntimeError):
        refund_page.choose(refund_page.page_for(address), "credit", iban=None, holder=None, staff="alice")
    [(settlement, reference)] = _settlements(actor, order)
    assert affected_customers.get_customer(actor, campaign.id, order.id).choice is None  # the money moved, alone

    monkeypatch.setattr(affected_customers, "record_choice", real_record)
    page = refund_page.page_for(address)  # the spectator (or staff) opens the page again
    assert (page.customer.choice, page.customer.choice_reference, page.customer.chosen_by) == (
        "credit", reference, "staff:alice")
    again = refund_page.choose(page, "credit", iban=None, holder=None, staff=None)  # and submits again
    assert again.customer.choice_reference == reference
    assert len(_credit_entries(actor, orders.get_order(actor, order.id).buyer.contact_id)) == 1


def test_a_second_submit_after_a_lost_record_shows_the_movement_made(actor, world, pump, monkeypatch):
    order = paid_cheque_order(actor, world)
    campaign = _campaign(actor, world, pump)
    address = _address(actor, campaign, order)
    stale = refund_page.page_for(address)  # the first tab, opened before anything moved
    monkeypatch.setattr(affected_customers, "record_choice", lambda *a, **k: (_ for _ in ()).throw(OSError("reset")))
    with pytest.raises(OSError):
        refund_page.choose(refund_page.page_for(address), "donation", iban=None, holder=None, staff=None)
    monkeypatch.undo()

    page = refund_page.choose(stale, "donation", iban=None, holder=None, staff=None)  # the stale tab submits
    [(settlement, reference)] = _settlements(actor, order)
    assert (page.customer.choice, page.customer.choice_reference) == ("donation", reference)
    assert int(orders.get_order(actor, order.id).donated_cents) == 3200  # not twice


def test_tickets_refunded_by_staff_are_not_taken_for_the_customers_choice(actor, world, pump):
    order = paid_cheque_order(actor, world)
    campaign = _campaign(actor, world, pump)
    refunds.request_refund(actor, order.id, [1], bank=refunds.BankAccount("FR7630006000011234567890189", "E L"))
    page = refund_page.page_for(_address(actor, campaign, order))
    assert page.customer.choice is None and page.offered == [] and page.choices == []


def test_a_refusal_that_moved_nothing_records_nothing_and_says_so(actor, world, pump, monkeypatch):
    order = paid_cheque_order(actor, world)
    campaign = _campaign(actor, world, pump)

    def over(*args, **kwargs):
        raise OverRefund("The order received 0 cents; 3200 cannot go back.")

    monkeypatch.setattr(customer_money, "credit_tickets", over)
    with pytest.raises(refund_page.ChoiceNotMade) as refused:
        refund_page.choose(refund_page.page_for(_address(actor, campaign, order)), "credit", iban=None, holder=None,
                           staff=None)
    assert refund_page.field_reasons(refused.value, "fr")["choice"].startswith("Ce montant ne peut pas")
    assert affected_customers.get_customer(actor, campaign.id, order.id).choice is None
    assert _settlements(actor, order) == set()


def test_a_visit_landing_during_the_record_cannot_lose_the_choice(actor, world, pump, monkeypatch):
    order = paid_cheque_order(actor, world)
    campaign = _campaign(actor, world, pump)
    address = _address(actor, campaign, order)
    real_record = affected_customers.record_choice

    def the_page_is_read_meanwhile(customer, **choice):
        fresh = affected_customers.get_customer(actor, campaign.id, order.id)
        fresh.move_to("mail_read")
        affected_customers.save_if_state(fresh, fresh.state if fresh.state == "mail_read" else "not_notified")
        return real_record(customer, **choice)

    monkeypatch.setattr(affected_customers, "record_choice", the_page_is_read_meanwhile)
    page = refund_page.choose(refund_page.page_for(address), "credit", iban=None, holder=None, staff=None)
    [(_, reference)] = _settlements(actor, order)
    assert (page.customer.state, page.customer.choice_reference) == ("made_choices", reference)


def test_a_missing_iban_is_said_in_french_beside_its_field(actor, world, pump):
    order = paid_cheque_order(actor, world)
    campaign = _campaign(actor, world, pump)
    page = refund_page.page_for(_address(actor, campaign, order))
    with pytest.raises(DomainError) as refused:
        refund_page.choose(page, "refund", iban=None, holder=None, staff=None)
    assert refund_page.field_reasons(refused.value, "fr") == {"iban": "Indiquez l'IBAN du compte à rembourser."}
