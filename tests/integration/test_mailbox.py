"""The local SMTP inbox (devtools.mailbox): mail in over SMTP, read back over its web API."""
from __future__ import annotations

import json
import smtplib
import subprocess
import sys
import urllib.error
import urllib.request
from email.message import EmailMessage
from urllib.parse import quote

import pytest

from devtools.engines import free_port, wait_until_listening
from devtools.mailbox import Mailbox


@pytest.fixture
def mailbox(tmp_path):
    with Mailbox(tmp_path / "mails") as running:
        yield running


def get(url: str) -> tuple[int, dict, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def get_json(url: str):
    status, _, body = get(url)
    assert status == 200, body
    return json.loads(body)


def send(mailbox: Mailbox, message: EmailMessage, **kwargs) -> None:
    with smtplib.SMTP("127.0.0.1", mailbox.smtp_port, timeout=5) as smtp:
        smtp.send_message(message, **kwargs)


def confirmation_mail(subject: str, to: str = "Zoé Faure <zoe@example.fr>") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Théâtre de Lyon <billetterie@theatre-lyon.example>"
    message["To"] = to
    message["Subject"] = subject  # non-ASCII: smtplib encodes it as RFC 2047
    message.set_content("Bonjour Zoé,\nvotre commande n° 42 est confirmée.\n")
    message.add_alternative("<p>Bonjour Zoé,</p><script>alert('x')</script><p>commande n° 42</p>", subtype="html")
    return message


def test_a_sent_mail_is_listed_with_its_decoded_subject_and_both_parts(mailbox):
    message = confirmation_mail("Votre réservation à l'Opéra — ça commence bientôt")
    assert "=?utf-8?" in message.as_string()  # the subject really travels RFC 2047 encoded

    send(mailbox, message)

    listed = get_json(f"{mailbox.web_url}/api/messages")["messages"]
    assert [item["subject"] for item in listed] == ["Votre réservation à l'Opéra — ça commence bientôt"]
    assert listed[0]["to"] == ["Zoé Faure <zoe@example.fr>"]
    assert listed[0]["from"] == "Théâtre de Lyon <billetterie@theatre-lyon.example>"
    detail = get_json(f"{mailbox.web_url}/api/messages/{listed[0]['id']}")
    assert "commande n° 42 est confirmée" in detail["text"]
    assert "<p>Bonjour Zoé,</p>" in detail["html"]


def test_newest_first_recipient_filter_and_bcc_kept_from_the_envelope(mailbox):
    send(mailbox, confirmation_mail("premier"))
    send(mailbox, confirmation_mail("second", to="paul@example.fr"),
         to_addrs=["paul@example.fr", "archive@example.fr"])

    assert [m["subject"] for m in get_json(f"{mailbox.web_url}/api/messages")["messages"]] == ["second", "premier"]
    archived = get_json(f"{mailbox.web_url}/api/messages?to=archive@example.fr")["messages"]
    assert [m["subject"] for m in archived] == ["second"]


def test_pages_escape_the_mail_and_sandbox_its_html(mailbox):
    send(mailbox, confirmation_mail("<b>Réservation</b>"))
    message_id = get_json(f"{mailbox.web_url}/api/messages")["messages"][0]["id"]

    status, _, listing = get(mailbox.web_url + "/")
    assert status == 200 and "&lt;b&gt;Réservation&lt;/b&gt;" in listing.decode()
    status, headers, page = get(f"{mailbox.web_url}/messages/{message_id}")
    assert status == 200 and "<script>" not in page.decode() and "<iframe sandbox" in page.decode()
    status, headers, markup = get(f"{mailbox.web_url}/messages/{message_id}/html")
    assert status == 200 and headers["Content-Security-Policy"].startswith("sandbox;")
    assert b"<script>" in markup  # served as sent, but only into a sandbox without scripts


def test_unknown_or_malicious_ids_are_not_found(mailbox):
    for path in ("/messages/../../etc/passwd", "/api/messages/00000000000000000000-deadbeef",
                 "/messages/..%2F..%2Fetc%2Fpasswd.eml", "/nowhere"):
        assert get(mailbox.web_url + path)[0] == 404


def test_clearing_the_mailbox(mailbox):
    send(mailbox, confirmation_mail("à effacer"))
    request = urllib.request.Request(f"{mailbox.web_url}/api/messages", method="DELETE")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read()) == {"deleted": 1}
    assert get_json(f"{mailbox.web_url}/api/messages") == {"messages": []}


def test_runs_as_a_command_on_the_given_ports(tmp_path):
    smtp_port, web_port = free_port(), free_port()
    process = subprocess.Popen([sys.executable, "-m", "devtools.mailbox", "--smtp-port", str(smtp_port),
                                "--web-port", str(web_port), "--dir", str(tmp_path)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_listening(smtp_port, process, "mailbox", timeout=15)
        wait_until_listening(web_port, process, "mailbox", timeout=15)
        with smtplib.SMTP("127.0.0.1", smtp_port, timeout=5) as smtp:
            smtp.send_message(confirmation_mail("Billet n°1"))
        listed = get_json(f"http://127.0.0.1:{web_port}/api/messages")["messages"]
        assert [m["subject"] for m in listed] == ["Billet n°1"]
        assert len(list(tmp_path.glob("*.eml"))) == 1
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_a_recipient_with_a_utf8_local_part_is_listed_and_shown(mailbox):
    """Issue 12.5: such a recipient made the list page fail with UnicodeEncodeError."""
    message = confirmation_mail("Représentation annulée", to="Benoît Richard <benoît.richard27@orange.fr>")
    message["Cc"] = "=?utf-8?q?Zo=C3=A9_Faure?= <zoe@example.fr>"  # an RFC 2047 display name beside it

    with smtplib.SMTP("127.0.0.1", mailbox.smtp_port, timeout=5) as smtp:
        smtp.ehlo()
        assert smtp.has_extn("smtputf8")
        smtp.send_message(message)  # non-ASCII address: smtplib sends it with SMTPUTF8

    raw = next(mailbox.store.directory.glob("*.eml")).read_bytes()
    assert "benoît.richard27@orange.fr".encode() in raw  # the header travelled as raw UTF-8
    listed = get_json(f"{mailbox.web_url}/api/messages?to={quote('benoît.richard27@orange.fr')}")["messages"]
    assert [item["to"] for item in listed] == [["Benoît Richard <benoît.richard27@orange.fr>"]]
    assert listed[0]["cc"] == ["Zoé Faure <zoe@example.fr>"]

    status, _, listing = get(mailbox.web_url + "/")
    assert status == 200
    assert "Benoît Richard &lt;benoît.richard27@orange.fr&gt;" in listing.decode()
    status, _, page = get(f"{mailbox.web_url}/messages/{listed[0]['id']}")
    assert status == 200
    assert "Benoît Richard &lt;benoît.richard27@orange.fr&gt;" in page.decode()
    assert "Zoé Faure &lt;zoe@example.fr&gt;" in page.decode()
    assert "\ufffd" not in page.decode()  # decoded, not replaced
