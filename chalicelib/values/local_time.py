"""Days and hours as a venue lives them: a UTC moment's day in the venue's zone, the end of a
local day as a UTC moment, and quiet windows ("no mail between 21:00 and 08:00") that hold
across daylight-saving changes because they are read on the local clock, never as offsets."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(name: str) -> ZoneInfo:
    """The IANA zone ``name`` (``ValueError`` if unknown)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {name!r}") from error


def local_day(moment: datetime, zone_name: str) -> date:
    """The calendar day ``moment`` falls on in ``zone_name``."""
    return moment.astimezone(zone(zone_name)).date()


def end_of_local_day(day: date, zone_name: str) -> datetime:
    """The first UTC instant after ``day`` ends in ``zone_name`` (its next midnight, local)."""
    following = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone(zone_name))
    return following.astimezone(timezone.utc)


def clock_time(text: str) -> time:
    """``"HH:MM"`` as a time of day (``ValueError`` otherwise)."""
    hours, _, minutes = text.partition(":")
    if len(hours) != 2 or len(minutes) != 2 or not (hours + minutes).isascii() or not (hours + minutes).isdigit():
        raise ValueError(f"not a time of day (HH:MM): {text!r}")
    return time(int(hours), int(minutes))


def in_quiet_window(moment: datetime, zone_name: str, quiet_from: str, quiet_until: str) -> bool:
    """Whether ``moment``, on the local clock of ``zone_name``, falls in the window from
    ``quiet_from`` to ``quiet_until`` (a window past midnight wraps; equal bounds: no window)."""
    start, end = clock_time(quiet_from), clock_time(quiet_until)
    if start == end:
        return False
    now = moment.astimezone(zone(zone_name)).time()
    if start < end:
        return start <= now < end
    return now >= start or now < end
