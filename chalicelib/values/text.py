"""Text as people type and read it: folded for search (accents and case ignored), numbers
recognised, and the language a sentence is said in."""
from __future__ import annotations

import unicodedata


def fold(text: str | None) -> str:
    """``"  Élodie  DUPONT-Lefèvre"`` -> ``"elodie dupont-lefevre"``."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())


def number_in(text: str | None, *, max_digits: int = 18) -> int | None:
    """The whole number ``text`` spells in ASCII digits (``" 1042 "`` -> 1042), or ``None``.

    Only ``0-9`` count: ``"²"`` or ``"١٢"`` are digits to :meth:`str.isdigit` but not a number
    anyone types for an order, and ``int()`` refuses some of them."""
    candidate = (text or "").strip()
    if not candidate or len(candidate) > max_digits or not candidate.isascii() or not candidate.isdigit():
        return None
    return int(candidate)


def in_language(language: str | None, french: str, english: str) -> str:
    """French unless ``language`` is English (``en``, ``en-GB``): the product speaks French first."""
    return english if (language or "").lower().startswith("en") else french
