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


def test_a_refusal_keeps_its_status_and_says_its_kind_first(monkeypatch):
    """A service's refusal answering 503, 410 or 429 is a page of that status (a 400 before), led
    by its kind in the reader's language, its own sentence marked as English."""
    from types import SimpleNamespace

    from chalicelib.errors import ServiceUnavailable
    from chalicelib.handlers.console import frame
    from chalicelib.services.jobs.framework import JobNotQueued
    from chalicelib.services.shared.kept_places import PlaceExpired
    from chalicelib.services.shop.carts import TooManyCarts

    for refusal, status in ((JobNotQueued("queue gone"), 503), (PlaceExpired("kept a day"), 410),
                            (TooManyCarts("slow down"), 429), (ServiceUnavailable("no secret"), 503)):
        def view(screen, refused=refusal):
            raise refused

        screen = Screen(request=SimpleNamespace(context={"path": "/console/x"}), session=None, language="fr")
        answer = frame._run(view, screen, "GET", None, {})
        assert answer.status_code == status, refusal
        assert refusal.title_fr.replace("'", "&#39;") in answer.body and 'lang="en"' in answer.body
