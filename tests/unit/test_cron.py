"""The local EventBridge schedule evaluator (devtools.schedules): cron and rate, UTC."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from chalice.app import Cron, Rate

from devtools.schedules import CronSchedule, InvalidSchedule, RateSchedule, aws_day_of_week, parse_schedule


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def firings(expression: str, start: datetime, count: int) -> list[datetime]:
    schedule, moment, found = parse_schedule(expression), start, []
    for _ in range(count):
        moment = schedule.next_after(moment)
        found.append(moment)
    return found


def test_aws_numbers_days_of_week_from_sunday():
    assert aws_day_of_week(utc(2024, 3, 3).date()) == 1  # Sunday
    assert aws_day_of_week(utc(2024, 3, 4).date()) == 2  # Monday
    assert aws_day_of_week(utc(2024, 3, 9).date()) == 7  # Saturday


def test_daily_cron_fires_next_morning_once_past_today():
    assert firings("cron(0 8 * * ? *)", utc(2024, 3, 1, 7, 59), 2) == [utc(2024, 3, 1, 8, 0), utc(2024, 3, 2, 8, 0)]
    assert firings("cron(0 8 * * ? *)", utc(2024, 3, 1, 8, 0), 1) == [utc(2024, 3, 2, 8, 0)]


def test_weekdays_by_name_skip_the_weekend():
    friday_evening = utc(2024, 3, 1, 18, 0)
    assert firings("cron(30 6 ? * MON-FRI *)", friday_evening, 2) == [utc(2024, 3, 4, 6, 30), utc(2024, 3, 5, 6, 30)]


def test_steps_lists_and_ranges():
    assert firings("cron(0/15 * * * ? *)", utc(2024, 1, 1, 10, 7), 3) == [
        utc(2024, 1, 1, 10, 15), utc(2024, 1, 1, 10, 30), utc(2024, 1, 1, 10, 45)]
    assert firings("cron(5,35 9-10 * * ? *)", utc(2024, 1, 1, 9, 40), 3) == [
        utc(2024, 1, 1, 10, 5), utc(2024, 1, 1, 10, 35), utc(2024, 1, 2, 9, 5)]
    assert firings("cron(0 */6 * * ? *)", utc(2024, 1, 1, 0, 0), 2) == [utc(2024, 1, 1, 6), utc(2024, 1, 1, 12)]


def test_day_of_month_month_names_and_year():
    assert firings("cron(0 0 1 JAN,JUL ? 2025-2026)", utc(2024, 5, 5), 4) == [
        utc(2025, 1, 1), utc(2025, 7, 1), utc(2026, 1, 1), utc(2026, 7, 1)]
    assert parse_schedule("cron(0 0 1 JAN ? 2025)").next_after(utc(2025, 1, 1, 0, 0)) is None


def test_day_31_only_in_long_months_and_impossible_dates_never_fire():
    assert firings("cron(0 12 31 * ? *)", utc(2024, 4, 1), 2) == [utc(2024, 5, 31, 12), utc(2024, 7, 31, 12)]
    assert parse_schedule("cron(0 0 30 2 ? *)").next_after(utc(2024, 1, 1)) is None


def test_feb_29_waits_for_a_leap_year():
    assert firings("cron(0 0 29 2 ? *)", utc(2024, 3, 1), 1) == [utc(2028, 2, 29)]


def test_times_are_utc_whatever_zone_is_asked():
    paris = timezone(timedelta(hours=1))
    nine_paris = datetime(2024, 1, 10, 9, 0, tzinfo=paris)  # 08:00 UTC
    assert parse_schedule("cron(0 8 * * ? *)").matches(nine_paris)
    assert parse_schedule("cron(0 8 * * ? *)").next_after(nine_paris) == utc(2024, 1, 11, 8)


def test_chalice_objects_are_accepted():
    assert parse_schedule(Cron(0, 8, "*", "*", "?", "*")).next_after(utc(2024, 1, 1)) == utc(2024, 1, 1, 8)
    assert parse_schedule(Rate(1, unit=Rate.HOURS)).period == timedelta(hours=1)
    assert parse_schedule(Rate(5, unit=Rate.MINUTES)).period == timedelta(minutes=5)


def test_rate_counts_periods_from_its_anchor():
    rate = RateSchedule.parse("rate(5 minutes)")
    anchor = utc(2024, 1, 1, 10, 2, 30)
    assert rate.next_after(anchor, anchor=anchor) == utc(2024, 1, 1, 10, 7, 30)
    assert rate.next_after(utc(2024, 1, 1, 10, 7, 30), anchor=anchor) == utc(2024, 1, 1, 10, 12, 30)
    assert rate.next_after(utc(2024, 1, 1, 11, 0), anchor=anchor) == utc(2024, 1, 1, 11, 2, 30)


@pytest.mark.parametrize("expression", [
    "rate(1 minutes)", "rate(5 minute)", "rate(0 minutes)", "rate(3 weeks)", "rate(five minutes)",
    "cron(0 8 * * * *)",        # both day fields given
    "cron(0 8 ? * ? *)",        # neither day field given
    "cron(0 8 * * ?)",          # five fields
    "cron(60 8 * * ? *)", "cron(0 24 * * ? *)", "cron(0 8 0 * ? *)", "cron(0 8 * 13 ? *)",
    "cron(0 8 ? * 8 *)", "cron(0 8 L * ? *)", "cron(0 8 ? * 6#3 *)", "cron(0 8 15W * ? *)",
    "cron(0 10-8 * * ? *)", "cron(0/0 8 * * ? *)", "cron(? 8 * * ? *)", "at(2024-01-01T00:00:00)",
])
def test_expressions_eventbridge_refuses_are_refused(expression):
    with pytest.raises(InvalidSchedule):
        parse_schedule(expression)


def test_matches_ignores_seconds():
    cron = CronSchedule.parse("cron(15 10 ? * WED *)")
    assert cron.matches(utc(2024, 1, 3, 10, 15, 42))
    assert not cron.matches(utc(2024, 1, 4, 10, 15))
