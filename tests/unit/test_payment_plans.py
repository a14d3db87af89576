"""Season subscriptions paid in instalments (what a payer is debited, and on which days) and the
tacit-renewal notice window (the exact instants the notice may go), on a venue's clock."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.values.payment_plans import (
    Instalment,
    NoticeWindow,
    PaymentPlan,
    add_months,
    due_at,
    notice_window,
    schedule,
)

PARIS = "Europe/Paris"
ONCE = PaymentPlan("once", "En une fois", 1)
THREE = PaymentPlan("3x", "En 3 fois", 3)
TEN = PaymentPlan("10x", "En 10 fois", 10)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


def paris_noon(day: date) -> datetime:
    """A purchase in the middle of ``day`` in Paris (10:00 UTC: 11:00 or 12:00 there)."""
    return datetime(day.year, day.month, day.day, 10, tzinfo=timezone.utc)


def due_days(instalments: list[Instalment]) -> list[date]:
    return [instalment.due_on for instalment in instalments]


def amounts(instalments: list[Instalment]) -> list[int]:
    return [instalment.amount_cents for instalment in instalments]


# Amounts


def test_paying_at_once_is_one_debit_of_the_total_on_the_purchase_day():
    assert schedule(ONCE, 24_000, utc("2027-06-12T09:00:00"), PARIS) == [Instalment(1, date(2027, 6, 12), 24_000)]


def test_a_total_that_does_not_divide_puts_the_leftover_cents_on_the_last_instalment():
    assert amounts(schedule(THREE, 10_000, utc("2027-06-12T09:00:00"), PARIS)) == [3333, 3333, 3334]
    assert amounts(schedule(TEN, 99_999, utc("2027-06-12T09:00:00"), PARIS)) == [9999] * 9 + [10_008]


def test_instalments_are_numbered_from_one():
    assert [i.number for i in schedule(TEN, 50_000, utc("2027-06-12T09:00:00"), PARIS)] == list(range(1, 11))


def test_the_instalments_always_add_up_to_the_total_and_differ_only_on_the_last():
    purchase = utc("2027-06-12T09:00:00")
    for count in range(1, 25):
        for total in [*range(0, 400), 9_999, 10_000, 123_457, 1_000_001, 99_999_999]:
            paid = amounts(schedule(TEN, total, purchase, PARIS, count=count))
            assert sum(paid) == total, (total, count)
            assert len(paid) == max(1, min(count, total)), (total, count)
            assert len(set(paid[:-1])) <= 1 and 0 <= paid[-1] - paid[0] < len(paid), (total, count)
            assert total == 0 or min(paid) >= 1, (total, count)


def test_a_total_of_zero_is_one_instalment_of_zero_on_the_purchase_day_whatever_the_plan():
    purchase = utc("2027-06-12T09:00:00")
    expected = [Instalment(1, date(2027, 6, 12), 0)]
    assert schedule(TEN, 0, purchase, PARIS) == expected
    assert schedule(PaymentPlan("10x", "En 10 fois", 10, first_at_purchase=False), 0, purchase, PARIS) == expected


def test_nobody_is_debited_zero_when_the_total_has_fewer_cents_than_instalments():
    assert amounts(schedule(TEN, 3, utc("2027-06-12T09:00:00"), PARIS)) == [1, 1, 1]


# Count override (tacit renewal)


def test_a_renewal_keeps_last_seasons_count_with_this_seasons_dates_and_amounts():
    renewed = schedule(TEN, 36_000, utc("2027-07-01T08:00:00"), PARIS, count=3)
    assert renewed == [Instalment(1, date(2027, 7, 1), 12_000), Instalment(2, date(2027, 8, 5), 12_000),
                       Instalment(3, date(2027, 9, 5), 12_000)]


def test_a_renewal_can_spread_a_once_plan_and_gather_a_ten_times_plan():
    purchase = utc("2027-07-01T08:00:00")
    assert amounts(schedule(ONCE, 30_000, purchase, PARIS, count=2)) == [15_000, 15_000]
    assert schedule(TEN, 30_000, purchase, PARIS, count=1) == [Instalment(1, date(2027, 7, 1), 30_000)]


# Days


def test_ten_times_bought_mid_month_is_debited_that_day_then_on_the_fifth_of_each_month():
    assert due_days(schedule(TEN, 100_000, utc("2027-01-20T15:00:00"), PARIS)) == [
        date(2027, 1, 20), *(date(2027, month, 5) for month in range(2, 11))]


@pytest.mark.parametrize("bought, second", [
    (date(2027, 1, 2), date(2027, 2, 5)),    # the 5th three days later is too soon
    (date(2027, 1, 5), date(2027, 2, 5)),    # bought on the plan day itself
    (date(2027, 1, 22), date(2027, 2, 5)),   # exactly 14 days later: kept
    (date(2027, 1, 23), date(2027, 3, 5)),   # 13 days later: the next month's 5th
    (date(2027, 1, 31), date(2027, 3, 5)),   # bought on the last day of the month
    (date(2027, 12, 28), date(2028, 2, 5)),  # across the year end
])
def test_the_second_instalment_is_the_first_fifth_at_least_two_weeks_after_purchase(bought, second):
    days = due_days(schedule(THREE, 30_000, paris_noon(bought), PARIS))
    assert days == [bought, second, add_months(second, 1)]


def test_a_plan_day_late_in_the_month_can_fall_in_the_purchase_month():
    plan = PaymentPlan("3x20", "En 3 fois le 20", 3, day_of_month=20)
    assert due_days(schedule(plan, 30_000, paris_noon(date(2027, 1, 1)), PARIS)) == [
        date(2027, 1, 1), date(2027, 1, 20), date(2027, 2, 20)]


@pytest.mark.parametrize("day_of_month", [1, 5, 15, 28, 29, 30, 31])
def test_no_two_debits_are_less_than_two_weeks_apart_whatever_the_purchase_day(day_of_month):
    plan = PaymentPlan("12x", "En 12 fois", 12, day_of_month=day_of_month)
    for offset in range(366 * 2):
        bought = date(2027, 1, 1) + timedelta(days=offset)
        days = due_days(schedule(plan, 120_000, paris_noon(bought), PARIS))
        gaps = [(later - earlier).days for earlier, later in zip(days, days[1:])]
        assert 14 <= gaps[0] <= 44, (bought, days)
        assert all(28 <= gap <= 31 for gap in gaps[1:]), (bought, days)


@pytest.mark.parametrize("bought, first", [
    (date(2027, 1, 2), date(2027, 1, 5)),
    (date(2027, 1, 5), date(2027, 1, 5)),    # bought on the plan day: due that day
    (date(2027, 1, 6), date(2027, 2, 5)),
    (date(2027, 12, 31), date(2028, 1, 5)),
])
def test_a_plan_not_first_at_purchase_starts_on_the_first_plan_day_on_or_after_purchase(bought, first):
    plan = PaymentPlan("3x", "En 3 fois", 3, first_at_purchase=False)
    assert due_days(schedule(plan, 30_000, paris_noon(bought), PARIS)) == [
        first, add_months(first, 1), add_months(first, 2)]


def test_the_thirty_first_clamps_to_short_months_without_drifting_over_twelve_months():
    plan = PaymentPlan("12x", "En 12 fois le 31", 12, day_of_month=31, first_at_purchase=False)
    assert due_days(schedule(plan, 120_000, paris_noon(date(2027, 1, 10)), PARIS)) == [
        date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31), date(2027, 4, 30), date(2027, 5, 31),
        date(2027, 6, 30), date(2027, 7, 31), date(2027, 8, 31), date(2027, 9, 30), date(2027, 10, 31),
        date(2027, 11, 30), date(2027, 12, 31)]


def test_the_thirtieth_meets_a_leap_february_then_comes_back():
    plan = PaymentPlan("3x", "En 3 fois le 30", 3, day_of_month=30)
    assert due_days(schedule(plan, 30_000, paris_noon(date(2028, 1, 10)), PARIS)) == [
        date(2028, 1, 10), date(2028, 1, 30), date(2028, 2, 29)]
    assert due_days(schedule(plan, 40_000, paris_noon(date(2028, 1, 20)), PARIS, count=4)) == [
        date(2028, 1, 20), date(2028, 2, 29), date(2028, 3, 30), date(2028, 4, 30)]


def test_bought_on_a_clamped_last_day_counts_as_on_the_plan_day():
    plan = PaymentPlan("2x", "En 2 fois le 31", 2, day_of_month=31, first_at_purchase=False)
    assert due_days(schedule(plan, 20_000, paris_noon(date(2027, 2, 28)), PARIS)) == [
        date(2027, 2, 28), date(2027, 3, 31)]


# The purchase day is the venue's day


@pytest.mark.parametrize("moment, day", [
    (utc("2027-03-31T23:30:00"), date(2027, 4, 1)),   # already 1 April in Paris (summer time)
    (utc("2027-03-31T21:59:00"), date(2027, 3, 31)),
    (utc("2027-03-31T22:00:00"), date(2027, 4, 1)),
    (utc("2026-12-31T22:59:00"), date(2026, 12, 31)),  # winter time: midnight is 23:00 UTC
    (utc("2026-12-31T23:00:00"), date(2027, 1, 1)),
    (datetime(2027, 4, 1, 0, 30, tzinfo=timezone(timedelta(hours=5))), date(2027, 3, 31)),
])
def test_the_purchase_day_is_the_day_on_the_venues_clock(moment, day):
    assert schedule(ONCE, 10_000, moment, PARIS)[0].due_on == day


def test_the_same_moment_is_another_purchase_day_at_another_venue():
    moment = utc("2027-03-31T23:30:00")
    assert due_days(schedule(THREE, 30_000, moment, PARIS)) == [date(2027, 4, 1), date(2027, 5, 5), date(2027, 6, 5)]
    assert due_days(schedule(THREE, 30_000, moment, "America/New_York")) == [
        date(2027, 3, 31), date(2027, 5, 5), date(2027, 6, 5)]


# When the collector charges


@pytest.mark.parametrize("due_on, charged", [
    (date(2027, 3, 27), "2027-03-27T05:00:00"),   # winter: UTC+1
    (date(2027, 3, 28), "2027-03-28T04:00:00"),   # the clock went forward at 02:00 that night
    (date(2027, 10, 30), "2027-10-30T04:00:00"),  # summer: UTC+2
    (date(2027, 10, 31), "2027-10-31T05:00:00"),  # the clock went back at 03:00 that night
    (date(2028, 2, 29), "2028-02-29T05:00:00"),
])
def test_an_instalment_is_charged_at_six_on_the_venues_clock(due_on, charged):
    assert due_at(Instalment(2, due_on, 5_000), PARIS) == utc(charged)


def test_the_charge_moment_is_utc_and_follows_the_hour_asked():
    charged = due_at(Instalment(2, date(2027, 7, 5), 5_000), PARIS, hour=9)
    assert charged == utc("2027-07-05T07:00:00") and charged.utcoffset() == timedelta(0)
    assert due_at(Instalment(2, date(2027, 7, 5), 5_000), "America/New_York", hour=0) == utc("2027-07-05T04:00:00")


def test_an_hour_the_clock_skips_or_repeats_is_read_before_the_change():
    assert due_at(Instalment(2, date(2027, 3, 28), 5_000), PARIS, hour=2) == utc("2027-03-28T01:00:00")
    assert due_at(Instalment(2, date(2027, 10, 31), 5_000), PARIS, hour=2) == utc("2027-10-31T00:00:00")


def test_a_schedule_across_the_spring_change_is_charged_at_six_local_each_month():
    instalments = schedule(TEN, 100_000, utc("2027-01-20T15:00:00"), PARIS)
    assert [due_at(i, PARIS) for i in instalments[1:4]] == [
        utc("2027-02-05T05:00:00"), utc("2027-03-05T05:00:00"), utc("2027-04-05T04:00:00")]


# The notice window (L215-1)


@pytest.mark.parametrize("deadline, opens, closes", [
    # inside one offset
    (date(2027, 1, 15), "2026-10-14T22:00:00", "2026-12-15T23:00:00"),
    # across the spring change (opens in winter, closes in summer)
    (date(2027, 5, 28), "2027-02-27T23:00:00", "2027-04-28T22:00:00"),
    # opens on the spring change day, at its local midnight
    (date(2027, 6, 28), "2027-03-27T23:00:00", "2027-05-28T22:00:00"),
    # closes at the end of the spring change day, a 23-hour day: 29 March 00:00 local
    (date(2027, 4, 28), "2027-01-27T23:00:00", "2027-03-28T22:00:00"),
    # across the autumn change (opens in summer, closes in winter)
    (date(2027, 12, 15), "2027-09-14T22:00:00", "2027-11-15T23:00:00"),
    # opens on the autumn change day, a 25-hour day that starts in summer time
    (date(2028, 1, 31), "2027-10-30T22:00:00", "2027-12-31T23:00:00"),
    # closes the day before the autumn change, then the day after
    (date(2027, 11, 30), "2027-08-29T22:00:00", "2027-10-30T22:00:00"),
    (date(2027, 12, 1), "2027-08-31T22:00:00", "2027-11-01T23:00:00"),
])
def test_the_notice_window_runs_between_local_midnights_across_daylight_saving(deadline, opens, closes):
    assert notice_window(deadline, PARIS) == NoticeWindow(utc(opens), utc(closes))


@pytest.mark.parametrize("deadline, opens, closes", [
    # 31 May: 3 months before is the last day of February, 1 month before is 30 April
    (date(2027, 5, 31), "2027-02-27T23:00:00", "2027-04-30T22:00:00"),
    (date(2028, 5, 31), "2028-02-28T23:00:00", "2028-04-30T22:00:00"),  # leap year: opens on 29 February
    # 29 to 31 March all close at the end of the last day of February
    (date(2027, 3, 29), "2026-12-28T23:00:00", "2027-02-28T23:00:00"),
    (date(2027, 3, 31), "2026-12-30T23:00:00", "2027-02-28T23:00:00"),
    (date(2028, 3, 29), "2027-12-28T23:00:00", "2028-02-29T23:00:00"),
    (date(2028, 3, 31), "2027-12-30T23:00:00", "2028-02-29T23:00:00"),
    # a leap day deadline: 29 November and 29 January
    (date(2028, 2, 29), "2027-11-28T23:00:00", "2028-01-29T23:00:00"),
])
def test_calendar_months_clamp_to_the_last_day_of_a_shorter_month(deadline, opens, closes):
    assert notice_window(deadline, PARIS) == NoticeWindow(utc(opens), utc(closes))


def test_the_notice_window_is_exact_at_its_boundaries():
    window = notice_window(date(2027, 4, 28), PARIS)
    tick = timedelta(microseconds=1)
    assert not window.contains(utc("2027-01-27T23:00:00") - tick)  # 27 January, 23:59:59.999999 in Paris
    assert window.contains(utc("2027-01-27T23:00:00"))             # 28 January, 00:00 in Paris
    assert window.contains(utc("2027-03-28T22:00:00") - tick)      # 28 March, 23:59:59.999999 in Paris
    assert not window.contains(utc("2027-03-28T22:00:00"))         # 29 March, 00:00 in Paris


def test_the_notice_window_reads_moments_given_in_any_offset():
    window = notice_window(date(2027, 4, 28), PARIS)
    assert window.contains(datetime(2027, 3, 28, 23, 59, tzinfo=timezone(timedelta(hours=2))))
    assert not window.contains(datetime(2027, 3, 29, 0, 0, tzinfo=timezone(timedelta(hours=2))))


def test_the_notice_window_is_on_the_venues_clock():
    assert notice_window(date(2027, 4, 28), "America/New_York") == NoticeWindow(
        utc("2027-01-28T05:00:00"), utc("2027-03-29T04:00:00"))


# Refusals


@pytest.mark.parametrize("total", [-1, -10_000, 100.0])
def test_a_total_is_whole_cents_never_negative(total):
    with pytest.raises(ValueError):
        schedule(THREE, total, utc("2027-06-12T09:00:00"), PARIS)


@pytest.mark.parametrize("count", [0, -1, 25, 100])
def test_a_count_is_one_to_twenty_four(count):
    with pytest.raises(ValueError):
        schedule(THREE, 10_000, utc("2027-06-12T09:00:00"), PARIS, count=count)


def test_twenty_four_instalments_are_accepted():
    assert len(schedule(THREE, 24_000, utc("2027-06-12T09:00:00"), PARIS, count=24)) == 24


@pytest.mark.parametrize("instalments", [0, 25])
def test_a_plan_has_one_to_twenty_four_instalments(instalments):
    with pytest.raises(ValueError):
        PaymentPlan("x", "x", instalments)


@pytest.mark.parametrize("day_of_month", [0, -5, 32])
def test_a_plan_day_is_one_to_thirty_one(day_of_month):
    with pytest.raises(ValueError):
        PaymentPlan("x", "x", 3, day_of_month=day_of_month)


def test_a_purchase_moment_must_carry_an_offset():
    with pytest.raises(ValueError):
        schedule(THREE, 10_000, datetime(2027, 6, 12, 9, 0), PARIS)


def test_an_unknown_zone_is_refused():
    with pytest.raises(ValueError):
        schedule(THREE, 10_000, utc("2027-06-12T09:00:00"), "Europe/Lyon")
    with pytest.raises(ValueError):
        due_at(Instalment(1, date(2027, 6, 12), 10_000), "Mars/Olympus")
    with pytest.raises(ValueError):
        notice_window(date(2027, 6, 12), "Nowhere")


@pytest.mark.parametrize("hour", [-1, 24])
def test_a_charge_hour_is_zero_to_twenty_three(hour):
    with pytest.raises(ValueError):
        due_at(Instalment(1, date(2027, 6, 12), 10_000), PARIS, hour=hour)


def test_a_refusal_deadline_is_a_day_not_a_moment():
    with pytest.raises(ValueError):
        notice_window(utc("2027-05-31T22:00:00"), PARIS)


def test_the_notice_window_refuses_a_moment_without_an_offset():
    with pytest.raises(ValueError):
        notice_window(date(2027, 5, 31), PARIS).contains(datetime(2027, 4, 1, 12, 0))
