"""What the request schemas' standard refusals say in French.

The API answers a refused field in English (problem+json, pydantic's own sentence); the console
and the spectators' pages speak French first. For pydantic's standard kinds of refusal (a field
missing, too long, out of range, not a number, not one of the choices...) the French sentence
is written here from the refusal's kind and its context; a schema's own rule says it in French
by raising :class:`~chalicelib.values.unfit.Unfit`, else keeps its English sentence only.
"""
from __future__ import annotations

from typing import Any, Callable

_FRENCH: dict[str, Callable[[dict[str, Any]], str]] = {
    "missing": lambda ctx: "obligatoire",
    "string_too_short": lambda ctx: f"au moins {ctx['min_length']} caractère{'s' if ctx['min_length'] > 1 else ''}",
    "string_too_long": lambda ctx: f"{ctx['max_length']} caractères au plus",
    "string_type": lambda ctx: "un texte est attendu",
    "string_pattern_mismatch": lambda ctx: "la forme n'est pas celle attendue",
    "too_short": lambda ctx: f"au moins {ctx['min_length']} élément{'s' if ctx['min_length'] > 1 else ''}",
    "too_long": lambda ctx: f"{ctx['max_length']} élément{'s' if ctx['max_length'] > 1 else ''} au plus",
    "int_parsing": lambda ctx: "un nombre entier est attendu",
    "int_type": lambda ctx: "un nombre entier est attendu",
    "int_from_float": lambda ctx: "un nombre entier est attendu, sans décimales",
    "float_parsing": lambda ctx: "un nombre est attendu",
    "decimal_parsing": lambda ctx: "un nombre est attendu",
    "bool_parsing": lambda ctx: "oui ou non est attendu",
    "greater_than": lambda ctx: f"plus de {ctx['gt']}",
    "greater_than_equal": lambda ctx: f"au moins {ctx['ge']}",
    "less_than": lambda ctx: f"moins de {ctx['lt']}",
    "less_than_equal": lambda ctx: f"au plus {ctx['le']}",
    "literal_error": lambda ctx: f"une de ces valeurs : {ctx['expected']}".replace(" or ", " ou "),
    "enum": lambda ctx: f"une de ces valeurs : {ctx['expected']}".replace(" or ", " ou "),
    "date_parsing": lambda ctx: "une date est attendue (AAAA-MM-JJ)",
    "date_from_datetime_parsing": lambda ctx: "une date est attendue (AAAA-MM-JJ)",
    "date_type": lambda ctx: "une date est attendue (AAAA-MM-JJ)",
    "datetime_parsing": lambda ctx: "une date et une heure sont attendues",
    "datetime_from_date_parsing": lambda ctx: "une date et une heure sont attendues",
    "datetime_type": lambda ctx: "une date et une heure sont attendues",
    "timezone_aware": lambda ctx: "l'heure doit dire son fuseau",
    "extra_forbidden": lambda ctx: "ce champ n'est pas attendu ici",
    "json_invalid": lambda ctx: "du JSON valide est attendu",
    "dict_type": lambda ctx: "un ensemble de champs est attendu",
    "list_type": lambda ctx: "une liste est attendue",
}


def in_french(kind: str, context: dict[str, Any] | None) -> str | None:
    """The French sentence of a standard refusal of this ``kind`` (pydantic's error type), or of
    a schema's own rule that said it (:class:`~chalicelib.values.unfit.Unfit`); ``None`` for a
    rule that said it in English only."""
    if kind == "value_error":
        return getattr((context or {}).get("error"), "french", None)
    words = _FRENCH.get(kind)
    if words is None:
        return None
    try:
        return words(context or {})
    except (KeyError, TypeError):  # a context of another shape than documented: the English sentence stands
        return None
