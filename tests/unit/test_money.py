"""Sharing amounts to the cent, and VAT included in prices."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.values.cents import allocate, vat_included


@given(st.integers(0, 10**7), st.lists(st.integers(0, 10**6), min_size=1, max_size=40))
def test_allocation_sums_exactly_and_stays_proportional(amount, weights):
    shares = allocate(amount, weights)
    if sum(weights) == 0:
        assert shares == [0] * len(weights)
        return
    assert sum(shares) == amount
    for share, weight in zip(shares, weights):
        exact = amount * weight / sum(weights)
        assert abs(share - exact) < 1


def test_vat_included_in_french_show_prices():
    assert vat_included(5000, 550) == 261  # 5000 * 5.5 / 105.5 = 260.66
    assert vat_included(1055, 550) == 55
    assert vat_included(12000, 2000) == 2000
    assert vat_included(0, 550) == 0


@pytest.mark.parametrize("typed, cents", [("12", 1200), ("12,5", 1250), ("12,50", 1250), ("12.05", 1205),
                                          ("1 234,50 €", 123450), ("0", 0), ("\u202f7,00", 700)])
def test_amounts_typed_in_euros_become_cents(typed, cents):
    from chalicelib.values.cents import from_typed

    assert from_typed(typed) == cents


@pytest.mark.parametrize("typed", ["", "-3", "12,505", "douze", "12,", "1e3", "12.5.0"])
def test_what_is_not_an_amount_is_refused(typed):
    from chalicelib.values.cents import from_typed

    with pytest.raises(ValueError):
        from_typed(typed)
