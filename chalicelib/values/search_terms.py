"""The words a customer is found by, and the words staff type to find them (pure rules).

A contact's **tokens** are what its record says, each normalised and tagged with what it is:
names (each word), e-mails (whole), phones (E.164 digits, and the national writing for French
numbers), postcode, city and street words, and the numbers the system gave it (customer,
subscriber). Staff's **terms** are folded the same way (accents and case ignored); a term
matches a token it is the start of (``mart`` finds ``martin``). A query that is all one phone
number or number (``06 12 34 56 78``, ``0033 6…``, ``1042``) is one term, in digits.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from chalicelib.values.phones import e164, national
from chalicelib.values.text import fold
from chalicelib.values.unfit import Unfit

MAX_TOKENS = 80  # what one contact's write may carry to the index (a transaction holds 100 items)
MAX_TERMS = 6
MAX_TERM_CHARS = 60
MIN_TERM_CHARS = 2
# Words of street names too common to find anyone by.
STREET_WORDS = frozenset({"rue", "de", "du", "des", "la", "le", "les", "l", "d", "et", "avenue", "av", "boulevard",
                          "bd", "place", "pl", "quai", "cours", "chemin", "impasse", "allee", "route", "square",
                          "bis", "ter", "montee", "passage", "residence", "bat", "batiment", "appartement", "apt"})
_WORD = re.compile(r"[a-z0-9]+")
_NUMBERISH = re.compile(r"^\+?[0-9 ().-]+$")

# What a token is, in the order a match on it ranks (exact numbers and e-mails first).
RANKED_KINDS = ("number", "email", "phone", "name", "postcode", "city", "street")


def words(text: str | None) -> list[str]:
    return _WORD.findall(fold(text))


def contact_tokens(*, last_name: str | None, first_name: str | None, emails: list[str], phones: list[str],
                   addresses: list[dict], numbers: list[str]) -> dict[str, str]:
    """``{token: kind}`` for a contact (the first kind wins when two fields give one token), at
    most :data:`MAX_TOKENS`, the most telling kinds kept first."""
    found: dict[str, str] = {}

    def add(token: str, kind: str) -> None:
        if len(token) >= MIN_TERM_CHARS and token not in found:
            found[token] = kind

    for number in numbers:
        add(_joined(number), "number")
        for part in words(number):  # "ABO 7781" is also typed as two words
            add(part, "number")
    for address in emails:
        add(address.strip().lower(), "email")
    for phone in phones:
        try:
            normalised = e164(phone)
        except ValueError:
            continue
        add(normalised[1:], "phone")
        if national(normalised):
            add(national(normalised), "phone")
    for word in words(last_name) + words(first_name):
        add(word, "name")
    for address in addresses:
        add(fold(address.get("postcode")).replace(" ", ""), "postcode")
    for address in addresses:
        for word in words(address.get("city")):
            add(word, "city")
    for address in addresses:
        for word in words(" ".join(filter(None, (address.get("line1"), address.get("line2"))))):
            if word not in STREET_WORDS and not word.isdigit():
                add(word, "street")
    return dict(list(found.items())[:MAX_TOKENS])


@dataclass(frozen=True)
class Term:
    text: str
    exact_kinds: tuple[str, ...] = ()  # kinds whose whole token must equal the term to rank first


def query_terms(query: str) -> list[Term]:
    """Staff's query as terms (``ValueError`` saying why when it has none usable, or too many)."""
    query = query.strip()
    if _NUMBERISH.match(query) and any(char.isdigit() for char in query):
        return [_number_term(query)]  # one digit is an order number; it is looked up, not walked
    terms = []
    for piece in query.split():
        if "@" in piece:
            terms.append(Term(piece.lower()[:MAX_TERM_CHARS], ("email",)))
        elif any(char.isdigit() for char in piece) and any(char.isalpha() for char in piece):
            terms.append(Term(_joined(piece)[:MAX_TERM_CHARS], ("number",)))  # "AB-0042": one number
        else:
            terms += [Term(word[:MAX_TERM_CHARS], ("number",)) for word in words(piece)
                      if len(word) >= MIN_TERM_CHARS]
    if not terms:
        raise Unfit(f"type at least {MIN_TERM_CHARS} letters or digits",
                    f"tapez au moins {MIN_TERM_CHARS} lettres ou chiffres")
    if len(terms) > MAX_TERMS:
        raise Unfit(f"at most {MAX_TERMS} words", f"{MAX_TERMS} mots au plus")
    return list(dict.fromkeys(terms))


def _joined(text: str) -> str:
    """A number as one token, whatever separates its parts (``AB-0042`` -> ``ab0042``)."""
    return "".join(words(text))


def _number_term(query: str) -> Term:
    """A query that is all digits: a phone number (to E.164 digits) when it reads as one, else
    the digits themselves (a customer, subscriber or order number, or the start of a phone)."""
    digits = re.sub(r"[^0-9]", "", query)
    try:
        return Term(e164(query)[1:], ("phone", "number"))
    except ValueError:
        return Term(digits[:MAX_TERM_CHARS], ("number", "phone"))
