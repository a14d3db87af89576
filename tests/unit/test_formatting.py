"""Amounts, dates and counts as spectators read them, in French and English."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.values.formatting import count_noun, date_text, datetime_text, money, time_text

NBSP = "\u00a0"
PARIS = "Europe/Paris"


@pytest.mark.parametrize("cents, french, english", [
    (4200, "42,00 €", "€42.00"),
    (0, "0,00 €", "€0.00"),
    (5, "0,05 €", "€0.05"),
    (-4200, "-42,00 €", "-€42.00"),
    (-5, "-0,05 €", "-€0.05"),
    (123456789, "1 234 567,89 €", "€1,234,567.89"),
    (100000, "1 000,00 €", "€1,000.00"),
])
def test_money_in_french_and_english(cents, french, english):
    assert money(cents, "EUR", "fr") == french.replace(" ", NBSP)
    assert money(cents, "EUR", "en") == english


def test_money_other_currencies_and_defaults():
    assert money(4200) == f"42,00{NBSP}€"
    assert money(500, "GBP", "en") == "£5.00"
    assert money(500, "CHF", "fr") == f"5,00{NBSP}CHF"
    assert money(500, "CHF", "en") == f"CHF{NBSP}5.00"
    assert money(1500, "JPY", "en") == f"JPY{NBSP}1,500"  # no minor unit
    assert money(4200, "eur", "en-GB") == "€42.00"
    assert money(4200, "EUR", "de") == f"42,00{NBSP}€"  # any other language is written in French


@pytest.mark.parametrize("wrong", [42.0, "4200", None, True])
def test_money_refuses_anything_but_int_cents(wrong):
    with pytest.raises(TypeError):
        money(wrong)


def test_dates_in_french_and_english():
    moment = datetime(2026, 12, 12, 19, 30, tzinfo=timezone.utc)  # winter: Paris is UTC+1
    assert datetime_text(moment, PARIS, "fr") == f"samedi 12 décembre 2026 à 20{NBSP}h{NBSP}30"
    assert datetime_text(moment, PARIS, "en") == "Saturday 12 December 2026, 8:30 pm"
    assert date_text(moment, PARIS, "fr") == "samedi 12 décembre 2026"
    assert date_text(date(2026, 12, 1), language="fr") == "mardi 1er décembre 2026"
    assert date_text(date(2026, 12, 1), language="en") == "Tuesday 1 December 2026"
    assert date_text(date(2026, 8, 15)) == "samedi 15 août 2026"


def test_times_on_the_hour_midnight_and_noon():
    assert time_text(datetime(2026, 1, 10, 19, 0, tzinfo=timezone.utc), PARIS, "fr") == f"20{NBSP}h"
    assert time_text(datetime(2026, 1, 10, 19, 5, tzinfo=timezone.utc), PARIS, "fr") == f"20{NBSP}h{NBSP}05"
    assert time_text(datetime(2026, 1, 10, 23, 0, tzinfo=timezone.utc), PARIS, "fr") == f"0{NBSP}h"
    assert time_text(datetime(2026, 1, 10, 23, 0, tzinfo=timezone.utc), PARIS, "en") == "12:00 am"
    assert time_text(datetime(2026, 1, 10, 11, 0, tzinfo=timezone.utc), PARIS, "en") == "12:00 pm"


def test_the_clock_follows_daylight_saving_time_in_paris():
    # 2026: summer time from Sunday 29 March (01:00 UTC) to Sunday 25 October (01:00 UTC).
    before_spring = datetime(2026, 3, 28, 19, 30, tzinfo=timezone.utc)
    after_spring = datetime(2026, 3, 29, 18, 30, tzinfo=timezone.utc)
    assert datetime_text(before_spring, PARIS) == f"samedi 28 mars 2026 à 20{NBSP}h{NBSP}30"
    assert datetime_text(after_spring, PARIS) == f"dimanche 29 mars 2026 à 20{NBSP}h{NBSP}30"
    change = datetime(2026, 3, 29, 1, 0, tzinfo=timezone.utc)
    assert time_text(change - timedelta(minutes=1), PARIS, "en") == "1:59 am"
    assert time_text(change, PARIS, "en") == "3:00 am"
    # autumn: 02:30 local happens twice; both instants are shown on the local clock
    assert time_text(datetime(2026, 10, 25, 0, 30, tzinfo=timezone.utc), PARIS, "fr") == f"2{NBSP}h{NBSP}30"
    assert time_text(datetime(2026, 10, 25, 1, 30, tzinfo=timezone.utc), PARIS, "fr") == f"2{NBSP}h{NBSP}30"
    assert datetime_text(datetime(2026, 10, 31, 19, 0, tzinfo=timezone.utc), PARIS, "en") == \
        "Saturday 31 October 2026, 8:00 pm"


def test_the_day_is_the_day_in_the_zone_not_in_utc():
    late = datetime(2026, 12, 31, 23, 30, tzinfo=timezone.utc)  # already 1 January in Paris
    assert date_text(late, PARIS, "fr") == "vendredi 1er janvier 2027"
    assert date_text(late, "America/Montreal", "fr") == "jeudi 31 décembre 2026"
    other_offset = datetime(2026, 12, 12, 21, 30, tzinfo=timezone(timedelta(hours=2)))
    assert datetime_text(other_offset, PARIS, "en") == "Saturday 12 December 2026, 8:30 pm"


def test_naive_datetimes_and_unknown_zones_are_refused():
    with pytest.raises(ValueError):
        datetime_text(datetime(2026, 12, 12, 20, 30), PARIS)
    with pytest.raises(ValueError):
        datetime_text(datetime(2026, 12, 12, 20, 30, tzinfo=timezone.utc), "Europe/Atlantis")
    with pytest.raises(ValueError):
        datetime_text(datetime(2026, 12, 12, 20, 30, tzinfo=timezone.utc), "")


def test_count_noun_follows_each_language():
    assert count_noun(0, "billet", "billets") == "0 billet"
    assert count_noun(1, "billet", "billets") == "1 billet"
    assert count_noun(2, "billet", "billets") == "2 billets"
    assert count_noun(0, "ticket", "tickets", "en") == "0 tickets"
    assert count_noun(1, "ticket", "tickets", "en") == "1 ticket"
