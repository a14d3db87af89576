"""SIREN, SIRET and French VAT numbers: normalised, checked (Luhn, VAT key), and the schema
refuses the bad ones naming the field."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chalicelib.values import french_ids

# Real, public identifiers: EDF, Engie, Renault (the SIRET of their head offices).
SIRETS = ["55208131766522", "54210765113030", "73282932000074"]
VAT_NUMBERS = {"552081317": "FR03552081317", "542107651": "FR13542107651", "732829320": "FR44732829320"}


@pytest.mark.parametrize("siret", SIRETS)
def test_real_sirets_pass(siret):
    assert french_ids.is_valid_siret(siret)
    assert french_ids.check_siret(french_ids.spaced_siret(siret)) == siret


@pytest.mark.parametrize("siren,vat_number", VAT_NUMBERS.items())
def test_the_vat_key_is_computed_from_the_siren(siren, vat_number):
    assert french_ids.vat_number_for(siren) == vat_number
    assert french_ids.is_valid_vat_number(vat_number)
    assert french_ids.check_vat_number(f"{vat_number[:2].lower()} {vat_number[2:4]} {vat_number[4:]}") == vat_number


@given(st.sampled_from(SIRETS), st.integers(0, 13), st.integers(1, 9))
def test_any_single_digit_typo_in_a_siret_is_caught(siret, index, shift):
    typo = siret[:index] + str((int(siret[index]) + shift) % 10) + siret[index + 1:]
    assert not french_ids.is_valid_siret(typo)


@given(st.sampled_from(sorted(VAT_NUMBERS.values())), st.integers(2, 12), st.integers(1, 9))
def test_any_single_digit_typo_in_a_vat_number_is_caught(vat_number, index, shift):
    typo = vat_number[:index] + str((int(vat_number[index]) + shift) % 10) + vat_number[index + 1:]
    assert not french_ids.is_valid_vat_number(typo)


@pytest.mark.parametrize("bad", ["7328293200007", "732829320000740", "7328293200007A", "73282932000075", ""])
def test_bad_sirets_are_refused_with_a_reason(bad):
    with pytest.raises(ValueError):
        french_ids.check_siret(bad)


@pytest.mark.parametrize("bad", ["FR45732829320", "FR4473282932", "DE44732829320", "FRXX732829320",
                                 "FR00000000001", "44732829320"])
def test_bad_vat_numbers_are_refused_with_a_reason(bad):
    with pytest.raises(ValueError):
        french_ids.check_vat_number(bad)


def test_the_siren_inside_a_siret_or_a_vat_number():
    assert french_ids.siren_of("73282932000074") == french_ids.siren_of("FR44732829320") == "732829320"


def test_the_profile_schema_normalises_and_names_the_bad_field():
    from pydantic import ValidationError

    from chalicelib.schemas.organisation import OrganisationIn

    base = {"legal_name": "Renault SAS", "address_line1": "122-122 bis avenue du Général Leclerc",
            "postcode": "92100", "city": "Boulogne-Billancourt"}
    profile = OrganisationIn.model_validate({**base, "siret": "732 829 320 00074", "vat_number": "fr44 732 829 320"})
    assert (profile.siret, profile.vat_number) == ("73282932000074", "FR44732829320")
    with pytest.raises(ValidationError) as refused:
        OrganisationIn.model_validate({**base, "siret": "73282932000075"})
    assert [error["loc"] for error in refused.value.errors()] == [("siret",)]
    with pytest.raises(ValidationError) as refused:
        OrganisationIn.model_validate({**base, "siret": "73282932000074", "vat_number": "FR45732829320"})
    assert [error["loc"] for error in refused.value.errors()] == [("vat_number",)]
