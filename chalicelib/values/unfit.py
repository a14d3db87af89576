"""A value that does not fit its field, said in English and in French.

The API's problem details are in English; the console and the spectators' pages speak French
first. A rule that refuses a value raises :class:`Unfit` with both sentences: pydantic keeps
the exception in its refusal's context, so the French one reaches the page
(:mod:`chalicelib.values.validation_words`), and a service names the field with both.
"""
from __future__ import annotations


class Unfit(ValueError):
    """What is wrong with a value, in words for the person who typed it (English, and ``french``)."""

    def __init__(self, english: str, french: str) -> None:
        super().__init__(english)
        self.french = french

    @property
    def english(self) -> str:
        return str(self.args[0])
