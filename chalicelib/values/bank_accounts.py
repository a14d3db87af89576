"""IBANs as spectators type them for an offline refund: normalised, checked, shown masked.

An IBAN is a country code, two check digits and the national account number (BBAN), whose
length is fixed per country. :func:`check_iban` normalises what was typed (spaces, dashes,
lower case) and refuses, each with a message a spectator can act on, an unknown country, a
wrong length for that country, or a wrong ISO 13616 mod-97 check (a mistyped digit). The
lengths cover the SEPA area and the countries French venues' spectators commonly bank in.
"""
from __future__ import annotations

import re

from chalicelib.values.unfit import Unfit

LENGTHS = {
    "AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20,
    "ES": 24, "FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26,
    "IT": 27, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28,
    "PT": 25, "RO": 24, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "VA": 22, "MA": 28, "TN": 24, "DZ": 26,
    "SN": 28, "CI": 28, "LB": 28,
}
_SEPARATORS = re.compile(r"[\s\-.\u00a0\u202f]")
_SHAPE = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]+$")


class InvalidIban(Unfit):
    """What is wrong with the IBAN, in words for the person who typed it (English, and ``french``)."""


def normalise(value: str) -> str:
    return _SEPARATORS.sub("", value or "").upper()


def _mod97(iban: str) -> int:
    rearranged = iban[4:] + iban[:4]
    digits = "".join(str(int(character, 36)) for character in rearranged)
    return int(digits) % 97


def check_iban(value: str) -> str:
    """The normalised IBAN, or :class:`InvalidIban` saying why not."""
    iban = normalise(value)
    if not _SHAPE.match(iban):
        raise InvalidIban("An IBAN starts with two letters (the country) and two digits, e.g. FR76 3000 6000 0112 "
                          "3456 7890 189.", "Un IBAN commence par deux lettres (le pays) et deux chiffres, par "
                          "exemple FR76 3000 6000 0112 3456 7890 189.")
    country = iban[:2]
    if country not in LENGTHS:
        raise InvalidIban(f"IBANs of country {country} are not accepted here; give a SEPA-area account.",
                          f"Les IBAN du pays {country} ne sont pas acceptés ici : indiquez un compte de la zone SEPA.")
    if len(iban) != LENGTHS[country]:
        raise InvalidIban(f"An IBAN from {country} has {LENGTHS[country]} characters; this one has {len(iban)}.",
                          f"Un IBAN {country} compte {LENGTHS[country]} caractères ; celui-ci en a {len(iban)}.")
    if _mod97(iban) != 1:
        raise InvalidIban("This IBAN's check digits do not match: a character was probably mistyped.",
                          "Les chiffres de contrôle de cet IBAN ne correspondent pas : un caractère a sans doute été "
                          "mal recopié.")
    return iban


def masked(iban: str) -> str:
    """``FR76 **** **** **** **** ***0 189``: enough for the holder to recognise it."""
    hidden = iban[:4] + "*" * (len(iban) - 8) + iban[-4:]
    return " ".join(hidden[index:index + 4] for index in range(0, len(hidden), 4))


def spaced(iban: str) -> str:
    return " ".join(iban[index:index + 4] for index in range(0, len(iban), 4))
