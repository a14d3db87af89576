"""A field the request schemas refuse is said in French too, for the pages that speak French:
pydantic's standard refusals, from their kind and context; a schema's own rule when it said it
in French (``Unfit``); a rule written in English only keeps its English sentence (no French
invented for it)."""
from __future__ import annotations

from datetime import date
from typing import Literal

import pytest
from pydantic import AwareDatetime, BaseModel, Field

from chalicelib.errors import InvalidInput
from chalicelib.handlers.http import parse_body


class Sample(BaseModel):
    model_config = {"extra": "forbid"}
    name: str = Field(max_length=3)
    code: str = Field(min_length=2, pattern=r"^[A-Z]+$")
    seats: int = Field(ge=1, le=5)
    kind: Literal["sale", "option"]
    count: int
    day: date
    at: AwareDatetime
    tags: list[int] = Field(max_length=1)
    paid: bool
    amount: int = Field(gt=0)


def test_each_standard_refusal_is_said_in_french():
    from pydantic import ValidationError

    from chalicelib.handlers.http import field_errors

    with pytest.raises(ValidationError) as refused:
        Sample.model_validate({"name": "abcd", "code": "a", "seats": 9, "kind": "gift", "count": "x", "day": "nope",
                               "at": "2027-03-12T20:30", "tags": [1, 2], "paid": "maybe", "amount": 0, "extra": 1})
    said = {error.field: error.french for error in field_errors(refused.value)}
    assert said == {
        "name": "3 caractères au plus", "code": "au moins 2 caractères", "seats": "au plus 5",
        "kind": "une de ces valeurs : 'sale' ou 'option'", "count": "un nombre entier est attendu",
        "day": "une date est attendue (AAAA-MM-JJ)", "at": "l'heure doit dire son fuseau",
        "tags": "1 élément au plus", "paid": "oui ou non est attendu", "amount": "plus de 0",
        "extra": "ce champ n'est pas attendu ici"}
    with pytest.raises(ValidationError) as empty:
        Sample.model_validate({})
    assert {error.french for error in field_errors(empty.value)} == {"obligatoire"}


def test_a_schemas_own_rule_says_it_in_french_when_it_wrote_it_so():
    with pytest.raises(InvalidInput) as refused:
        parse_body('{"country": "fr", "postcode_prefixes": ["75 011"], "label": "a\\tb"}'.encode(),
                   "geo_limits:GeoLimitIn")
    said = {error.field: (error.message, error.french) for error in refused.value.errors}
    assert "ISO 3166-1" in said["country"][0] and said["country"][1].startswith("pas un code pays")
    assert said["postcode_prefixes.0"][1] == "sans espace : écrivez 75011 ou SW1A, pas 75 011 ni SW1A 1"
    assert said["label"][1] == "sur une seule ligne, sans retour à la ligne ni tabulation"
    with pytest.raises(InvalidInput) as phone:
        parse_body(b'{"last_name": "Martin", "phones": [{"number": "06 12"}]}', "contacts:ContactIn")
    [number] = phone.value.errors
    assert number.message.startswith("Value error, not a valid number") and number.french.startswith(
        "ce numéro n'existe pas")


def test_a_rule_written_in_english_only_keeps_its_english_sentence_only():
    from chalicelib.handlers.http import parse_query

    with pytest.raises(InvalidInput) as refused:
        parse_query({"q": "martin", "name": "mar"}, "contacts:ContactSearch")
    [both] = refused.value.errors
    assert "not both" in both.message and both.french is None
