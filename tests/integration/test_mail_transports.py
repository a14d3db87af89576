"""The SMTP transport against an in-process SMTP server (the dev inbox): a text part beside
the HTML, Date and Message-ID, RFC 2047 headers, the venue's name in From; and the send-rate
pacer against DynamoDB Local: shared across senders, never above the cap."""
from __future__ import annotations

import email
import email.policy
import threading
import time

import pytest

from chalicelib.adapters.mail import OutgoingMail, SmtpTransport
from chalicelib.services.mail.send_rate import Pacer, reserve


@pytest.fixture
def inbox(tmp_path):
    from devtools.mailbox import Mailbox

    with Mailbox(tmp_path / "inbox") as running:
        yield running


def test_smtp_sends_a_complete_message(inbox):
    mail = OutgoingMail(sender_name="Théâtre des Célestins", sender_address="billetterie@celestins.example.org",
                        recipient="elodie.lefevre@exemple.fr",
                        subject="Votre séance du 12 décembre est annulée", text="Bonjour Élodie,\n\nTexte.",
                        html="<!doctype html><html lang=\"fr\"><body><p>Bonjour Élodie,</p></body></html>",
                        tags={"tenant": "theatre-lyon", "notification": "01J0000000000000000000000A"})
    message_id = SmtpTransport("127.0.0.1", inbox.smtp_port).send(mail)

    [stored_id] = inbox.store.message_ids()
    raw = inbox.store.raw(stored_id)
    headers = raw.split(b"\r\n\r\n", 1)[0].decode("ascii")  # headers are pure ASCII on the wire
    assert "=?utf-8?" in headers.split("Subject:", 1)[1].splitlines()[0]
    assert "=?utf-8?" in headers.split("From:", 1)[1].splitlines()[0]
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "Votre séance du 12 décembre est annulée"
    assert parsed["From"].addresses[0].display_name == "Théâtre des Célestins"
    assert parsed["Date"] and parsed["Message-ID"].strip("<>") == message_id
    assert message_id.endswith("@celestins.example.org")
    assert parsed.get_body(("plain",)).get_content().startswith("Bonjour Élodie")
    assert "<p>Bonjour Élodie,</p>" in parsed.get_body(("html",)).get_content()


def test_the_pacer_never_lets_more_than_the_rate_go_in_any_second_across_senders():
    bucket, rate, sends = f"test-{time.time_ns()}", 20, []
    lock = threading.Lock()

    def sender():
        pacer = Pacer(bucket=bucket, rate=rate)
        for _ in range(25):
            pacer.wait_turn()
            with lock:
                sends.append(time.time())

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    per_second: dict[int, int] = {}
    for moment in sends:
        per_second[int(moment)] = per_second.get(int(moment), 0) + 1
    assert len(sends) == 75 and max(per_second.values()) <= rate


def test_a_full_window_refuses_more():
    bucket = f"test-full-{time.time_ns()}"
    assert reserve(bucket, 1000, 5, rate=6)
    assert not reserve(bucket, 1000, 2, rate=6)
    assert reserve(bucket, 1000, 1, rate=6)
    assert not reserve(bucket, 1000, 1, rate=6)
    assert reserve(bucket, 1001, 6, rate=6)
