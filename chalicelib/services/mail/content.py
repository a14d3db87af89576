"""Content rules of a transactional notice, checked on a rendered mail before it is sent.

Mail providers drop or bin mails that look like bulk or phishing: several links, links
other than the one the mail is about, addresses in the body, images instead of text, an
HTML part without a text part. Every notice we send therefore keeps to these rules
(:func:`content_problems` lists what a mail breaks; an empty list means it may go):

- a non-empty plain-text part beside the HTML part;
- at most one link, the action link: no other URL anywhere in the text or the HTML
  (``http(s)://``, ``www.``, bare domains such as ``example.fr``, ``href`` attributes);
  when an action link is given it appears exactly once in each part;
- no mail address in the body (text or HTML, ``mailto:`` included);
- no image: no ``<img>``, ``<picture>``, ``<svg>``, background image, ``url(...)``;
- no script, form, frame or embedded object;
- a well-formed HTML document: ``<html lang>``, ``<head>`` with ``<meta charset>`` and a
  ``<title>``, ``<body>``, tags balanced;
- a subject: non-empty, one line, at most 120 characters;
- no template markup left (``{{``, ``{%``) in the subject or either part.
"""
from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Mapping

from chalicelib.errors import FieldError, InvalidInput
from chalicelib.services.mail.rendering import (
    SAMPLE_ACTION_URL,
    RenderedMail,
    offers_action,
    render_mail,
    sample_context,
)

SUBJECT_MAX = 120

_URL = re.compile(r"(?i)\bhttps?://[^\s<>\"']+|\bwww\.[^\s<>\"']+")
_BARE_DOMAIN = re.compile(
    r"(?i)(?<![\w@./-])(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+"
    r"(?:fr|com|net|org|eu|info|biz|io|co|be|ch|lu|ca|de|uk|es|it|me|tv|ly|gl|link|site|online|shop|app)\b(?![\w@-])"
)
# Mail addresses are found from each "@" outwards, in one pass: a single regular expression
# for "local@domain" tries every start position of a long run without "@" and takes quadratic
# time on it (40 KB took 44 s, past a Lambda's limit).
_LOCAL_PART = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+/=?^_`{|}~.-")
_DOMAIN_AFTER_AT = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)+", re.IGNORECASE)
_MAILTO = re.compile(r"(?i)\bmailto:")
_IMAGES = re.compile(r"(?i)<\s*(?:img|picture|svg|image)\b|\bbackground\s*=|background-image|url\s*\(|data:image/")
_ACTIVE = re.compile(r"(?i)<\s*(?:script|form|iframe|frame|object|embed|applet)\b")
_MARKUP = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Structure(HTMLParser):
    """Collects what the HTML rules need: tags seen, unbalanced tags, hrefs, attributes."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.seen: set[str] = set()
        self.stack: list[str] = []
        self.unbalanced: list[str] = []
        self.hrefs: list[str] = []
        self.html_lang = ""
        self.charset = False
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.seen.add(tag)
        values = {name: value or "" for name, value in attrs}
        for name, value in attrs:
            if name in {"href", "src", "srcset", "action", "background", "poster", "formaction", "xlink:href"}:
                self.hrefs.append(value or "")
        if tag == "html":
            self.html_lang = values.get("lang", "").strip()
        if tag == "meta" and ("charset" in values or values.get("http-equiv", "").lower() == "content-type"):
            self.charset = True
        if tag == "title":
            self._in_title = True
        if tag not in _VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        was = len(self.stack)
        self.handle_starttag(tag, attrs)
        del self.stack[was:]

    def handle_endtag(self, tag: str) -> None:
        if tag in _VOID:
            return
        if tag == "title":
            self._in_title = False
        if self.stack and self.stack[-1] == tag:
            self.stack.pop()
        else:
            self.unbalanced.append(f"</{tag}>")
            if tag in self.stack:
                del self.stack[len(self.stack) - 1 - self.stack[::-1].index(tag):]

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data


def _address_spans(text: str) -> list[tuple[int, int]]:
    """Where ``text`` holds a mail address (``local@domain.tld``) or a ``mailto:``, in linear time:
    each "@" looks back over its own local part only (never past the previous address or "@")."""
    spans = [match.span() for match in _MAILTO.finditer(text)]
    floor = 0
    for at in (index for index, char in enumerate(text) if char == "@"):
        start = at
        while start > floor and text[start - 1] in _LOCAL_PART:
            start -= 1
        domain = _DOMAIN_AFTER_AT.match(text, at + 1)
        if start < at and domain:
            spans.append((start, domain.end()))
        # Past an address, the next one starts after its domain; with no local part here, what
        # follows this "@" may still be the next address's local part ("@M.M@a.a").
        floor = domain.end() if start < at and domain else at + 1
    return sorted(spans)


def _has_address(text: str) -> bool:
    return bool(_address_spans(text))


def _without_addresses(text: str) -> str:
    kept, position = [], 0
    for start, end in _address_spans(text):
        if start >= position:
            kept += [text[position:start], " "]
            position = end
    return "".join(kept) + text[position:]


def _links(text: str) -> list[str]:
    found = [match.group(0).rstrip(".,;:!?)]") for match in _URL.finditer(text)]
    without_urls = _without_addresses(_URL.sub(" ", text))
    return found + [match.group(0) for match in _BARE_DOMAIN.finditer(without_urls)]


def _link_problems(part: str, text: str, action_url: str | None) -> list[str]:
    links = _links(text)
    problems = []
    foreign = [link for link in links if link != action_url]
    if foreign:
        problems.append(f"{part}: a link other than the action link: {foreign[0]!r}")
    if action_url and links.count(action_url) == 0:
        problems.append(f"{part}: the action link is missing")
    if len(links) > 1:
        problems.append(f"{part}: {len(links)} links where at most one is allowed")
    return problems


def content_problems(rendered: RenderedMail, action_url: str | None) -> list[str]:
    """What ``rendered`` breaks among the content rules (empty: it may be sent).

    ``action_url`` is the one link the mail may carry (``None``: no link at all).
    """
    problems: list[str] = []
    subject, text, markup = rendered.subject or "", rendered.text or "", rendered.html or ""

    if not subject.strip():
        problems.append("subject: empty")
    if "\n" in subject or "\r" in subject:
        problems.append("subject: more than one line")
    if len(subject) > SUBJECT_MAX:
        problems.append(f"subject: {len(subject)} characters, at most {SUBJECT_MAX}")
    if not text.strip():
        problems.append("text part: missing or empty (a plain-text part must go beside the HTML)")
    if not markup.strip():
        problems.append("html part: missing or empty")

    for part, content in (("subject", subject), ("text part", text), ("html part", markup)):
        if _MARKUP.search(content):
            problems.append(f"{part}: template markup left in the mail")

    problems += _link_problems("subject", subject, None)
    problems += _link_problems("text part", text, action_url)
    if _has_address(subject) or _has_address(text):
        problems.append("text part: a mail address in the body")

    if markup.strip():
        problems += _html_problems(markup, action_url)
    return problems


def _html_problems(markup: str, action_url: str | None) -> list[str]:
    problems: list[str] = []
    structure = _Structure()
    try:
        structure.feed(markup)
        structure.close()
    except Exception as error:  # html.parser is lenient; anything it still refuses is malformed
        return [f"html part: cannot be parsed ({error})"]

    visible = html.unescape(markup)
    # Each href is one link; its URL is also a URL occurrence in the markup, so count both ways.
    hrefs = [html.unescape(value).strip() for value in structure.hrefs]
    if len(hrefs) > 1:
        problems.append(f"html part: {len(hrefs)} href/src attributes where at most one is allowed")
    if any(href != action_url for href in hrefs):
        problems.append(f"html part: a link other than the action link: {next(h for h in hrefs if h != action_url)!r}")
    problems += _link_problems("html part", visible, action_url)
    if _has_address(visible):
        problems.append("html part: a mail address in the body")
    # Tags are looked for in the markup itself: escaped text such as "&lt;img&gt;" is harmless.
    if _IMAGES.search(markup) or structure.seen & {"img", "picture", "svg", "image"}:
        problems.append("html part: an image (text only: no <img>, background image or url())")
    if _ACTIVE.search(markup) or structure.seen & {"script", "form", "iframe", "frame", "object", "embed"}:
        problems.append("html part: a script, form, frame or embedded object")

    for tag in ("html", "head", "body", "title"):
        if tag not in structure.seen:
            problems.append(f"html part: no <{tag}>")
    if not structure.html_lang:
        problems.append("html part: <html> has no lang attribute")
    if not structure.charset:
        problems.append("html part: no <meta charset>")
    if "title" in structure.seen and not structure.title.strip():
        problems.append("html part: empty <title>")
    if structure.unbalanced or structure.stack:
        left_open = [f"<{tag}>" for tag in structure.stack]
        problems.append("html part: unbalanced tags " + ", ".join(structure.unbalanced + left_open))
    return problems


def check_overrides(name: str, overrides: Mapping[str, str], language: str = "fr") -> RenderedMail:
    """Try a venue's ``overrides`` of mail ``name`` on the sample context: the rendered mail, or
    :class:`~chalicelib.errors.InvalidInput` naming ``overrides.<block>`` (unknown block, syntax
    error, unknown value, sandbox refusal) or ``overrides`` (the result breaks a content rule).
    """
    sample_url = SAMPLE_ACTION_URL if offers_action(name, language) or overrides.get("action_label") else None
    rendered = render_mail(name, language, sample_context(name, language), overrides=overrides,
                           action_url=sample_url)
    problems = content_problems(rendered, sample_url)
    if problems:
        raise InvalidInput("The venue's texts break the mail content rules.",
                           errors=[FieldError("overrides", problem) for problem in problems])
    return rendered


def check_custom_message(name: str, message: str, field: str = "mail_message") -> None:
    """A venue's own words for mail ``name`` (a campaign's message, a ticket type's), tried in
    every language of the template on its sample: :class:`~chalicelib.errors.InvalidInput`
    naming ``field`` when the mail they make breaks a content rule (a link, an address...)."""
    from chalicelib.services.mail.rendering import template_languages

    problems: list[str] = []
    for language in template_languages(name):
        url = SAMPLE_ACTION_URL if offers_action(name, language) else None
        rendered = render_mail(name, language, sample_context(name, language), custom_message=message,
                               action_url=url)
        problems += [problem for problem in content_problems(rendered, url) if problem not in problems]
    if problems:
        raise InvalidInput("This message would break the mail content rules; nothing was changed.",
                           errors=[FieldError(field, problem) for problem in problems])
