"""Countries by their ISO 3166-1 alpha-2 code, as a geographic limit names them and as MaxMind's
GeoIP2 databases write ``country.iso_code``.

The 249 officially assigned codes (ISO 3166-1 as of 2023-04, the list tzdata's ``iso3166.tab``
carries), plus ``XK``: Kosovo has no ISO code yet and MaxMind, like most of the industry, uses
this user-assigned one. Reserved and withdrawn codes (``UK``, ``EU``, ``FX``, ``AN``...) are
not countries here: a geolocation never answers them.
"""
from __future__ import annotations

from chalicelib.values.unfit import Unfit

ISO_COUNTRIES = frozenset("""
    AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
    BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
    EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
    GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
    KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
    MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
    QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
    TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
    ZW
""".split())
EXTRA_COUNTRIES = frozenset({"XK"})  # Kosovo (MaxMind's code)
COUNTRIES = ISO_COUNTRIES | EXTRA_COUNTRIES


def is_country(code: str) -> bool:
    """``"FR"`` yes; ``"fr"``, ``"UK"``, ``"FRA"`` no (uppercase alpha-2 only)."""
    return code in COUNTRIES


def not_a_country() -> Unfit:
    """The refusal of a value that is not one of these codes."""
    return Unfit("not an ISO 3166-1 alpha-2 country code, e.g. FR, BE, GB",
                 "pas un code pays ISO 3166-1 à deux lettres, en majuscules : FR, BE, GB")
