"""Local days and quiet windows on a venue's clock, across daylight-saving changes."""
from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from chalicelib.values.local_time import clock_time, end_of_local_day, in_quiet_window, local_day


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def test_a_late_evening_in_paris_is_already_the_next_day_in_utc_terms_or_not():
    assert local_day(utc("2026-12-31T23:30:00"), "Europe/Paris") == date(2027, 1, 1)
    assert local_day(utc("2027-07-14T21:59:00"), "Europe/Paris") == date(2027, 7, 14)
    assert local_day(utc("2027-07-14T22:00:00"), "Europe/Paris") == date(2027, 7, 15)


@pytest.mark.parametrize("day, end", [(date(2027, 3, 27), "2027-03-27T23:00:00"),  # winter: UTC+1
                                      (date(2027, 3, 28), "2027-03-28T22:00:00"),  # the change: a 23-hour day
                                      (date(2027, 10, 30), "2027-10-30T22:00:00"),
                                      (date(2027, 10, 31), "2027-10-31T23:00:00")])  # back: a 25-hour day
def test_the_end_of_a_local_day_follows_the_offset_of_that_day(day, end):
    assert end_of_local_day(day, "Europe/Paris") == utc(end)


@pytest.mark.parametrize("moment, quiet", [("2027-03-27T06:59:00", True), ("2027-03-27T07:00:00", False),
                                           ("2027-03-28T05:59:00", True), ("2027-03-28T06:00:00", False),
                                           ("2027-03-28T18:59:00", False), ("2027-03-28T19:00:00", True),
                                           ("2027-10-31T06:59:00", True), ("2027-10-31T07:00:00", False)])
def test_a_night_window_is_read_on_the_local_clock(moment, quiet):
    assert in_quiet_window(utc(moment), "Europe/Paris", "21:00", "08:00") is quiet


def test_a_day_window_and_no_window():
    assert in_quiet_window(utc("2027-01-10T12:30:00"), "Europe/Paris", "12:00", "14:00")
    assert not in_quiet_window(utc("2027-01-10T14:30:00"), "Europe/Paris", "12:00", "14:00")
    assert not in_quiet_window(utc("2027-01-10T03:00:00"), "Europe/Paris", "00:00", "00:00")


@pytest.mark.parametrize("text", ["8:00", "24:00", "08h00", "٠٨:٠٠", ""])
def test_times_of_day_are_hh_mm(text):
    with pytest.raises(ValueError):
        clock_time(text)
