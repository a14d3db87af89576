"""EventBridge schedule expressions evaluated locally: ``rate(...)`` and 6-field ``cron(...)``.

The event pump (:mod:`devtools.event_pump`) asks each schedule "when do you fire next after
this moment?" and fires the handler when that time has come. Parsing is as strict as
EventBridge's, so an expression that works here also deploys:

- ``rate(1 minute)``, ``rate(5 minutes)``, ``rate(1 hour)``, ``rate(2 days)``: the singular
  unit for 1 and the plural otherwise, as EventBridge requires. A rate rule fires every
  period counted from when the rule was created (here: when the pump started).
- ``cron(minutes hours day-of-month month day-of-week year)`` in UTC, with ``*``, ``?``,
  ``,``, ``-`` and ``/``; months ``1-12`` or ``JAN-DEC``; days of week ``1-7`` (1 = Sunday)
  or ``SUN-SAT``. Exactly one of day-of-month and day-of-week must be ``?``. ``L``, ``W``
  and ``#`` are refused rather than silently misread.

    >>> from datetime import datetime, timezone
    >>> cron = parse_schedule("cron(0 8 ? * MON-FRI *)")
    >>> cron.next_after(datetime(2024, 3, 1, 9, 0, tzinfo=timezone.utc))  # a Friday
    datetime.datetime(2024, 3, 4, 8, 0, tzinfo=datetime.timezone.utc)
"""
from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

MONTH_NAMES = {name.upper(): number for number, name in enumerate(calendar.month_abbr) if name}
DAY_NAMES = {"SUN": 1, "MON": 2, "TUE": 3, "WED": 4, "THU": 5, "FRI": 6, "SAT": 7}
RATE_UNITS = {"minute": 60, "hour": 3600, "day": 86400}
YEAR_RANGE = (1970, 2199)

_RATE = re.compile(r"^rate\(\s*(\d+)\s+([a-z]+)\s*\)$")
_CRON = re.compile(r"^cron\((.*)\)$")
# L (last), W (nearest weekday) and # (nth weekday) tokens; month and day names such as
# JUL or WED contain those letters too, hence a token-level match.
_UNSUPPORTED = re.compile(r"(^|[,/-])(\d*L|\d*W|LW)($|[,/-])|#")


class InvalidSchedule(ValueError):
    """An expression EventBridge would refuse."""


def expression_text(expression) -> str:
    """The text of a schedule given as a string or a Chalice ``Rate``/``Cron`` object."""
    return expression if isinstance(expression, str) else expression.to_string()


def parse_schedule(expression) -> "RateSchedule | CronSchedule":
    text = expression_text(expression).strip()
    if text.startswith("rate("):
        return RateSchedule.parse(text)
    if text.startswith("cron("):
        return CronSchedule.parse(text)
    raise InvalidSchedule(f"not a rate(...) or cron(...) expression: {text!r}")


def _utc_minute(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("schedules work on timezone-aware datetimes")
    return moment.astimezone(timezone.utc).replace(second=0, microsecond=0)


@dataclass(frozen=True)
class RateSchedule:
    text: str
    period: timedelta

    @classmethod
    def parse(cls, text: str) -> "RateSchedule":
        match = _RATE.match(text)
        if not match:
            raise InvalidSchedule(f"malformed rate expression: {text!r}")
        value, unit = int(match.group(1)), match.group(2)
        singular = unit.removesuffix("s")
        if singular not in RATE_UNITS or value < 1:
            raise InvalidSchedule(f"rate needs a positive value and minute(s), hour(s) or day(s): {text!r}")
        # EventBridge refuses "rate(1 minutes)" and "rate(5 minute)"; so do we.
        if (value == 1) != (unit == singular):
            raise InvalidSchedule(f"use the singular unit for 1 and the plural otherwise: {text!r}")
        return cls(text, timedelta(seconds=value * RATE_UNITS[singular]))

    def next_after(self, moment: datetime, *, anchor: datetime) -> datetime:
        """The first firing strictly after ``moment``, firings being ``anchor + k * period``."""
        if moment < anchor:
            return anchor + self.period
        elapsed_periods = (moment - anchor) // self.period
        return anchor + (elapsed_periods + 1) * self.period


@dataclass(frozen=True)
class CronField:
    """The allowed values of one cron field; ``None`` for ``?`` (no constraint from this field)."""

    values: frozenset[int] | None

    def allows(self, value: int) -> bool:
        return self.values is None or value in self.values

    @property
    def is_any(self) -> bool:
        return self.values is None


def _field_value(token: str, names: dict[str, int], low: int, high: int, text: str) -> int:
    value = names.get(token.upper()) if not token.isdigit() else int(token)
    if value is None or not low <= value <= high:
        raise InvalidSchedule(f"{token!r} is outside {low}-{high} in {text!r}")
    return value


def _parse_part(part: str, names: dict[str, int], low: int, high: int, text: str) -> set[int]:
    base, _, step_text = part.partition("/")
    step = int(step_text) if step_text.isdigit() else None
    if step_text and not step:
        raise InvalidSchedule(f"bad step {step_text!r} in {text!r}")
    if base == "*":
        first, last = low, high
    elif "-" in base:
        start, _, end = base.partition("-")
        first = _field_value(start, names, low, high, text)
        last = _field_value(end, names, low, high, text)
        if first > last:
            raise InvalidSchedule(f"reversed range {base!r} in {text!r}")
    else:
        first = _field_value(base, names, low, high, text)
        # "5/15" means from 5 to the end of the field, every 15.
        last = high if step else first
    return set(range(first, last + 1, step or 1))


def _parse_field(field: str, names: dict[str, int], low: int, high: int, text: str,
                 *, question_allowed: bool = False) -> CronField:
    if field == "?":
        if not question_allowed:
            raise InvalidSchedule(f"'?' is only for day-of-month or day-of-week: {text!r}")
        return CronField(None)
    if _UNSUPPORTED.search(field.upper()):
        raise InvalidSchedule(f"L, W and # are not supported by the local evaluator: {text!r}")
    values: set[int] = set()
    for part in field.split(","):
        values |= _parse_part(part, names, low, high, text)
    return CronField(frozenset(values))


def aws_day_of_week(day: date) -> int:
    """EventBridge numbering: 1 = Sunday ... 7 = Saturday (Python's Monday is 0)."""
    return (day.weekday() + 1) % 7 + 1


@dataclass(frozen=True)
class CronSchedule:
    text: str
    minutes: CronField
    hours: CronField
    days_of_month: CronField
    months: CronField
    days_of_week: CronField
    years: CronField

    @classmethod
    def parse(cls, text: str) -> "CronSchedule":
        match = _CRON.match(text)
        fields = match.group(1).split() if match else []
        if len(fields) != 6:
            raise InvalidSchedule(f"cron needs 6 fields (min hour dom month dow year): {text!r}")
        minute, hour, dom, month, dow, year = fields
        if (dom == "?") == (dow == "?"):
            raise InvalidSchedule(f"exactly one of day-of-month and day-of-week must be '?': {text!r}")
        return cls(
            text,
            minutes=_parse_field(minute, {}, 0, 59, text),
            hours=_parse_field(hour, {}, 0, 23, text),
            days_of_month=_parse_field(dom, {}, 1, 31, text, question_allowed=True),
            months=_parse_field(month, MONTH_NAMES, 1, 12, text),
            days_of_week=_parse_field(dow, DAY_NAMES, 1, 7, text, question_allowed=True),
            years=_parse_field(year, {}, *YEAR_RANGE, text),
        )

    def matches(self, moment: datetime) -> bool:
        minute = _utc_minute(moment)
        return (self._matches_day(minute.date()) and self.hours.allows(minute.hour)
                and self.minutes.allows(minute.minute))

    def _matches_day(self, day: date) -> bool:
        return (self.years.allows(day.year) and self.months.allows(day.month)
                and self.days_of_month.allows(day.day) and self.days_of_week.allows(aws_day_of_week(day)))

    def _times_of_day(self) -> list[tuple[int, int]]:
        return [(hour, minute) for hour in sorted(self.hours.values or ())
                for minute in sorted(self.minutes.values or ())]

    def next_after(self, moment: datetime, *, anchor: datetime | None = None) -> datetime | None:
        """The first matching minute strictly after ``moment`` (UTC), or ``None`` if none is left.

        Walks day by day, skipping whole months and years that cannot match, so even an
        expression that never fires (``cron(0 0 31 2 ? *)``) ends after a bounded walk.
        """
        start = _utc_minute(moment)
        day = start.date()
        while day.year <= YEAR_RANGE[1]:
            if not (self.years.allows(day.year) and self.months.allows(day.month)):
                day = _first_of_next_month(day)
                continue
            if self._matches_day(day):
                for hour, minute in self._times_of_day():
                    candidate = datetime(day.year, day.month, day.day, hour, minute, tzinfo=timezone.utc)
                    if candidate > moment:
                        return candidate
            day += timedelta(days=1)
        return None


def _first_of_next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)
