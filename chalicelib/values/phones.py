"""Phone numbers as people write them (``06 12 34 56 78``, ``+33 6 12 34 56 78``,
``0033 6 12 34 56 78``), read with Google's libphonenumber (``phonenumberslite``) in a default
region, and kept in E.164 (``+33612345678``)."""
from __future__ import annotations

from chalicelib.values.unfit import Unfit

DEFAULT_REGION = "FR"
EXPECTED = "a phone number such as 06 12 34 56 78 or +33 6 12 34 56 78"
EXPECTED_FR = "un numéro comme 06 12 34 56 78 ou +33 6 12 34 56 78"


def e164(text: str, region: str = DEFAULT_REGION) -> str:
    """The number ``text`` writes, in E.164; ``ValueError`` (saying what is expected) otherwise."""
    import phonenumbers

    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as error:
        raise Unfit(f"not {EXPECTED}", f"ce n'est pas {EXPECTED_FR}") from error
    if not phonenumbers.is_valid_number(number):
        raise Unfit(f"not a valid number: write {EXPECTED}", f"ce numéro n'existe pas : écrivez {EXPECTED_FR}")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def national(e164_number: str) -> str | None:
    """The national writing's digits of a French number (``0612345678``), ``None`` for others."""
    if e164_number.startswith("+33") and len(e164_number) == 12:
        return "0" + e164_number[3:]
    return None
