"""The local mail inbox: an SMTP server that keeps every mail, and a web page to read them.

In development the app's SMTP mail adapter sends here instead of SES, so every mail the
product would send can be read, headers and both parts, without any mail leaving the machine.

- SMTP (aiosmtpd) on 127.0.0.1 accepts any sender and recipient and stores each message as
  an ``.eml`` file in one folder (``.local/dev/mailbox/`` under ``make dev``), named by a
  sortable id so the newest sorts last. The envelope is kept as ``Return-Path`` and
  ``X-Envelope-To`` headers, as an MTA does on delivery, so Bcc recipients stay visible.
- The web page (standard library ``http.server``, another 127.0.0.1 port) lists the mails
  newest first and shows each one. A mail's HTML part is untrusted content: it is served
  from its own URL with a ``Content-Security-Policy: sandbox`` header (no scripts, a unique
  origin, no remote loads) and shown in a ``<iframe sandbox>``; everything else is escaped.
- ``/api/messages`` (JSON, newest first, optional ``?to=`` filter), ``/api/messages/<id>``
  and ``DELETE /api/messages`` serve tests.

In-process (tests, ``devtools.dev``)::

    mailbox = Mailbox(tmp_path).start()
    ...  # send to 127.0.0.1:mailbox.smtp_port, read mailbox.web_url + "/api/messages"
    mailbox.stop()

Stand-alone::

    python -m devtools.mailbox --smtp-port 2525 --web-port 8025 --dir .local/dev/mailbox
"""
from __future__ import annotations

import argparse
import email
import email.policy
import email.utils
import html
import json
import logging
import re
import secrets
import signal
import threading
import time
from datetime import datetime, timezone
from email.message import EmailMessage
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from devtools.engines import LOCAL, free_port

log = logging.getLogger("devtools.mailbox")

HOST = "127.0.0.1"
MESSAGE_ID = re.compile(r"^\d{20}-[0-9a-f]{8}$")
PAGE_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-src 'self'; form-action 'none'"
# The mail's own HTML: sandboxed even when opened directly, inline styles and data: images only.
MAIL_HTML_POLICY = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:"


# -- storage -------------------------------------------------------------------------------


def _new_message_id() -> str:
    return f"{time.time_ns():020d}-{secrets.token_hex(4)}"


def _header(message: EmailMessage, name: str) -> str:
    """A header decoded (RFC 2047), or "" if absent; a malformed header stays readable."""
    try:
        value = message.get(name)
    except Exception:  # noqa: BLE001 - a broken header must not hide the mail
        value = message.get_all(name, failobj=[""])[0]
    return _text(value)


def _text(value: object) -> str:
    """A parsed header value as real text.

    Raw UTF-8 in a header (an address like ``benoît@...``, sent with SMTPUTF8) is parsed by
    the ``email`` package into lone surrogates, which cannot be encoded again (the page then
    failed with ``UnicodeEncodeError``): give them back as the UTF-8 they were. RFC 2047
    encoded words are already decoded by the header registry; undecodable bytes become U+FFFD.
    """
    return str(value or "").encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _addresses(message: EmailMessage, name: str) -> list[str]:
    """Decoded "Name <address>" strings of an address header."""
    try:
        header = message.get(name)
        return [_text(address) for address in getattr(header, "addresses", ())]
    except Exception:  # noqa: BLE001 - fall back to a plain split of a malformed header
        return [address.strip() for address in _header(message, name).split(",") if address.strip()]


def _part_text(message: EmailMessage, subtype: str) -> str | None:
    part = message.get_body(preferencelist=(subtype,))
    if part is None:
        return None
    try:
        return part.get_content()
    except (LookupError, UnicodeDecodeError):  # unknown or lying charset
        return (part.get_payload(decode=True) or b"").decode("utf-8", "replace")


def _sent_at(message: EmailMessage, received_at: datetime) -> str:
    try:
        return email.utils.parsedate_to_datetime(_header(message, "Date")).isoformat()
    except (TypeError, ValueError):
        return received_at.isoformat()


class MailStore:
    """The folder of received mails: one ``<id>.eml`` per message."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)

    def save(self, raw: bytes, mail_from: str, rcpt_tos: list[str]) -> str:
        message_id = _new_message_id()
        envelope = f"Return-Path: <{mail_from}>\r\nX-Envelope-To: {', '.join(rcpt_tos)}\r\n".encode()
        path = self.directory / f"{message_id}.eml"
        # Written under a temporary name and renamed, so a reader never sees half a mail.
        partial = path.with_suffix(".part")
        partial.write_bytes(envelope + raw)
        partial.rename(path)
        return message_id

    def message_ids(self) -> list[str]:
        """Newest first."""
        return sorted((path.stem for path in self.directory.glob("*.eml") if MESSAGE_ID.match(path.stem)),
                      reverse=True)

    def raw(self, message_id: str) -> bytes | None:
        if not MESSAGE_ID.match(message_id):  # ids are the only path input: no traversal
            return None
        path = self.directory / f"{message_id}.eml"
        return path.read_bytes() if path.exists() else None

    def parsed(self, message_id: str) -> EmailMessage | None:
        raw = self.raw(message_id)
        return None if raw is None else email.message_from_bytes(raw, policy=email.policy.default)

    def summary(self, message_id: str) -> dict | None:
        message = self.parsed(message_id)
        if message is None:
            return None
        received_at = datetime.fromtimestamp(int(message_id[:20]) / 1e9, tz=timezone.utc)
        return {
            "id": message_id,
            "received_at": received_at.isoformat(),
            "date": _sent_at(message, received_at),
            "from": _header(message, "From"),
            "to": _addresses(message, "To"),
            "cc": _addresses(message, "Cc"),
            "envelope_to": [address.strip() for address in _header(message, "X-Envelope-To").split(",") if address],
            "subject": _header(message, "Subject"),
            "has_text": message.get_body(preferencelist=("plain",)) is not None,
            "has_html": message.get_body(preferencelist=("html",)) is not None,
        }

    def detail(self, message_id: str) -> dict | None:
        summary = self.summary(message_id)
        if summary is None:
            return None
        message = self.parsed(message_id)
        attachments = [{"filename": _text(part.get_filename()) or None, "content_type": part.get_content_type(),
                        "size": len(part.get_payload(decode=True) or b"")} for part in message.iter_attachments()]
        return {**summary,
                "headers": [[_text(name), _text(value)] for name, value in message.items()],
                "text": _part_text(message, "plain"),
                "html": _part_text(message, "html"),
                "attachments": attachments}

    def summaries(self, recipient: str | None = None) -> list[dict]:
        found = (self.summary(message_id) for message_id in self.message_ids())
        return [summary for summary in found if summary and _addressed_to(summary, recipient)]

    def clear(self) -> int:
        removed = 0
        for path in self.directory.glob("*.eml"):
            path.unlink(missing_ok=True)
            removed += 1
        return removed


def _addressed_to(summary: dict, recipient: str | None) -> bool:
    if not recipient:
        return True
    wanted = recipient.lower()
    named = summary["to"] + summary["cc"] + summary["envelope_to"]
    return any(wanted == email.utils.parseaddr(address)[1].lower() for address in named)


# -- SMTP ----------------------------------------------------------------------------------


class StoringHandler:
    """aiosmtpd handler: accept every mail and keep it in the store."""

    def __init__(self, store: MailStore) -> None:
        self.store = store

    async def handle_DATA(self, server, session, envelope) -> str:
        message_id = self.store.save(envelope.original_content or envelope.content,
                                     envelope.mail_from, list(envelope.rcpt_tos))
        log.info("mail %s from %s to %s", message_id, envelope.mail_from, ", ".join(envelope.rcpt_tos))
        return "250 Message accepted for delivery"


# -- web -----------------------------------------------------------------------------------

_STYLE = """body{font:14px system-ui,sans-serif;margin:2em;color:#222}table{border-collapse:collapse;width:100%}
td,th{border-bottom:1px solid #ddd;padding:.4em;text-align:left;vertical-align:top}
pre{white-space:pre-wrap;background:#f6f6f6;padding:1em}iframe{width:100%;height:60vh;border:1px solid #ccc}
th{background:#f0f0f0}.muted{color:#777}"""


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang=en><meta charset=utf-8><title>{html.escape(title)}</title>"
            f"<style>{_STYLE}</style><body>{body}</body></html>")


def _list_page(summaries: list[dict]) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(item['date'])}</td><td>{html.escape(item['from'])}</td>"
        f"<td>{html.escape(', '.join(item['to'] or item['envelope_to']))}</td>"
        f"<td><a href='/messages/{item['id']}'>{html.escape(item['subject'] or '(no subject)')}</a></td></tr>"
        for item in summaries)
    empty = "" if summaries else "<p class=muted>No mail yet.</p>"
    return _page("Mailbox", f"<h1>Mailbox ({len(summaries)})</h1><table><tr><th>Date</th><th>From</th>"
                            f"<th>To</th><th>Subject</th></tr>{rows}</table>{empty}")


def _detail_page(detail: dict) -> str:
    headers = "".join(f"<tr><th>{html.escape(name)}</th><td>{html.escape(value)}</td></tr>"
                      for name, value in detail["headers"])
    text = f"<h2>Text</h2><pre>{html.escape(detail['text'])}</pre>" if detail["text"] is not None else ""
    # sandbox="" (all restrictions): no scripts, no forms, no top navigation, unique origin.
    rich = (f"<h2>HTML</h2><iframe sandbox src='/messages/{detail['id']}/html' title='HTML part'></iframe>"
            if detail["html"] is not None else "")
    files = "".join(f"<li>{html.escape(item['filename'] or '(unnamed)')} ({html.escape(item['content_type'])}, "
                    f"{item['size']} bytes)</li>" for item in detail["attachments"])
    attachments = f"<h2>Attachments</h2><ul>{files}</ul>" if files else ""
    return _page(detail["subject"], f"<p><a href='/'>&larr; all mails</a> · <a href='/messages/{detail['id']}.eml'>"
                                    f"raw</a></p><h1>{html.escape(detail['subject'] or '(no subject)')}</h1>"
                                    f"<table>{headers}</table>{text}{rich}{attachments}")


class MailboxWebHandler(BaseHTTPRequestHandler):
    store: MailStore  # set on the subclass made per server
    server_version = "devtools-mailbox"

    def log_message(self, format: str, *args) -> None:  # noqa: A002 - http.server's signature
        log.debug("web %s", format % args)

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        parts = [part for part in url.path.split("/") if part]
        if not parts:
            return self._send_html(_list_page(self.store.summaries()))
        if parts == ["api", "messages"]:
            recipient = parse_qs(url.query).get("to", [None])[0]
            return self._send_json({"messages": self.store.summaries(recipient)})
        if len(parts) == 3 and parts[:2] == ["api", "messages"]:
            return self._send_json(self.store.detail(parts[2]))
        if len(parts) == 2 and parts[0] == "messages" and parts[1].endswith(".eml"):
            return self._send_raw(self.store.raw(parts[1].removesuffix(".eml")))
        if len(parts) == 2 and parts[0] == "messages":
            detail = self.store.detail(parts[1])
            return self._send_html(_detail_page(detail) if detail else None)
        if len(parts) == 3 and parts[0] == "messages" and parts[2] == "html":
            detail = self.store.detail(parts[1])
            return self._send_mail_html(detail["html"] if detail else None)
        return self._send_status(HTTPStatus.NOT_FOUND)

    def do_DELETE(self) -> None:
        if urlsplit(self.path).path.rstrip("/") != "/api/messages":
            return self._send_status(HTTPStatus.NOT_FOUND)
        return self._send_json({"deleted": self.store.clear()})

    def _send(self, status: HTTPStatus, content_type: str, body: bytes, policy: str = PAGE_POLICY) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Content-Security-Policy", policy)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(body)

    def _send_status(self, status: HTTPStatus) -> None:
        self._send(status, "text/plain; charset=utf-8", f"{status.value} {status.phrase}\n".encode())

    def _send_html(self, page: str | None) -> None:
        if page is None:
            return self._send_status(HTTPStatus.NOT_FOUND)
        self._send(HTTPStatus.OK, "text/html; charset=utf-8", page.encode("utf-8", "replace"))

    def _send_mail_html(self, markup: str | None) -> None:
        if markup is None:
            return self._send_status(HTTPStatus.NOT_FOUND)
        self._send(HTTPStatus.OK, "text/html; charset=utf-8", markup.encode("utf-8", "replace"),
                   policy=MAIL_HTML_POLICY)

    def _send_json(self, payload: dict | None) -> None:
        if payload is None:
            return self._send_status(HTTPStatus.NOT_FOUND)
        self._send(HTTPStatus.OK, "application/json", json.dumps(payload, ensure_ascii=False).encode("utf-8", "replace"))

    def _send_raw(self, raw: bytes | None) -> None:
        if raw is None:
            return self._send_status(HTTPStatus.NOT_FOUND)
        # text/plain (with nosniff) so the browser shows the source instead of rendering it.
        self._send(HTTPStatus.OK, "text/plain; charset=utf-8", raw)


# -- the whole inbox -----------------------------------------------------------------------


class Mailbox:
    """SMTP in, web out, one folder; ports are chosen free unless given."""

    def __init__(self, directory: Path, smtp_port: int = 0, web_port: int = 0) -> None:
        self.store = MailStore(directory)
        self.smtp_port = smtp_port or free_port()
        self.web_port = web_port or free_port()
        self._smtp = None
        self._web: ThreadingHTTPServer | None = None

    @property
    def web_url(self) -> str:
        return f"http://{HOST}:{self.web_port}"

    def start(self) -> "Mailbox":
        from aiosmtpd.controller import Controller

        handler_class = type("BoundMailboxWebHandler", (MailboxWebHandler,), {"store": self.store})
        self._web = ThreadingHTTPServer((HOST, self.web_port), handler_class)
        self._web.daemon_threads = True
        threading.Thread(target=self._web.serve_forever, name="mailbox-web", daemon=True).start()
        # SMTPUTF8 so mails with non-ASCII addresses are accepted, as SES accepts them.
        self._smtp = Controller(StoringHandler(self.store), hostname=HOST, port=self.smtp_port,
                                server_hostname="mailbox.localhost", enable_SMTPUTF8=True)
        try:
            self._smtp.start()
        except Exception:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._smtp is not None:
            try:
                self._smtp.stop()
            except AssertionError:  # aiosmtpd asserts when the server never started
                pass
            self._smtp = None
        if self._web is not None:
            self._web.shutdown()
            self._web.server_close()
            self._web = None

    def __enter__(self) -> "Mailbox":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description="Local SMTP inbox with a web page (127.0.0.1 only)")
    parser.add_argument("--smtp-port", type=int, default=0, help="0: a free port")
    parser.add_argument("--web-port", type=int, default=0, help="0: a free port")
    parser.add_argument("--dir", type=Path, default=LOCAL / "dev" / "mailbox")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    with Mailbox(args.dir, args.smtp_port, args.web_port) as mailbox:
        print(f"SMTP  {HOST}:{mailbox.smtp_port}\nweb   {mailbox.web_url}\nmails {mailbox.store.directory}",
              flush=True)
        stopping.wait()


if __name__ == "__main__":
    main()
