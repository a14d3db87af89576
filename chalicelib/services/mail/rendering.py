"""Mail rendering: a template name, a language and a context become a subject, a plain-text
part and an HTML part. Sending is elsewhere.

**Templates.** ``templates/mail/<name>.<lang>.j2`` (``fr``, ``en``) define named blocks of
*plain text*: ``subject`` (one line), ``greeting``, ``intro``, ``details``, ``action_label``
(the label of the single action link, optional) and ``closing``. Blank lines separate
paragraphs; a single line break stays a line break. A template that leaves out ``greeting``
or ``closing`` gets the default of ``templates/mail/_blocks.j2`` (it sees ``language``).
Undefined variables raise (``StrictUndefined``), so a missing context key fails a test
instead of reaching a spectator; it surfaces as :class:`MailTemplateError`.

**Context.** Display-ready values (amounts and dates already formatted for the mail's
language with :mod:`chalicelib.values.formatting`, counts as ints); ``language`` is added
(the language actually rendered). The formatting functions are also Jinja filters
(``money``, ``datetime_text``, ``date_text``, ``time_text``, ``count_noun``) for templates
and overrides given raw values. ``templates/mail/samples.json`` holds a realistic context per
template (:func:`sample_context`), for previews and tests.

**Parts.** The text part is greeting, paragraphs, the custom message, the action label with
the bare URL on its own line, closing. The HTML part is built here from the same block texts:
each paragraph escaped into a ``<p>``, the action as one button-like ``<a>``, inline styles
only, no image, no remote resource. Both parts carry exactly the same words.

**Venue texts.** ``custom_message`` (per ticket type, plain text, never a template) is its own
paragraph(s) after ``details``. ``overrides`` maps a block name to a venue's template text that
replaces the default block; it is rendered in an immutable Jinja sandbox (no attribute access
to Python internals, no mutation, bounded ``*``/``**``), and its mistakes raise
:class:`~chalicelib.errors.InvalidInput` naming ``overrides.<block>``. :func:`~chalicelib.services.mail.content.check_overrides`
runs the same checks on the sample context, for when a venue saves its texts.

Jinja is imported on first use, never when the app is imported.
"""
from __future__ import annotations

import json
import re
from copy import deepcopy
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping

from chalicelib.config import TEMPLATES_DIR
from chalicelib.errors import FieldError, InvalidInput, NotFound, Unexpected
from chalicelib.values import formatting

TEMPLATE_ROOT = TEMPLATES_DIR
MAIL_DIR = TEMPLATE_ROOT / "mail"
SAMPLES_FILE = MAIL_DIR / "samples.json"
DEFAULTS_TEMPLATE = "_blocks.j2"

LANGUAGES = ("fr", "en")
"""Languages we write mails in, French first: any other language falls back to French."""
BLOCKS = ("subject", "greeting", "intro", "details", "action_label", "closing")
BODY_BLOCKS = ("intro", "details")
SUBJECT_MAX = 120
OVERRIDE_MAX = 4000
SAMPLE_ACTION_URL = "https://billetterie.example.org/r/01JD3X8Y7ZQ4P2M6N5K9R0T1VW"
ACTION_REQUIRED = frozenset({"performance_cancelled", "performance_postponed", "instalment_authentication"})
"""Templates whose whole point is their link (the refund page): rendering one without an action URL raises."""

_NAME = re.compile(r"[a-z][a-z0-9_]{0,63}")
_BLANK_LINES = re.compile(r"\n[ \t]*\n")


class MailTemplateError(Unexpected):
    """A mail template could not be rendered with the context it was given (a bug: a key
    missing from the context, a broken template file)."""

    kind = "internal"
    title = "A mail could not be written"
    title_fr = "Un message n'a pas pu être rédigé"


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str
    language: str
    template: str


# --- templates and samples -------------------------------------------------------------------


def template_names() -> tuple[str, ...]:
    """Every mail template that has at least one language file, sorted."""
    return tuple(sorted({name for name, _ in _template_files()}))


def template_languages(name: str) -> tuple[str, ...]:
    """The languages ``name`` is written in (French first)."""
    found = {language for template, language in _template_files() if template == name}
    return tuple(language for language in LANGUAGES if language in found)


def require_template(name: str, language: str | None = None) -> None:
    """:class:`~chalicelib.errors.NotFound` unless ``name`` is a mail template (in ``language``, if given)."""
    if name not in template_names() or (language is not None and language not in LANGUAGES):
        raise NotFound(f"No mail template {name!r}" + (f" in {language!r}." if language else "."))


def _template_files() -> list[tuple[str, str]]:
    files = []
    for path in MAIL_DIR.glob("*.j2"):
        name, _, language = path.name[: -len(".j2")].rpartition(".")
        if name and not name.startswith("_") and language in LANGUAGES:
            files.append((name, language))
    return files


@lru_cache(maxsize=1)
def _samples() -> dict[str, Any]:
    return json.loads(SAMPLES_FILE.read_text(encoding="utf-8"))


def sample_context(name: str, language: str = "fr") -> dict[str, Any]:
    """A realistic context for ``name`` (a fresh copy), with the values written for ``language``.

    ``samples.json`` maps each template name to ``{"context": {...}, "by_language": {"en":
    {...}}, "key_facts": [...]}``: ``by_language`` replaces the values that are formatted per
    language (dates, amounts); ``key_facts`` names the context keys whose values every part of
    the mail must show (checked by the template tests).
    """
    sample = _samples().get(name)
    if sample is None:
        raise NotFound(f"No sample context for mail template {name!r}.")
    context = deepcopy(sample["context"])
    context.update(deepcopy(sample.get("by_language", {}).get(_language_code(language), {})))
    return context


def sample_key_facts(name: str) -> tuple[str, ...]:
    """The context keys whose values every part of ``name`` must show (from ``samples.json``)."""
    sample = _samples().get(name)
    if sample is None:
        raise NotFound(f"No sample context for mail template {name!r}.")
    return tuple(sample.get("key_facts", ()))


def offers_action(name: str, language: str | None = "fr") -> bool:
    """Whether template ``name`` (in ``language``, else French) has an action link to offer
    (an ``action_label`` block); only then may :func:`render_mail` get an ``action_url``."""
    from jinja2 import TemplateError

    file_name, _ = _resolve(name, language)
    try:
        return "action_label" in _environment().get_template(file_name).blocks
    except TemplateError as error:
        raise MailTemplateError(f"Mail {file_name} cannot be loaded: {error}") from error


def _language_code(language: str | None) -> str:
    return (language or "fr").strip().lower().replace("_", "-").split("-")[0]


def _resolve(name: str, language: str | None) -> tuple[str, str]:
    """``(file name, language)`` of the template to render: the wanted language, else French."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise NotFound(f"There is no mail template {name!r}.")
    wanted = _language_code(language)
    for candidate in (wanted, "fr", *LANGUAGES):
        if candidate in LANGUAGES and (MAIL_DIR / f"{name}.{candidate}.j2").is_file():
            return f"{name}.{candidate}.j2", candidate
    raise NotFound(f"There is no mail template {name!r}.")


# --- Jinja environments ---------------------------------------------------------------------


def _filters() -> dict[str, Any]:
    return {
        "money": formatting.money,
        "datetime_text": formatting.datetime_text,
        "date_text": formatting.date_text,
        "time_text": formatting.time_text,
        "count_noun": formatting.count_noun,
    }


@lru_cache(maxsize=1)
def _environment() -> Any:
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    environment = Environment(loader=FileSystemLoader(str(MAIL_DIR)), undefined=StrictUndefined, autoescape=False,
                              trim_blocks=True, lstrip_blocks=True, auto_reload=False)
    environment.filters.update(_filters())
    return environment


SANDBOX_FILTERS = ("default", "d", "upper", "lower", "capitalize", "title", "trim", "length", "first", "last",
                   "join", "round", "int", "string", "abs")
"""Jinja's built-in filters a venue's text may use (others, like ``center`` or ``replace``, can build huge strings)."""
SANDBOX_RANGE_MAX = 100
OVERRIDE_OUTPUT_MAX = 20_000


@lru_cache(maxsize=1)
def _sandbox() -> Any:
    """The immutable sandbox venues' texts run in: no attribute access to Python internals, no
    mutation of the context, a short list of filters and globals, and no operator that builds a
    huge string or number (``*``, ``**``, ``%`` are checked). The rendered length is capped by
    :func:`_render_override`. A text can still loop (bounded ranges); the Lambda timeout bounds it."""
    from jinja2 import StrictUndefined
    from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

    class VenueSandbox(ImmutableSandboxedEnvironment):
        intercepted_binops = frozenset({"*", "**", "%"})

        def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
            if operator == "**" and isinstance(right, (int, float)) and abs(right) > 64:
                raise SecurityError("exponent too large")
            if operator == "%" and isinstance(left, str):
                raise SecurityError("string formatting with % is not available")
            if operator == "*":
                for sequence, times in ((left, right), (right, left)):
                    if (isinstance(sequence, (str, list, tuple)) and isinstance(times, int)
                            and times * len(sequence) > OVERRIDE_MAX):
                        raise SecurityError("repetition too large")
            return super().call_binop(context, operator, left, right)

    def bounded_range(*args: int) -> range:
        numbers = range(*args)
        if len(numbers) > SANDBOX_RANGE_MAX:
            raise SecurityError(f"range larger than {SANDBOX_RANGE_MAX}")
        return numbers

    sandbox = VenueSandbox(undefined=StrictUndefined, autoescape=False, trim_blocks=True, lstrip_blocks=True)
    sandbox.filters = {name: sandbox.filters[name] for name in SANDBOX_FILTERS} | _filters()
    sandbox.globals = {"range": bounded_range}
    return sandbox


def _render_block(template: Any, block: str, context: Mapping[str, Any]) -> str | None:
    """The text of ``block`` of ``template`` (``None`` if the template has no such block)."""
    render = template.blocks.get(block)
    if render is None:
        return None
    return "".join(render(template.new_context(dict(context))))


def _render_override(block: str, source: str, context: Mapping[str, Any]) -> str:
    from jinja2 import TemplateError

    if not isinstance(source, str):
        raise InvalidInput("A venue text must be text.", errors=[FieldError(f"overrides.{block}", "must be a string")])
    if len(source) > OVERRIDE_MAX:
        raise InvalidInput("A venue text is too long.",
                           errors=[FieldError(f"overrides.{block}", f"at most {OVERRIDE_MAX} characters")])
    try:
        template = _sandbox().from_string(source)
        pieces, size = [], 0
        for piece in template.generate(dict(context)):
            size += len(piece)
            if size > OVERRIDE_OUTPUT_MAX:
                raise InvalidInput("A venue text is too long once written out.", errors=[
                    FieldError(f"overrides.{block}", f"at most {OVERRIDE_OUTPUT_MAX} characters once written out")])
            pieces.append(piece)
        return "".join(pieces)
    except TemplateError as error:  # syntax, undefined variable, sandbox refusal
        raise InvalidInput(f"The venue's text for {block!r} cannot be used: {error}",
                           errors=[FieldError(f"overrides.{block}", _explain(error))]) from error


def _explain(error: Exception) -> str:
    from jinja2 import TemplateSyntaxError, UndefinedError
    from jinja2.sandbox import SecurityError

    if isinstance(error, SecurityError):
        return "uses something a mail text may not use"
    if isinstance(error, UndefinedError):
        return f"uses an unknown value ({error.message})"
    if isinstance(error, TemplateSyntaxError):
        return f"syntax error line {error.lineno}: {error.message}"
    return str(error)


# --- rendering ---------------------------------------------------------------------------


def _paragraphs(text: str | None) -> list[str]:
    """Paragraphs of ``text`` (split on blank lines), lines right-stripped, empty ones dropped."""
    if not text:
        return []
    lines = [line.rstrip() for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
    return [paragraph.strip() for paragraph in _BLANK_LINES.split("\n".join(lines)) if paragraph.strip()]


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _short_subject(subject: str) -> str:
    if len(subject) <= SUBJECT_MAX:
        return subject
    cut = subject[: SUBJECT_MAX - 1]
    if " " in cut[SUBJECT_MAX // 2:]:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-–") + "…"


def _check_action_url(action_url: str) -> None:
    if not re.match(r"^https?://[^\s\"'<>]+$", action_url):
        raise ValueError(f"the action URL must be an absolute http(s) URL without spaces or quotes: {action_url!r}")


def render_mail(name: str, language: str | None, context: Mapping[str, Any], *,
                overrides: Mapping[str, str] | None = None, custom_message: str | None = None,
                action_url: str | None = None) -> RenderedMail:
    """Render mail template ``name`` in ``language`` (French if the template lacks it).

    Raises :class:`~chalicelib.errors.NotFound` for an unknown template,
    :class:`MailTemplateError` when the context lacks a key the template uses,
    :class:`~chalicelib.errors.InvalidInput` for an unusable venue override, and
    ``ValueError`` for a malformed ``action_url`` or a missing one where the template needs it.
    """
    from jinja2 import TemplateError

    file_name, rendered_language = _resolve(name, language)
    if action_url is not None:
        _check_action_url(action_url)
    elif name in ACTION_REQUIRED:
        raise ValueError(f"mail {name!r} needs its action URL")
    unknown = sorted(set(overrides or {}) - set(BLOCKS))
    if unknown:
        raise InvalidInput("Only the blocks of a mail can be replaced.",
                           errors=[FieldError(f"overrides.{block}", f"not a mail block (one of {', '.join(BLOCKS)})")
                                   for block in unknown])
    values = {**context, "language": rendered_language}
    environment = _environment()
    texts: dict[str, str] = {}
    try:
        template = environment.get_template(file_name)
        defaults = environment.get_template(DEFAULTS_TEMPLATE)
        for block in BLOCKS:
            source = (overrides or {}).get(block)
            if source is not None:
                texts[block] = _render_override(block, source, values)
                continue
            text = _render_block(template, block, values)
            if text is None:
                text = _render_block(defaults, block, values)
            texts[block] = text or ""
    except TemplateError as error:
        raise MailTemplateError(f"Mail {file_name} could not be rendered: {error}") from error

    subject = _short_subject(_one_line(texts["subject"]))
    action_label = _one_line(texts["action_label"]) if action_url else ""
    if action_url and not action_label:
        if (overrides or {}).get("action_label") is not None:
            raise InvalidInput("The link of this mail needs a label.",
                               errors=[FieldError("overrides.action_label", "must not be empty")])
        raise MailTemplateError(f"Mail {file_name} has no action_label block for its link.")
    greeting = _paragraphs(texts["greeting"])
    body = [paragraph for block in BODY_BLOCKS for paragraph in _paragraphs(texts[block])]
    body += _paragraphs(custom_message)
    closing = _paragraphs(texts["closing"])
    return RenderedMail(
        subject=subject,
        text=_text_part(greeting, body, action_label, action_url, closing, rendered_language),
        html=_html_part(subject, greeting, body, action_label, action_url, closing, rendered_language),
        language=rendered_language,
        template=name,
    )


def _text_part(greeting: list[str], body: list[str], action_label: str, action_url: str | None,
               closing: list[str], language: str) -> str:
    paragraphs = [*greeting, *body]
    if action_url:
        colon = ":" if language == "en" else "\u00a0:"
        label = action_label if action_label.endswith(":") else action_label + colon
        paragraphs.append(f"{label}\n{action_url}")
    paragraphs += closing
    return "\n\n".join(paragraphs) + "\n"


_PAGE_STYLE = "margin:0;padding:0;background-color:#f3f4f6;"
_BOX_STYLE = ("max-width:600px;margin:0 auto;padding:24px 20px;background-color:#ffffff;color:#1f2937;"
              "font-family:Arial,Helvetica,sans-serif;font-size:16px;line-height:1.5;")
_P_STYLE = "margin:0 0 16px 0;"
_ACTION_P_STYLE = "margin:24px 0;"
_BUTTON_STYLE = ("display:inline-block;padding:12px 20px;background-color:#1d4ed8;color:#ffffff;"
                 "font-weight:bold;text-decoration:none;border-radius:6px;")
"""White on #1d4ed8 is a 6.7:1 contrast, #1f2937 on white 14.7:1 (WCAG AA asks 4.5:1)."""


def _html_part(subject: str, greeting: list[str], body: list[str], action_label: str, action_url: str | None,
               closing: list[str], language: str) -> str:
    from markupsafe import Markup, escape

    def paragraph(text: str) -> str:
        lines = Markup("<br>\n").join(escape(line) for line in text.split("\n"))
        return f'<p style="{_P_STYLE}">{lines}</p>'

    parts = [paragraph(text) for text in [*greeting, *body]]
    if action_url:
        parts.append(f'<p style="{_ACTION_P_STYLE}"><a href="{escape(action_url)}" style="{_BUTTON_STYLE}">'
                     f"{escape(action_label)}</a></p>")
    parts += [paragraph(text) for text in closing]
    content = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{escape(language)}">\n'
        "<head>\n"
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{escape(subject)}</title>\n"
        "</head>\n"
        f'<body style="{_PAGE_STYLE}">\n'
        f'<div style="{_BOX_STYLE}">\n'
        f"{content}\n"
        "</div>\n"
        "</body>\n"
        "</html>\n"
    )
