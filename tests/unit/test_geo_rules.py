"""The geographic limits' pure rules: which places a set of limits refuses, leaves to the
unknown-location policy or allows; how prefixes are written and postcodes compared; the country
codes; and that the app's cold import does not pay for the GeoIP reader."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from chalicelib.adapters.geoip import NO_COUNTRY, NOT_IN_DATABASE, Location
from chalicelib.services.shop.geo_limits import ALLOWED, REFUSED, UNKNOWN, Verdict, verdict
from chalicelib.values import postcodes
from chalicelib.values.countries import COUNTRIES, ISO_COUNTRIES, is_country

ROOT = Path(__file__).resolve().parents[2]


def limit(country: str, *prefixes: str, id: str = "L") -> SimpleNamespace:
    return SimpleNamespace(id=id, country=country, postcode_prefixes=list(prefixes))


@pytest.mark.parametrize("limits, location, expected", [
    ([], Location("FR", "67000"), Verdict(ALLOWED, "no-limits")),
    ([], Location(unknown_reason=NOT_IN_DATABASE), Verdict(ALLOWED, "no-limits")),
    # the whole country, with or without a postcode
    ([limit("FR")], Location("FR", "75011"), Verdict(REFUSED, "country", "L")),
    ([limit("FR")], Location("FR", None), Verdict(REFUSED, "country", "L")),
    ([limit("FR")], Location("BE", "1000"), Verdict(ALLOWED, "outside")),
    # the seed's prefixes: a department, a town
    ([limit("FR", "67")], Location("FR", "67000"), Verdict(REFUSED, "postcode", "L")),
    ([limit("FR", "67")], Location("FR", "67400"), Verdict(REFUSED, "postcode", "L")),
    ([limit("FR", "67")], Location("FR", "68000"), Verdict(ALLOWED, "outside")),
    ([limit("FR", "67")], Location("FR", "06700"), Verdict(ALLOWED, "outside")),
    ([limit("FR", "13150")], Location("FR", "13150"), Verdict(REFUSED, "postcode", "L")),
    ([limit("FR", "13150")], Location("FR", "13015"), Verdict(ALLOWED, "outside")),
    ([limit("BE", "67")], Location("FR", "67000"), Verdict(ALLOWED, "outside")),  # 67 in Belgium is not Bas-Rhin
    # no postcode where a limit of that country needs one: the policy decides
    ([limit("FR", "67")], Location("FR", None), Verdict(UNKNOWN, "no-postcode", "L")),
    ([limit("BE", "10")], Location("FR", None), Verdict(ALLOWED, "outside")),
    # an unknown place
    ([limit("FR")], Location(unknown_reason=NOT_IN_DATABASE), Verdict(UNKNOWN, NOT_IN_DATABASE)),
    ([limit("FR")], Location(unknown_reason=NO_COUNTRY), Verdict(UNKNOWN, NO_COUNTRY)),
    # several limits: a certain refusal wins over an unsure one, in any order
    ([limit("FR", "67", id="A"), limit("FR", id="B")], Location("FR", None), Verdict(REFUSED, "country", "B")),
    ([limit("FR", "13", id="A"), limit("FR", "67", id="B")], Location("FR", "67000"),
     Verdict(REFUSED, "postcode", "B")),
    ([limit("FR", "13", id="A"), limit("BE", id="B")], Location("BE", None), Verdict(REFUSED, "country", "B")),
    # postcodes as the database writes them
    ([limit("PL", "00950")], Location("PL", "00-950"), Verdict(REFUSED, "postcode", "L")),
    ([limit("GB", "SW1A")], Location("GB", "sw1a"), Verdict(REFUSED, "postcode", "L")),
    ([limit("NL", "1012")], Location("NL", "1012 AB"), Verdict(REFUSED, "postcode", "L")),
])
def test_the_verdict_of_limits_on_a_place(limits, location, expected):
    assert verdict(limits, location) == expected


@pytest.mark.parametrize("country, prefix, wrong", [
    ("FR", "67", False), ("FR", "13150", False), ("FR", "0", False), ("RE", "974", False), ("BE", "1000", False),
    ("DE", "10115", False), ("GB", "SW1A", False), ("NL", "1012AB", False), ("CA", "H3A", False),
    ("IE", "D02", False), ("XK", "10000", False), (None, "SW1A", False), (None, "67", False),
    ("FR", "67 0", True), ("FR", " 67", True), ("FR", "67A", True), ("ES", "E28", True), ("IT", "I-00100", True),
    ("PL", "00-9", True), ("GB", "SW1A 1", True), ("GB", "sw1a", True), ("FR", "", True), ("FR", "6" * 11, True),
    ("FR", "６７", True), ("GB", "SW1A\t", True), (None, "67-0", True),
])
def test_how_a_prefix_is_written(country, prefix, wrong):
    assert (postcodes.prefix_problem(country, prefix) is not None) is wrong


def test_the_digit_only_countries_are_countries():
    assert postcodes.DIGIT_POSTCODES <= ISO_COUNTRIES
    assert {"FR", "BE", "DE", "ES", "IT", "CH", "LU", "MC"} <= postcodes.DIGIT_POSTCODES
    assert not {"GB", "NL", "CA", "IE"} & postcodes.DIGIT_POSTCODES


@pytest.mark.parametrize("written, compared", [
    ("67000", "67000"), ("00-950", "00950"), ("sw1a 1aa", "SW1A1AA"), ("1012 AB", "1012AB"), ("", None), (None, None),
    (" - ", None),
])
def test_a_postcode_is_compared_without_spaces_nor_hyphens(written, compared):
    assert postcodes.normalised(written) == compared


def test_country_codes():
    assert len(ISO_COUNTRIES) == 249 and COUNTRIES == ISO_COUNTRIES | {"XK"}
    assert all(len(code) == 2 and code.isupper() and code.isalpha() for code in COUNTRIES)
    for code in ("FR", "BE", "GB", "RE", "MC", "XK"):
        assert is_country(code)
    for code in ("fr", "UK", "EU", "FX", "ZZ", "FRA", ""):
        assert not is_country(code)


def test_the_app_and_the_check_import_without_the_geoip_reader():
    """``geoip2`` (and ``maxminddb``) load on the first lookup, not at the app's cold start, nor when
    the shop's modules are imported."""
    statement = ("import sys, app, chalicelib.services.shop.geo_limits, chalicelib.handlers.geo_limits; "
                 "print(sorted({name.split('.')[0] for name in sys.modules} & {'geoip2', 'maxminddb'}))")
    env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-3", "POWERTOOLS_TRACE_DISABLED": "true"}
    result = subprocess.run([sys.executable, "-c", statement], cwd=ROOT, env=env, capture_output=True, text=True,
                            check=True)
    assert result.stdout.strip() == "[]"
