"""The content rules run in linear time on any text a venue or a buyer can put in a mail: the
address check used to be one regular expression that took 44 s on 40 KB without an "@"."""
from __future__ import annotations

import re
import signal
from contextlib import contextmanager

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chalicelib.services.mail import content
from chalicelib.services.mail.rendering import RenderedMail

# The former pattern, kept here as the reference of what an address is (on short texts).
REFERENCE = re.compile(r"(?i)[a-z0-9!#$%&'*+/=?^_`{|}~.-]+@[a-z0-9-]+(?:\.[a-z0-9-]+)+|\bmailto:")


@contextmanager
def at_most(seconds: int):
    """Fail instead of hanging: far above a linear check's time, far below a quadratic one's."""
    def too_slow(*_):
        raise AssertionError(f"took more than {seconds} s")

    previous = signal.signal(signal.SIGALRM, too_slow)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


@pytest.mark.parametrize("text", [
    "a" * 400_000,
    "a." * 200_000,
    "a@" * 200_000,
    "@" * 400_000,
    ("x" * 60 + ".") * 6_000,
    "a@b" * 130_000,
    "mailto" * 60_000,
])
def test_the_rules_finish_quickly_on_huge_hostile_texts(text):
    mail = RenderedMail(subject="Votre commande", text=text,
                        html=f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>t</title></head>'
                             f"<body><p>{text}</p></body></html>", language="fr", template="order_confirmation")
    with at_most(10):
        content.content_problems(mail, None)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab.-@:Mmailto x_+é", max_size=40))
def test_addresses_are_found_exactly_where_the_reference_pattern_finds_them(text):
    assert content._has_address(text) == bool(REFERENCE.search(text))
    assert content._without_addresses(text) == REFERENCE.sub(" ", text)


def test_an_address_in_a_sentence_is_still_refused():
    assert content._has_address("Écrivez à resa@maison-danse.fr avant lundi")
    assert not content._has_address("Rendez-vous à 20 h @ la Maison de la danse")
