"""A refused field as a console page says it: its French sentence on a French page when the
refusal has one, else its English one without pydantic's "Value error, " before a rule's words."""
from __future__ import annotations

from chalicelib.errors import FieldError
from chalicelib.handlers.console.frame import Screen


def _screen(language: str) -> Screen:
    return Screen(request=None, session=None, language=language)


def test_a_refused_field_in_the_readers_language_without_pydantics_prefix():
    said_both = FieldError("country", "Value error, not an ISO 3166-1 alpha-2 country code", french="pas un code pays")
    english_only = FieldError("q", "Value error, search with q, or by name prefix with name, not both")
    assert _screen("fr").field_message(said_both) == "pas un code pays"
    assert _screen("en").field_message(said_both) == "not an ISO 3166-1 alpha-2 country code"
    assert _screen("fr").field_message(english_only) == "search with q, or by name prefix with name, not both"
    assert _screen("en").field_message(FieldError("name", "String should have at most 200 characters")) == \
        "String should have at most 200 characters"
