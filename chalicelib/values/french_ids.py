"""French company identifiers as invoices show them: SIREN, SIRET and the intra-community VAT
number, normalised and checked.

- **SIREN** (9 digits) and **SIRET** (14 digits: the SIREN followed by the 5-digit NIC of the
  establishment) carry a Luhn check. La Poste's establishments are the one known exception
  (SIREN 356 000 000, whose SIRETs are checked differently); they are not handled here.
- **VAT number** (numéro de TVA intracommunautaire): ``FR`` + a 2-digit key + the SIREN, the key
  being ``(12 + 3 * (siren % 97)) % 97``.

Normalising removes spaces, dots and dashes (people copy ``732 829 320 00074`` from a Kbis)
and upper-cases the letters; the check functions take the normalised form.
"""
from __future__ import annotations

import re

from chalicelib.values.unfit import Unfit

_SEPARATORS = re.compile(r"[\s.\-\u00a0\u202f]")


def normalise(value: str) -> str:
    """``value`` without spaces, dots, dashes, upper-cased: ``"fr 40 303 265 045"`` -> ``"FR40303265045"``."""
    return _SEPARATORS.sub("", value).upper()


def luhn_valid(digits: str) -> bool:
    """Whether a string of digits passes the Luhn check (every second digit from the right doubled)."""
    if not digits.isascii() or not digits.isdigit():
        return False
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def is_valid_siren(siren: str) -> bool:
    return len(siren) == 9 and luhn_valid(siren)


def is_valid_siret(siret: str) -> bool:
    """14 digits, Luhn-valid as a whole, and its first 9 digits a valid SIREN."""
    return len(siret) == 14 and luhn_valid(siret) and is_valid_siren(siret[:9])


def vat_key(siren: str) -> str:
    """The 2-digit key of the French VAT number of ``siren``."""
    return f"{(12 + 3 * (int(siren) % 97)) % 97:02d}"


def vat_number_for(siren: str) -> str:
    """The French VAT number of ``siren``: ``vat_number_for("303265045")`` -> ``"FR40303265045"``."""
    return f"FR{vat_key(siren)}{siren}"


def is_valid_vat_number(vat_number: str) -> bool:
    """``FR`` + key + a valid SIREN, the key matching the SIREN."""
    if not re.fullmatch(r"FR[0-9]{11}", vat_number):
        return False
    key, siren = vat_number[2:4], vat_number[4:]
    return is_valid_siren(siren) and vat_key(siren) == key


def siren_of(identifier: str) -> str:
    """The SIREN inside a SIRET or a French VAT number (both normalised)."""
    return identifier[4:] if identifier.startswith("FR") else identifier[:9]


def check_siret(value: str) -> str:
    """The normalised SIRET, or :class:`Unfit` saying what is wrong (for schema validators)."""
    siret = normalise(value)
    if not re.fullmatch(r"[0-9]{14}", siret):
        raise Unfit("a SIRET has 14 digits (SIREN + NIC), e.g. 732 829 320 00074",
                    "un SIRET a 14 chiffres (SIREN + NIC), par exemple 732 829 320 00074")
    if not is_valid_siret(siret):
        raise Unfit("not a valid SIRET: its check digit is wrong (a typo?)",
                    "ce SIRET n'est pas valide : sa clé ne correspond pas (une faute de frappe ?)")
    return siret


def check_vat_number(value: str) -> str:
    """The normalised French VAT number, or :class:`Unfit` saying what is wrong."""
    vat_number = normalise(value)
    if not re.fullmatch(r"FR[0-9]{11}", vat_number):
        raise Unfit("a French VAT number is FR, a 2-digit key and the 9-digit SIREN, e.g. FR40303265045",
                    "un numéro de TVA français s'écrit FR, une clé de 2 chiffres et le SIREN, par exemple FR40303265045")
    if not is_valid_siren(vat_number[4:]):
        raise Unfit("not a valid VAT number: its SIREN part is not a valid SIREN",
                    "ce numéro de TVA n'est pas valide : son SIREN n'en est pas un")
    if vat_key(vat_number[4:]) != vat_number[2:4]:
        raise Unfit("not a valid VAT number: its key does not match its SIREN",
                    "ce numéro de TVA n'est pas valide : sa clé ne correspond pas à son SIREN")
    return vat_number


EU_VAT_PREFIXES = frozenset("AT BE BG CY CZ DE DK EE EL ES FI FR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK XI".split())


def check_buyer_vat_number(value: str) -> str:
    """A buyer's intra-community VAT number, normalised: a French one fully checked, another
    EU country's by its shape (country prefix, 2 to 12 characters)."""
    vat_number = normalise(value)
    if vat_number.startswith("FR"):
        return check_vat_number(vat_number)
    if vat_number[:2] not in EU_VAT_PREFIXES or not re.fullmatch(r"[A-Z]{2}[0-9A-Z]{2,12}", vat_number):
        raise Unfit("an intra-community VAT number starts with its EU country code, e.g. FR40303265045, DE123456789",
                    "un numéro de TVA intracommunautaire commence par le code de son pays, par exemple "
                    "FR40303265045, DE123456789")
    return vat_number


def spaced_siret(siret: str) -> str:
    """``"73282932000074"`` -> ``"732 829 320 00074"`` (as printed on a Kbis)."""
    return f"{siret[:3]} {siret[3:6]} {siret[6:9]} {siret[9:]}" if len(siret) == 14 else siret
