"""A field the request schemas refuse is said in French too, for the pages that speak French:
pydantic's standard refusals, from their kind and context; a schema's own rule keeps its
English sentence (no French invented for it)."""
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


def test_a_schemas_own_rule_keeps_its_english_sentence_only():
    with pytest.raises(InvalidInput) as refused:
        parse_body(b'{"country": "fr"}', "geo_limits:GeoLimitIn")
    [country] = [error for error in refused.value.errors if error.field == "country"]
    assert "ISO 3166-1" in country.message and country.french is None
