"""Spectators' HTML pages: one Jinja environment over ``templates/pages`` and the headers every
page is sent with.

Pages carry no script at all, and their one stylesheet is inline: the Content-Security-Policy
allows exactly that stylesheet by its SHA-256 hash (``style-src 'sha256-...'``), nothing else
(no script, no frame, no plugin; forms post only to this site). Pages are not cached, not
framed, and send no referrer (the link in the address bar is the spectator's key).
"""
from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import Any

from chalicelib.config import TEMPLATES_DIR

PAGES_DIR = TEMPLATES_DIR / "pages"


@lru_cache(maxsize=1)
def stylesheet() -> str:
    return (PAGES_DIR / "_page.css").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    from chalicelib.values import formatting

    environment = Environment(loader=FileSystemLoader(str(PAGES_DIR)), undefined=StrictUndefined, autoescape=True,
                              trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    environment.filters["money"] = formatting.money
    return environment


def security_headers() -> dict[str, str]:
    digest = base64.b64encode(hashlib.sha256(stylesheet().encode("utf-8")).digest()).decode()
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": (f"default-src 'none'; style-src 'sha256-{digest}'; img-src 'self' data:; "
                                    f"form-action 'self'; frame-ancestors 'none'; base-uri 'none'"),
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store, private",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def render(template: str, language: str, **context: Any) -> str:
    from chalicelib.values.text import in_language

    def say(french: str, english: str) -> str:
        return in_language(language, french, english)

    return _environment().get_template(template).render(language=language, t=say, css=stylesheet(), **context)
