"""Mail addresses as we store them: the shape checked, the domain in lower case."""
from __future__ import annotations

import re

_EMAIL = re.compile(r"^[^@\s\"<>()\[\],;:]{1,64}@(?=.{4,253}$)([A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


def normalise_email(value: str) -> str:
    """A mail address as we store it (domain in lower case), or ValueError if it cannot be one."""
    candidate = value.strip()
    if not _EMAIL.match(candidate) or ".." in candidate:
        raise ValueError("not a valid e-mail address (expected name@domain.tld)")
    local, domain = candidate.rsplit("@", 1)
    return f"{local}@{domain.lower()}"
