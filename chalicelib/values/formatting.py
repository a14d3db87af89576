"""Amounts, dates and counts as a spectator reads them, in French (first) or English.

Pure functions, no Babel: the few rules we need are written here, with French day and month
names in small tables. They are used by whoever builds a mail's context (amounts in cents and
aware datetimes become display strings) and are also registered as Jinja filters by
:mod:`chalicelib.services.mail.rendering` (``money``, ``datetime_text``, ``date_text``,
``time_text``, ``count_noun``).

Typography:

- French: ``42,00 €``, ``1 234,50 €`` (no-break spaces U+00A0, so an amount never splits
  across lines; CLDR's narrow no-break space U+202F is avoided because some mail fonts lack
  it), ``samedi 12 décembre 2026 à 20 h 30``, ``mardi 1er décembre 2026 à 20 h``.
- English (British order): ``€42.00``, ``€1,234.50``, ``-€42.00``,
  ``Saturday 12 December 2026, 8:30 pm``.

Any language other than ``"en"`` is written in French.
"""
from __future__ import annotations

from datetime import date, datetime

NBSP = "\u00a0"

FRENCH_DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
FRENCH_MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
                 "octobre", "novembre", "décembre")
ENGLISH_DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
ENGLISH_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
                  "October", "November", "December")

CURRENCY_SYMBOLS = {"EUR": "€", "GBP": "£", "USD": "$"}
"""Currencies written with a symbol; any other ISO code is written as the code (``42,00 CHF``)."""
MINOR_DIGITS = {"JPY": 0, "KRW": 0, "XOF": 0, "XPF": 0}
"""Currencies whose minor unit is not the hundredth (amounts are still given in minor units)."""


def _english(language: str | None) -> bool:
    return (language or "fr").lower().startswith("en")


def _grouped(number: int, separator: str) -> str:
    digits = str(number)
    groups = []
    while digits:
        groups.append(digits[-3:])
        digits = digits[:-3]
    return separator.join(reversed(groups))


def money(cents: int, currency: str = "EUR", language: str = "fr") -> str:
    """An amount in minor units as text: ``money(4200)`` -> ``"42,00 €"`` (no-break space),
    ``money(-123450, "EUR", "en")`` -> ``"-€1,234.50"``, ``money(500, "CHF")`` -> ``"5,00 CHF"``.

    ``cents`` must be an ``int`` (a float amount is a bug upstream, so it raises ``TypeError``).
    """
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"money() takes an amount in minor units as an int, not {type(cents).__name__}")
    code = (currency or "EUR").upper()
    digits = MINOR_DIGITS.get(code, 2)
    units, minor = divmod(abs(cents), 10 ** digits)
    sign = "-" if cents < 0 else ""
    symbol = CURRENCY_SYMBOLS.get(code)
    if _english(language):
        number = _grouped(units, ",") + (f".{minor:0{digits}d}" if digits else "")
        return f"{sign}{symbol}{number}" if symbol else f"{sign}{code}{NBSP}{number}"
    number = _grouped(units, NBSP) + (f",{minor:0{digits}d}" if digits else "")
    return f"{sign}{number}{NBSP}{symbol or code}"


def _local(moment: datetime | date, zone: str | None) -> datetime | date:
    """``moment`` on the clock of ``zone`` (an IANA name such as ``Europe/Paris``)."""
    if not isinstance(moment, datetime):
        if isinstance(moment, date):
            return moment
        raise TypeError(f"expected a datetime or a date, not {type(moment).__name__}")
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("a naive datetime cannot be placed in a time zone; give it an offset")
    if not zone:
        raise ValueError("a time zone (IANA name, e.g. Europe/Paris) is needed to show a time")
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return moment.astimezone(ZoneInfo(zone))
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValueError(f"unknown time zone {zone!r}") from error


def date_text(moment: datetime | date, zone: str | None = None, language: str = "fr") -> str:
    """The day of ``moment`` in ``zone``: ``"samedi 12 décembre 2026"``, ``"mardi 1er décembre 2026"``,
    ``"Saturday 12 December 2026"``. A plain :class:`date` needs no zone."""
    day = _local(moment, zone)
    weekday = day.weekday()
    if _english(language):
        return f"{ENGLISH_DAYS[weekday]} {day.day} {ENGLISH_MONTHS[day.month - 1]} {day.year}"
    number = "1er" if day.day == 1 else str(day.day)
    return f"{FRENCH_DAYS[weekday]} {number} {FRENCH_MONTHS[day.month - 1]} {day.year}"


def time_text(moment: datetime, zone: str, language: str = "fr") -> str:
    """The time of ``moment`` in ``zone``: ``"20 h 30"``, ``"20 h"``, ``"8:30 pm"``, ``"12:00 am"``."""
    local = _local(moment, zone)
    if not isinstance(local, datetime):
        raise TypeError("time_text() needs a datetime, not a date")
    if _english(language):
        hour = local.hour % 12 or 12
        return f"{hour}:{local.minute:02d} {'am' if local.hour < 12 else 'pm'}"
    return f"{local.hour}{NBSP}h" + (f"{NBSP}{local.minute:02d}" if local.minute else "")


def datetime_text(moment: datetime, zone: str, language: str = "fr") -> str:
    """Day and time of ``moment`` in ``zone``: ``"samedi 12 décembre 2026 à 20 h 30"``,
    ``"Saturday 12 December 2026, 8:30 pm"``. Raises ``ValueError`` for a naive datetime."""
    separator = ", " if _english(language) else " à "
    return date_text(moment, zone, language) + separator + time_text(moment, zone, language)


def count_noun(count: int, singular: str, plural: str, language: str = "fr") -> str:
    """``count_noun(2, "billet", "billets")`` -> ``"2 billets"``. French takes the singular for 0
    and 1, English only for 1 (``"0 tickets"``)."""
    one = count == 1 or (not _english(language) and count == 0)
    return f"{count} {singular if one else plural}"
