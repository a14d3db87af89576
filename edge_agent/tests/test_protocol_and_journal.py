"""The signature the app checks, and the journal's durability settings and restart queries."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3

from edge_agent import journal, protocol
from edge_agent.journal import Journal


def test_the_signature_is_hmac_sha256_of_the_sorted_compact_json_without_signature():
    key = b"k" * 32
    body = protocol.job_result(tenant_id="venue-a", site_id="s1", printer_id="p1", job_id="j1",
                               outcome="printed", uid="04A1B2C3D4E5F6")
    signed = protocol.sign(body, key)
    literal = (
        '{"agent_version":"1.0.0","at":"%s","detail":null,"job_id":"j1","outcome":"printed","printer_id":"p1",'
        '"reason":null,"site_id":"s1","tenant_id":"venue-a","type":"job_result","uid":"04A1B2C3D4E5F6","v":1}'
    ) % body["at"]
    assert signed["signature"] == hmac.new(key, literal.encode(), hashlib.sha256).hexdigest()
    assert protocol.signature_matches(signed, key)
    assert not protocol.signature_matches({**signed, "uid": "04000000000000"}, key)
    assert not protocol.signature_matches(signed, b"x" * 32)


def test_non_ascii_is_signed_as_utf8():
    key = b"k" * 32
    body = protocol.job_result(tenant_id="théâtre", site_id="s", printer_id="p", job_id="j", outcome="failed",
                               reason="unknown_error", detail="bourrage à l'éjection")
    signed = protocol.sign(body, key)
    expected = hmac.new(key, protocol.canonical(body), hashlib.sha256).hexdigest()
    assert signed["signature"] == expected and "\\u00e0" in protocol.canonical(body).decode()


def test_detail_is_cut_at_500_characters():
    body = protocol.job_result(tenant_id="t", site_id="s", printer_id="p", job_id="j", outcome="failed",
                               reason="unknown_error", detail="x" * 900)
    assert len(body["detail"]) == 500


def test_the_journal_is_wal_and_synchronous_full(tmp_path):
    path = tmp_path / "j.sqlite3"
    j = Journal(path)
    assert j._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert j._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    j.record("job", "p1", journal.TAKEN)
    # Committed when record() returns: another connection sees it.
    assert sqlite3.connect(path).execute("SELECT step FROM job_steps").fetchall() == [("taken",)]


def test_the_journal_knows_the_outcome_the_uid_and_the_card_left_inside(tmp_path):
    j = Journal(tmp_path / "j.sqlite3")
    for step, uid in (("taken", None), ("inserting", None), ("uid_read", "04AA"), ("printing", "04AA")):
        j.record("a", "p1", step, uid=uid)
    j.record("b", "p1", journal.TAKEN)
    j.record("b", "p1", journal.FAILED, reason="image_unavailable", detail="gone")
    j.record("b", "p1", journal.REPORTED)
    assert j.last("a").step == "printing" and j.uid("a") == "04AA" and j.outcome("a") is None
    assert (j.outcome("b").step, j.outcome("b").reason) == ("failed", "image_unavailable")
    assert j.left_in_printer("p1").job_id == "a"
    assert j.left_in_printer("p2") is None
    j.record("a", "p1", journal.UNCERTAIN, uid="04AA", reason="interrupted_while_printing")
    assert j.left_in_printer("p1") is None
    assert j.steps("a")[-1] == "uncertain"
