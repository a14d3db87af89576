"""Postcode prefixes of a geographic limit ("67" is the whole Bas-Rhin, "13150" one town), and
how a geolocated postcode is compared with them.

A prefix is written **without spaces or hyphens**, letters in uppercase, at most ten
characters. Where a country's postcodes are made of digits only (:data:`DIGIT_POSTCODES`), its
prefixes are digits only: "67" or "750", never "67A". Elsewhere (the United Kingdom's "SW1A",
the Netherlands' "1012 AB", Canada's "H3A", Ireland's "D02", and any country not in the list)
uppercase letters and digits are allowed.

A postcode as the geolocation database writes it ("67000", "SW1A", "00-950" in Poland,
"1000-001" in Portugal, "100-0001" in Japan) is compared with its spaces and hyphens removed
and in uppercase, so the prefix "00950" matches "00-950", and "SW1" matches "SW1A" (and also
"SW19": a prefix is a prefix).
"""
from __future__ import annotations

from chalicelib.values.unfit import Unfit

MAX_PREFIX_LENGTH = 10

# Countries whose postcodes are digits only (groups sometimes separated by a hyphen or a space,
# which prefixes leave out). France and the places that use French postcodes but have their own
# ISO code (the overseas departments and collectivities: a Réunion address is RE 974xx, not FR),
# Europe, and the main countries elsewhere. A country missing here only means letters are allowed.
DIGIT_POSTCODES = frozenset({
    # France, Monaco, and the overseas places with French postcodes
    "FR", "MC", "GP", "MQ", "GF", "RE", "YT", "PM", "BL", "MF", "NC", "PF", "WF",
    # Europe
    "DE", "AT", "CH", "LI", "BE", "LU", "ES", "IT", "SM", "VA", "PT", "PL", "CZ", "SK", "HU", "SI", "HR",
    "RS", "BA", "ME", "MK", "AL", "RO", "BG", "GR", "CY", "DK", "SE", "NO", "FI", "IS", "EE", "AX", "GL",
    "UA", "RU", "BY", "TR",
    # elsewhere
    "US", "MX", "BR", "AU", "NZ", "JP", "CN", "IN", "KR", "TH", "ID", "PH", "VN", "MY", "SG", "IL", "ZA",
    "MA", "DZ", "TN", "EG", "SA", "SN",
})


def prefix_problem(country: str | None, prefix: str) -> Unfit | None:
    """What is wrong with ``prefix`` as a prefix of ``country``'s postcodes (only its writing when
    ``country`` is ``None``), or ``None`` when it is right."""
    if not prefix:
        return Unfit("must not be empty: leave the list empty to forbid the whole country",
                     "ne doit pas être vide : laissez la liste vide pour interdire tout le pays")
    if any(char.isspace() for char in prefix):
        return Unfit("must not contain spaces: write 75011 or SW1A, not 75 011 or SW1A 1",
                     "sans espace : écrivez 75011 ou SW1A, pas 75 011 ni SW1A 1")
    if len(prefix) > MAX_PREFIX_LENGTH:
        return Unfit(f"at most {MAX_PREFIX_LENGTH} characters", f"{MAX_PREFIX_LENGTH} caractères au plus")
    if not (prefix.isascii() and prefix.isalnum()):
        return Unfit("digits and letters only, no hyphen: write 00950 for 00-950",
                     "chiffres et lettres seulement, sans tiret : écrivez 00950 pour 00-950")
    if prefix != prefix.upper():
        return Unfit("letters in uppercase: SW1A, not sw1a", "lettres en majuscules : SW1A, pas sw1a")
    if country in DIGIT_POSTCODES and not prefix.isdigit():
        return Unfit(f"{country} postcodes are digits only: write a prefix such as 67 or 13150",
                     f"les codes postaux {country} n'ont que des chiffres : écrivez par exemple 67 ou 13150")
    return None


def normalised(postcode: str | None) -> str | None:
    """A postcode as the database writes it, as prefixes are compared with it
    (``"00-950"`` -> ``"00950"``, ``"sw1a 1aa"`` -> ``"SW1A1AA"``); ``None`` when empty."""
    if not postcode:
        return None
    bare = "".join(char for char in postcode if not char.isspace() and char != "-").upper()
    return bare or None


def in_zone(postcode: str, prefixes) -> bool:
    """Whether the (normalised) ``postcode`` starts with one of ``prefixes``."""
    return any(postcode.startswith(prefix) for prefix in prefixes)
