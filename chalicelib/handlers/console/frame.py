"""What every console screen shares: the session read from its cookie (renewed while active),
the role each screen needs, the anti-forgery value every POST must carry, the language
(French unless ``?lang=en`` or the language cookie says English), the security headers, the
static assets, and the error pages (a 404 page for an id of another venue).

A screen is declared with :func:`console_route`; its view receives a :class:`Screen` and the
path's values, and returns ``screen.page(...)`` or ``screen.redirect(...)``. Services are called
with ``screen.actor``, the actor the API would build from the same person's token.

Console pages are HTML screens, not the API: they are not in the OpenAPI document.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from functools import lru_cache
from http.cookies import CookieError, SimpleCookie
from typing import Any, Callable
from urllib.parse import parse_qs, urlencode

from chalice import Blueprint, Response

from chalicelib.config import TEMPLATES_DIR, console_settings, settings
from chalicelib.errors import DomainError, FieldError, InvalidInput, NotFound
from chalicelib.observability import logger
from chalicelib.services.staff_sessions import sessions
from chalicelib.services.staff_sessions.sessions import StaffSession

CONSOLE_DIR = TEMPLATES_DIR / "console"
STATIC_DIR = CONSOLE_DIR / "static"
SESSION_COOKIE = "console_session"
LANGUAGE_COOKIE = "console_lang"
LANGUAGES = ("fr", "en")
MAX_FORM_BYTES = 16384
INSECURE_STAGES = ("local", "dev", "test")  # the local stack, served over plain http on the loopback
PAGE_SIZE = 25
QUERY_VALUE_LIMIT = 2000  # the API schemas' bound on a cursor


@dataclass
class Screen:
    """One request to a console screen."""

    request: Any
    session: StaffSession | None
    language: str
    form: dict[str, list[str]] = field(default_factory=dict)
    cookies: list[str] = field(default_factory=list)

    @property
    def actor(self):
        return self.session.actor

    @property
    def zone(self) -> str:
        """The venue's clock the console reads and shows times on: the organisation's zone (its
        profile; Europe/Paris until it says otherwise), the zone its business days are counted in."""
        if self.session is None:
            return settings.default_timezone
        from chalicelib.services.ledger.ledger import business_zone

        return business_zone(self.actor.tenant_id).key

    def field_message(self, refused: FieldError) -> str:
        """A refused field's message in the reader's language when the refusal has one in French,
        else as written (English), without pydantic's "Value error, " before a rule's own words."""
        if refused.french and self.language == "fr":
            return refused.french
        return refused.message.removeprefix("Value error, ")

    def say(self, french: str, english: str) -> str:
        return _say(self.language)(french, english)

    def value(self, name: str, limit: int = 200) -> str:
        """A form field, trimmed and bounded."""
        return (self.form.get(name) or [""])[0].strip()[:limit]

    def read_at_version(self) -> int | None:
        """The version of the record the form showed (its hidden ``version`` field), for the
        service to refuse a change made from a stale form; ``None`` for a form without one."""
        shown = self.value("version", 12)
        return int(shown) if shown.isdigit() else None

    def moment(self, name: str) -> str | None:
        """A ``datetime-local`` field, typed on the venue's clock, as an aware ISO date-time (``None``
        when empty); anything else is left as typed, for the schema to refuse on that field."""
        from datetime import datetime
        from zoneinfo import ZoneInfo

        typed = self.value(name, 40)
        try:
            local = datetime.fromisoformat(typed) if typed else None
        except ValueError:
            return typed
        if local is None or local.tzinfo is not None:
            return local.isoformat() if local else None
        return local.replace(tzinfo=ZoneInfo(self.zone)).isoformat()

    def hundredths(self, name: str) -> int:
        """A decimal with at most two decimals, typed the French or English way (``12,50``,
        ``12.5``, ``1 234``), in hundredths: euros to cents, a percentage to basis points; empty is 0."""
        from chalicelib.values.cents import from_typed

        typed = self.value(name, 20)
        try:
            return from_typed(typed) if typed else 0
        except ValueError:
            raise InvalidInput.on(name, _say(self.language)("Un nombre, par exemple 12,50.",
                                                            "A number, for example 12.50.")) from None

    def values(self, name: str) -> list[str]:
        return [value.strip()[:64] for value in self.form.get(name, [])][:500]

    def query(self, name: str) -> str | None:
        """A query string value, trimmed and bounded (at a length a list's signed cursor fits in:
        a cut cursor would be refused; the API's schemas bound each value further)."""
        return ((self.request.query_params or {}).get(name) or "").strip()[:QUERY_VALUE_LIMIT] or None

    def query_values(self, name: str) -> list[str]:
        """Every value of a repeated query parameter (``?position=1&position=2``), bounded."""
        params = self.request.query_params or {}
        if name not in params:  # Chalice's getlist raises on a name that is absent
            return []
        found = params.getlist(name) if hasattr(params, "getlist") else [params[name]]
        return [value.strip()[:200] for value in found[:500]]

    @property
    def path(self) -> str:
        return self.request.context.get("path") or "/console"

    def page(self, template: str, status: int = 200, **context: Any) -> Response:
        return Response(body=render(template, self, **context), status_code=status, headers={})

    def redirect(self, location: str) -> Response:
        """After a POST, the next page by GET (303), so a reload never posts twice."""
        return Response(body="", status_code=303, headers={"Location": location})


def _say(language: str) -> Callable[[str, str], str]:
    from chalicelib.values.text import in_language

    return lambda french, english: in_language(language, french, english)


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(loader=FileSystemLoader(str(CONSOLE_DIR)), undefined=StrictUndefined, autoescape=True,
                       trim_blocks=True, lstrip_blocks=True, auto_reload=False)


def render(template: str, screen: Screen, **context: Any) -> str:
    from chalicelib.values import formatting

    language, zone = screen.language, screen.zone

    def when(moment) -> str:
        return formatting.datetime_text(moment, zone, language) if moment else "—"

    def money(cents, currency="EUR") -> str:
        return formatting.money(int(cents or 0), currency, language)

    session = screen.session
    return _environment().get_template(template).render(
        language=language, t=_say(language), when=when, money=money, session=session,
        form_value=session.form_value() if session else "", may=(session.may if session else (lambda role: False)),
        asset=asset_url, here=screen.path, other_language="en" if language == "fr" else "fr", **context)


@lru_cache(maxsize=None)
def _asset_version(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]


def asset_url(name: str) -> str:
    """A static asset's address, versioned by its content: cached for a year, never stale."""
    return f"/console/static/{_asset_version(name)}/{name}"


def security_headers() -> dict[str, str]:
    return {
        "Content-Type": "text/html; charset=utf-8",
        "Content-Security-Policy": ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
                                    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
                                    "base-uri 'none'"),
        "Referrer-Policy": "same-origin",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Cache-Control": "no-store, private",
        "Cross-Origin-Opener-Policy": "same-origin",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    }


def cookie_of(request, name: str) -> str | None:
    jar = SimpleCookie()
    try:
        jar.load(request.headers.get("cookie") or "")
    except CookieError:
        return None
    return jar[name].value if name in jar else None


def set_cookie(name: str, value: str, max_age: int, *, path: str = "/console") -> str:
    # Secure everywhere but the local stack (a browser drops a Secure cookie sent over plain http)
    plain_http = settings.stage in INSECURE_STAGES and settings.public_base_url.startswith("http://")
    secure = "" if plain_http else "; Secure"
    return f"{name}={value}; Path={path}; Max-Age={max_age}; HttpOnly; SameSite=Lax{secure}"


def session_cookie(value: str) -> str:
    return set_cookie(SESSION_COOKIE, value, console_settings.idle_minutes * 60)


def _language(request) -> tuple[str, str | None]:
    """The page's language, and the cookie to set when ``?lang=`` chose it."""
    asked = ((request.query_params or {}).get("lang") or "").lower()
    if asked in LANGUAGES:
        return asked, set_cookie(LANGUAGE_COOKIE, asked, 365 * 24 * 3600)
    kept = cookie_of(request, LANGUAGE_COOKIE)
    return (kept if kept in LANGUAGES else "fr"), None


ERROR_TITLES = {
    400: ("Demande incorrecte", "Bad request"), 401: ("Connexion requise", "Sign-in needed"),
    403: ("Action refusée", "Not allowed"), 404: ("Page introuvable", "Not found"),
    409: ("Impossible dans l'état actuel", "Not possible in the current state"),
    410: ("Page expirée", "Page expired"), 413: ("Formulaire trop long", "Form too long"),
    422: ("Saisie à corriger", "Input to correct"), 429: ("Trop de demandes à la fois", "Too many requests at once"),
    500: ("Erreur inattendue", "Unexpected error"),
    503: ("Momentanément indisponible : réessayez dans un instant", "Unavailable for a moment: try again shortly"),
}


def error_page(screen: Screen, status: int, detail: str, refusal: "Refusal | None" = None) -> Response:
    """A page saying why nothing was done: ``detail`` in the reader's language, or a service's
    ``refusal``."""
    title = _say(screen.language)(*ERROR_TITLES.get(status, ERROR_TITLES[400]))
    return screen.page("error.html.j2", status=status, title=title, detail=detail, refusal=refusal)


@dataclass(frozen=True)
class Refusal:
    """A service's refusal as a console page says it: its kind's title in the reader's language,
    then the service's own words, which are written in English (as the API's problem details
    are), so a French page marks them as English."""

    lead: str
    detail: str
    field_errors: list[tuple[str, str, str]]  # (field, message, the message's language)


def refusal_of(screen: Screen, error: DomainError) -> Refusal:
    return Refusal(lead=screen.say(error.title_fr, error.title), detail=error.detail,
                   field_errors=[(item.field, screen.field_message(item),
                                  "fr" if item.french and screen.language == "fr" else "en") for item in error.errors])


def _sign_in_redirect(screen: Screen) -> Response:
    query = (screen.request.query_params or {})
    target = screen.path + (f"?{urlencode(query)}" if query else "")
    return screen.redirect("/console/sign-in?" + urlencode({"next": target}))


def _read_form(screen: Screen) -> Response | None:
    body = screen.request.raw_body or b""
    if len(body) > MAX_FORM_BYTES:
        return error_page(screen, 413, "")
    screen.form = parse_qs(body.decode("utf-8", errors="replace"), max_num_fields=600)
    return None


def _guarded(screen: Screen, method: str, role: str | None) -> Response | None:
    """The refusal of a request the session may not make, else ``None``."""
    if role is None:
        return _read_form(screen) if method == "POST" else None
    if screen.session is None:
        return _sign_in_redirect(screen) if method == "GET" else error_page(screen, 401, "")
    if not screen.session.may(role):
        return error_page(screen, 403, _say(screen.language)("Cet écran est réservé aux administrateurs.",
                                                               "This screen is for administrators only."))
    if method == "POST":
        refused = _read_form(screen)
        if refused or sessions.form_is_genuine(screen.session, screen.value("form", 400)):
            return refused
        return error_page(screen, 403, _say(screen.language)(
            "Ce formulaire a expiré ou ne vient pas de la console : rechargez la page puis recommencez.",
            "This form has expired or did not come from the console: reload the page and try again."))
    return None


def _run(view: Callable, screen: Screen, method: str, role: str | None, path: dict) -> Response:
    try:
        return _guarded(screen, method, role) or view(screen, **path)
    except NotFound:
        return error_page(screen, 404, _say(screen.language)("Rien à cette adresse pour votre salle.",
                                                             "Nothing at this address for your venue."))
    except DomainError as error:
        return error_page(screen, error.status if error.status in ERROR_TITLES else 400, "",
                          refusal=refusal_of(screen, error))
    except Exception:  # a bug: logged whole, the page says nothing of the internals
        logger.exception("unhandled error in console %s %s", method, screen.path)
        return error_page(screen, 500, _say(screen.language)("Réessayez ; si cela persiste, notez l'heure.",
                                                             "Please retry; if it persists, note the time."))


def _finish(response: Response, screen: Screen, language_cookie: str | None) -> Response:
    headers = {**security_headers(), **(response.headers or {})}
    # One Set-Cookie per answer: the language choice, a new or ended session, or a renewal.
    chosen = screen.cookies[-1] if screen.cookies else language_cookie
    if chosen is None and screen.session is not None:
        renewed = sessions.renewal(screen.session)
        chosen = session_cookie(renewed) if renewed else None
    if chosen:
        headers["Set-Cookie"] = chosen
    return Response(body=response.body, status_code=response.status_code, headers=headers)


def console_route(bp: Blueprint, path: str, *, methods: tuple[str, ...] = ("GET",), role: str | None = "staff"
                  ) -> Callable:
    """Register a console screen on ``bp``; ``role=None`` for the sign-in pages only."""

    def register(view: Callable) -> Callable:
        def endpoint(**path_params: str) -> Response:
            request = bp.current_request
            language, language_cookie = _language(request)
            screen = Screen(request, sessions.read_session(cookie_of(request, SESSION_COOKIE)), language)
            return _finish(_run(view, screen, request.method, role, path_params), screen, language_cookie)

        endpoint.__name__ = f"console_{view.__name__}"
        bp.route(path, methods=list(methods), content_types=["*/*"])(endpoint)
        return view

    return register


def paging_link(screen: Screen, cursor: str | None, name: str = "cursor") -> str | None:
    """The next page's address: the same filters (and the other lists' places), the next cursor
    in ``name`` (a screen with two lists pages each under its own name)."""
    if not cursor:
        return None
    query = {key: value for key, value in (screen.request.query_params or {}).items() if key != name}
    return screen.path + "?" + urlencode({**query, name: cursor})


def form_body(values: dict, model: str) -> Any:
    """A form's values read with the API's own body schema ``model``: the same refusals as the
    API (its field errors), and the same size bound."""
    import json

    from chalicelib.handlers.http import parse_body

    return parse_body(json.dumps(values).encode(), model)
