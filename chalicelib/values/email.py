"""Mail addresses as we store them: the shape checked, the domain in lower case (and in its
ASCII form when it is an internationalised one), the part before the "@" in ASCII.

Why ASCII before the "@": Amazon SES sends only to addresses whose local part is ASCII (it does
not speak SMTPUTF8), so ``benoît@orange.fr`` would be accepted here and never delivered there.
It is refused at input with a suggestion (``benoit@orange.fr``?). An internationalised domain
(``exemple.café``) is kept, written in its ASCII form (``xn--...``), which every transport sends to.
"""
from __future__ import annotations

import re
import unicodedata

from chalicelib.values.unfit import Unfit

_EMAIL = re.compile(r"^[!#$%&'*+/=?^_`{|}~.A-Za-z0-9-]{1,64}@(?=.{4,253}$)"
                    r"([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z0-9-]{2,63}$")


def normalise_email(value: str) -> str:
    """A mail address as we store it, or ValueError saying what is wrong with it."""
    candidate = value.strip()
    if candidate.count("@") != 1:
        raise _not_an_address()
    local, domain = candidate.split("@")
    if not local.isascii():
        plain = unicodedata.normalize("NFKD", local).encode("ascii", "ignore").decode()
        raise Unfit("the part before @ must be written without accents: mail providers cannot deliver to it"
                    + (f" (did you mean {plain}@{domain}?)" if plain else ""),
                    "la partie avant @ s'écrit sans accents : les messageries ne savent pas y livrer"
                    + (f" (vouliez-vous dire {plain}@{domain} ?)" if plain else ""))
    domain = _ascii_domain(domain)
    address = f"{local}@{domain}"
    if not _EMAIL.match(address) or ".." in address or domain.rsplit(".", 1)[-1].isdigit():
        raise _not_an_address()
    return address


def _not_an_address() -> Unfit:
    return Unfit("not a valid e-mail address (expected name@domain.tld)",
                 "ce n'est pas une adresse e-mail valide (attendu : nom@domaine.fr)")


def _ascii_domain(domain: str) -> str:
    if domain.isascii():
        return domain.lower()
    try:
        return domain.encode("idna").decode("ascii").lower()
    except UnicodeError:
        raise Unfit("the domain after @ is not a valid domain name",
                    "le domaine après @ n'est pas un nom de domaine valide") from None
