"""Season subscriptions paid in instalments, and the notice window of a tacit renewal.

Days are calendar days on the venue's clock (its IANA zone); moments are aware and given in UTC.

**Payment plans** (:class:`PaymentPlan`, :func:`schedule`). A subscription product offers plans:
pay at once (1 instalment) or in 2 to 24 instalments, "monthly on the 5th, first at purchase,
rounding on the last":

- *Amounts*: equal parts in whole cents, the rounding difference on the last instalment
  (10 000 in 3: 3 333, 3 333, 3 334), so the instalments always add up to the total exactly.
  Nobody is debited 0 €: a total of 0 is one instalment of 0 due on the purchase day, and a
  total of fewer cents than instalments is paid in as many 1-cent instalments as it has cents.
- *The purchase day* is the local day of the purchase moment (23:30 UTC on 31 March is 1 April
  in Paris).
- *The first instalment* is due on the purchase day, or, for a plan not "first at purchase",
  on the first plan day (say the 5th) on or after the purchase day (bought on the 5th: that day).
- *The second instalment*, when the first is at purchase, is on the first plan day at least
  14 days after the purchase day, so a payer is never debited twice within two weeks: with the
  5th, bought on 22 January → 5 February; bought on 23 January → 5 March; with the 20th,
  bought on 1 January → 20 January. The gap is therefore 14 to 44 days.
- *The following instalments* fall monthly on the plan day. A month without that day uses its
  last day, and the clamp does not drift: the 31st gives 31 January, 28 February, 31 March,
  30 April...
- *A tacit renewal* keeps last season's number of instalments (``count``) while this season's
  total and purchase day set the amounts and dates.
- *Refused* (``ValueError``): a negative total, a number of instalments below 1 or above 24, a
  plan day outside 1..31, a purchase moment without an offset, an unknown zone.

:func:`due_at` is the moment a collector charges an instalment: its due day at 06:00 local time
(by default), whatever the UTC offset that day (05:00 UTC in winter in Paris, 04:00 in summer).
An hour the clock skips is read with the offset before the change (02:00 on 28 March 2027 in
Paris is 01:00 UTC, when the clock jumps to 03:00); an hour it repeats is its first occurrence.

**The notice window of a tacit renewal** (:func:`notice_window`, Code de la consommation
L215-1). The payer must be told of a tacit renewal no earlier than 3 months and no later than
1 month before the *refusal deadline* (the last day they can refuse it). The notice may go from
the start of the local day 3 calendar months before the deadline until the end of the local day
1 calendar month before it (the end is exclusive: the next local midnight). Calendar months
clamp to the month's last day like the plan days: a deadline of 31 May opens on 28 February
(29 in a leap year) and closes at the end of 30 April. Both ends are local midnights, so their
UTC instants follow that day's offset (in Paris, 28 March 2027 starts at 2027-03-27T23:00Z and
29 March at 2027-03-28T22:00Z).
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from chalicelib.values.local_time import end_of_local_day, local_day
from chalicelib.values.local_time import zone as time_zone

MAX_INSTALMENTS = 24
SECOND_INSTALMENT_MIN_GAP = timedelta(days=14)
"""The least time between a first instalment paid at purchase and the second one."""
COLLECTION_HOUR = 6


@dataclass(frozen=True)
class PaymentPlan:
    id: str                # e.g. "once", "10x"
    label: str             # shown to staff and payers, e.g. "En 10 fois"
    instalments: int       # 1 = pay at once
    day_of_month: int = 5  # instalments after the first fall on this day (the month's last day if it has none)
    first_at_purchase: bool = True  # else the first falls on the first day_of_month on or after purchase

    def __post_init__(self) -> None:
        _check_count(self.instalments)
        if not 1 <= self.day_of_month <= 31:
            raise ValueError(f"day_of_month must be 1..31, not {self.day_of_month}")


@dataclass(frozen=True)
class Instalment:
    number: int            # 1-based
    due_on: date           # a calendar day on the venue's clock
    amount_cents: int


@dataclass(frozen=True)
class NoticeWindow:
    opens_at: datetime   # aware UTC: the start of the local day 3 calendar months before the deadline
    closes_at: datetime  # aware UTC, exclusive: the end of the local day 1 calendar month before it

    def contains(self, moment: datetime) -> bool:
        """Whether the notice may go at ``moment`` (aware)."""
        _check_aware(moment, "moment")
        return self.opens_at <= moment < self.closes_at


def schedule(plan: PaymentPlan, total_cents: int, purchased_at: datetime, zone: str, *,
             count: int | None = None) -> list[Instalment]:
    """The instalments paying ``total_cents`` under ``plan`` for a purchase at ``purchased_at``,
    on the clock of ``zone``; ``count`` replaces the plan's number of instalments."""
    if not isinstance(total_cents, int) or total_cents < 0:
        raise ValueError(f"a total is whole cents, never negative: {total_cents!r}")
    wanted = plan.instalments if count is None else _check_count(count)
    _check_aware(purchased_at, "purchased_at")
    purchase_day = local_day(purchased_at, zone)
    if total_cents == 0:
        return [Instalment(1, purchase_day, 0)]
    amounts = _amounts(total_cents, min(wanted, total_cents))
    days = _due_days(plan, purchase_day, len(amounts))
    return [Instalment(number, day, amount) for number, (day, amount) in enumerate(zip(days, amounts), start=1)]


def due_at(instalment: Instalment, zone: str, hour: int = COLLECTION_HOUR) -> datetime:
    """The UTC moment to charge ``instalment``: its due day at ``hour`` o'clock in ``zone``."""
    if not 0 <= hour <= 23:
        raise ValueError(f"hour must be 0..23, not {hour}")
    local = datetime.combine(instalment.due_on, time(hour), tzinfo=time_zone(zone))
    return local.astimezone(timezone.utc)


def notice_window(refusal_deadline: date, zone: str) -> NoticeWindow:
    """When the payer may be told of the renewal whose refusal deadline is ``refusal_deadline``."""
    if isinstance(refusal_deadline, datetime):
        # A moment would hide which local day is meant; the deadline is a day on the venue's clock.
        raise ValueError("the refusal deadline is a calendar day, not a moment")
    return NoticeWindow(opens_at=start_of_local_day(add_months(refusal_deadline, -3), zone),
                        closes_at=end_of_local_day(add_months(refusal_deadline, -1), zone))


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` calendar months, on the month's last day if it is shorter."""
    return _plan_day(_month_number(day) + months, day.day)


def start_of_local_day(day: date, zone_name: str) -> datetime:
    """The UTC instant ``day`` starts in ``zone_name`` (its local midnight)."""
    return end_of_local_day(day - timedelta(days=1), zone_name)


def _check_count(count: int) -> int:
    if not isinstance(count, int) or not 1 <= count <= MAX_INSTALMENTS:
        raise ValueError(f"a number of instalments is 1..{MAX_INSTALMENTS}, not {count!r}")
    return count


def _check_aware(moment: datetime, name: str) -> None:
    # A naive moment would be read on the server's clock, which is nobody's venue.
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must carry a UTC offset")


def _amounts(total_cents: int, count: int) -> list[int]:
    part = total_cents // count
    return [part] * (count - 1) + [total_cents - part * (count - 1)]


def _due_days(plan: PaymentPlan, purchase_day: date, count: int) -> list[date]:
    if plan.first_at_purchase:
        second = _first_month_with_plan_day(purchase_day + SECOND_INSTALMENT_MIN_GAP, plan.day_of_month)
        return [purchase_day] + [_plan_day(second + k, plan.day_of_month) for k in range(count - 1)]
    first = _first_month_with_plan_day(purchase_day, plan.day_of_month)
    return [_plan_day(first + k, plan.day_of_month) for k in range(count)]


def _first_month_with_plan_day(earliest: date, day_of_month: int) -> int:
    """The month number of the first plan day on or after ``earliest``."""
    month = _month_number(earliest)
    return month if _plan_day(month, day_of_month) >= earliest else month + 1


def _month_number(day: date) -> int:
    # Months counted from year 0, so month arithmetic is integer arithmetic.
    return day.year * 12 + day.month - 1


def _plan_day(month_number: int, day_of_month: int) -> date:
    year, month = divmod(month_number, 12)
    # Clamped from the plan's own day each month, so a short month does not pull later ones back.
    return date(year, month + 1, min(day_of_month, calendar.monthrange(year, month + 1)[1]))
