"""The pure money rules: IBANs checked as banks check them, what a fee policy keeps, what each
ticket was paid (the shares add up to the order's total, to the cent), and which figures a
ledger entry moves."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.models.money import LedgerEntry, LedgerLine
from chalicelib.models.orders import Order, Ticket
from chalicelib.services.ledger import ledger
from chalicelib.services.money.quotes import FeePolicy
from chalicelib.services.orders import orders
from chalicelib.values import bank_accounts


@pytest.mark.parametrize("typed, stored", [
    ("FR76 3000 6000 0112 3456 7890 189", "FR7630006000011234567890189"),
    ("fr7630006000011234567890189", "FR7630006000011234567890189"),
    ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
    ("BE68-5390-0754-7034", "BE68539007547034"),
])
def test_real_ibans_are_accepted_and_normalised(typed, stored):
    assert bank_accounts.check_iban(typed) == stored


@pytest.mark.parametrize("typed, says", [
    ("FR76 3000 6000 0112 3456 7890 188", "mistyped"),
    ("FR76 3000 6000 0112 3456 7890", "has 27 characters"),
    ("US12 3456 7890", "not accepted"),
    ("3000 6000 0112", "starts with two letters"),
])
def test_wrong_ibans_are_refused_saying_what_is_wrong(typed, says):
    with pytest.raises(bank_accounts.InvalidIban, match=says):
        bank_accounts.check_iban(typed)


def test_an_iban_is_shown_masked_but_recognisable():
    assert bank_accounts.masked("FR7630006000011234567890189") == "FR76 **** **** **** **** ***0 189"


@pytest.mark.parametrize("policy, paid, kept", [
    (FeePolicy(), 3200, 0),
    (FeePolicy("fixed", fixed_cents=150), 3200, 150),
    (FeePolicy("fixed", fixed_cents=5000), 3200, 3200),  # never more than the ticket was paid
    (FeePolicy("percent", percent_bp=1000), 2890, 289),
    (FeePolicy("percent", percent_bp=250), 2100, 53),  # 52.5 rounds half up
])
def test_a_fee_policy_keeps_what_it_says(policy, paid, kept):
    assert policy.kept(paid) == kept


@given(prices=st.lists(st.integers(0, 50_000), min_size=1, max_size=40), discount=st.integers(0, 100_000))
def test_what_each_ticket_was_paid_adds_up_to_the_order_total(prices, discount):
    discount = min(discount, sum(prices))
    order = Order(discount_cents=discount)
    tickets = [Ticket(position=position, price_cents=price) for position, price in enumerate(prices, start=1)]
    shares = orders.paid_per_ticket(order, tickets)
    assert sum(shares.values()) == sum(prices) - discount
    assert all(0 <= shares[position] <= price for position, price in enumerate(prices, start=1))


def test_a_ledger_entry_moves_its_performance_show_season_and_tenant_and_nothing_else():
    entry = LedgerEntry(tenant_id="t1", lines=[
        LedgerLine(performance_id="P1", product_id="S1", season_id="Y1", tickets_sold=2, gross_sales_cents=6400),
        LedgerLine(performance_id="P2", product_id="S1", season_id=None, tickets_refunded=1, refunds_cents=2100,
                   tickets_cancelled=-1)])
    moved = ledger.scope_figures(entry)
    assert moved[("performance", "P1")] == {"tickets_sold": 2, "gross_sales_cents": 6400}
    assert moved[("product", "S1")] == {"tickets_sold": 2, "gross_sales_cents": 6400, "tickets_refunded": 1,
                                        "refunds_cents": 2100, "tickets_cancelled": -1}
    assert moved[("season", "Y1")] == {"tickets_sold": 2, "gross_sales_cents": 6400}
    assert moved[("tenant", "t1")] == moved[("product", "S1")]
    assert set(moved) == {("performance", "P1"), ("performance", "P2"), ("product", "S1"), ("season", "Y1"),
                          ("tenant", "t1")}
