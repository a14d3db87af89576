"""Text folding for search: what staff type matches what is stored, whatever the accents or case."""
from __future__ import annotations

import unicodedata


def fold(text: str | None) -> str:
    """``"  Élodie  DUPONT-Lefèvre"`` -> ``"elodie dupont-lefevre"``."""
    if not text:
        return ""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return " ".join(bare.casefold().split())
