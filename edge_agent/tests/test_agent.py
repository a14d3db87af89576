"""The agent against the simulator and a moto server: the app's part is played by the
tests (print messages in, signed results and heartbeats out)."""

from __future__ import annotations

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

P1, P2 = "printer-1", "printer-2"
UID = re.compile(r"^04[0-9A-F]{12}$")


def test_single_print_reports_taken_then_printed_with_the_card_uid(site, run_agent):
    run_agent([{"printer_id": P1}], wait_time_seconds=1)  # long polling, as in production
    job = site.send_job(P1, back=True)
    result = site.wait_outcome(job)
    assert [r["outcome"] for r in site.job_results(job)] == ["taken", "printed"]
    assert result["printer_id"] == P1 and result["reason"] is None
    assert UID.match(result["uid"])
    [card] = site.prints_of(P1, job)
    assert card["uid"] == result["uid"] and card["back_sha256"] is not None
    assert site.machine(P1)["ejected"] == 1 and site.machine(P1)["card"] is None
    site.wait_for(lambda: site.queue_counts() == (0, 0), what="the message deleted")
    site.wait_heartbeat(P1, "ready")


def test_a_job_without_encoding_is_printed_without_uid(site, run_agent):
    run_agent([{"printer_id": P1, "encoder": False}])
    job = site.send_job(P1, encode=False)
    result = site.wait_outcome(job)
    assert result["outcome"] == "printed" and result["uid"] is None
    assert len(site.prints_of(P1, job)) == 1


def test_fifty_cards_each_printed_once_in_order(site, run_agent):
    run_agent([{"printer_id": P1, "simulator": {"print_seconds": 0.02, "encode_seconds": 0.005}}])
    jobs = [site.send_job(P1) for _ in range(50)]
    site.wait_for(lambda: all(site.outcome(j) for j in jobs), timeout=40, what="50 results")
    assert {site.outcome(j)["outcome"] for j in jobs} == {"printed"}
    uids = [site.outcome(j)["uid"] for j in jobs]
    assert len(set(uids)) == 50
    log = site.printed(P1)
    assert [entry["front_sha256"] for entry in log] == [site.images[j] for j in jobs]  # in order, once each
    assert [entry["uid"] for entry in log] == uids


def test_two_printers_print_at_the_same_time(site, run_agent):
    slow = {"print_seconds": 0.6}
    run_agent([{"printer_id": P1, "simulator": slow}, {"printer_id": P2, "simulator": slow}])
    jobs = {P1: [site.send_job(P1) for _ in range(3)], P2: [site.send_job(P2) for _ in range(3)]}
    started = time.monotonic()
    site.wait_for(lambda: all(site.outcome(j) for js in jobs.values() for j in js), timeout=20)
    elapsed = time.monotonic() - started
    # 6 cards of 0.6 s: one after the other would take 3.6 s at least.
    assert elapsed < 3.3, elapsed
    for printer, printer_jobs in jobs.items():
        assert [e["front_sha256"] for e in site.printed(printer)] == [site.images[j] for j in printer_jobs]
        assert all(site.outcome(j)["printer_id"] == printer for j in printer_jobs)


def test_sqs_redelivers_a_printed_job_it_is_reported_again_not_printed(site, run_agent, monkeypatch):
    from edge_agent.queues import PrintQueue

    lost = []
    real_delete = PrintQueue.delete

    def delete_lost_once(self, delivery):
        if not lost:  # the first DeleteMessage never reaches SQS (the connection dropped)
            lost.append(delivery.message_id)
            with self._lock:
                self._held.pop(delivery.receipt_handle, None)
            return
        real_delete(self, delivery)

    monkeypatch.setattr(PrintQueue, "delete", delete_lost_once)
    run_agent([{"printer_id": P1}])
    job = site.send_job(P1)
    first = site.wait_outcome(job)
    # The message comes back when its visibility timeout (2 s here) ends.
    site.wait_for(lambda: len([r for r in site.job_results(job) if r["outcome"] == "printed"]) == 2, timeout=20)
    second = site.job_results(job)[-1]
    assert second["uid"] == first["uid"]
    assert len(site.prints_of(P1, job)) == 1
    site.wait_for(lambda: site.queue_counts() == (0, 0), what="the message deleted")


class ExpiredUrlServer(BaseHTTPRequestHandler):
    """S3's answer to a presigned URL past its expiry. moto server does not check a presigned
    URL's expiry, so the expired URL points here (a focused stand-in for that one answer)."""

    def do_GET(self):  # noqa: N802 (http.server's name)
        body = (b'<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code>'
                b"<Message>Request has expired</Message></Error>")
        self.send_response(403)
        self.send_header("Content-Type", "application/xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_an_expired_presigned_url_falls_back_to_get_object(site, run_agent):
    server = ThreadingHTTPServer(("127.0.0.1", 0), ExpiredUrlServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        run_agent([{"printer_id": P1}])
        expired = f"http://127.0.0.1:{server.server_port}/card-images/front.png?X-Amz-Expires=60"
        job = site.send_job(P1, front_url=expired)
        result = site.wait_outcome(job)
    finally:
        server.shutdown()
    assert result["outcome"] == "printed"
    assert len(site.prints_of(P1, job)) == 1  # the very image put in the bucket


def test_a_face_neither_by_url_nor_in_the_bucket_fails_before_a_card_is_used(site, run_agent):
    run_agent([{"printer_id": P1, "simulator": {"feeder_cards": 5}}])
    job = site.send_job(P1, front_url="http://127.0.0.1:9/gone.png")
    site.s3.delete_object(Bucket="ticketing-test-card-images", Key=f"venue-a/{site.site_id}/{job}/front.png")
    result = site.wait_outcome(job)
    assert (result["outcome"], result["reason"]) == ("failed", "image_unavailable")
    assert "NoSuchKey" in result["detail"] or "Not Found" in result["detail"], result["detail"]
    assert site.machine(P1)["feeder"] == 5  # no card taken
    assert site.wait_outcome(site.send_job(P1))["outcome"] == "printed"  # goes on


def test_a_face_outside_the_sites_prefix_is_not_read(site, run_agent):
    run_agent([{"printer_id": P1}])
    job = site.send_job(P1, front_url="http://127.0.0.1:9/gone.png")
    site.wait_outcome(job)
    other = site.send_job(P1, body={
        "v": 1, "type": "print_card", "tenant_id": "venue-a", "site_id": site.site_id, "printer_id": P1,
        "job_id": "other-prefix", "encode": True,
        "front": {"url": "http://127.0.0.1:9/x", "bucket": "ticketing-test-card-images",
                  "key": f"venue-b/{site.site_id}/{job}/front.png"},
        "back": None, "card": {},
    }, job_id="other-prefix")
    result = site.wait_outcome(other)
    assert (result["reason"], "outside this site's prefix" in result["detail"]) == ("image_unavailable", True)


def test_a_cancelled_job_uses_no_card(site, run_agent):
    job = site.send_job(P1)
    site.cancel(job)
    nxt = site.send_job(P1)
    run_agent([{"printer_id": P1, "simulator": {"feeder_cards": 5}}])
    result = site.wait_outcome(job)
    assert (result["outcome"], result["uid"], result["reason"]) == ("cancelled", None, None)
    assert site.wait_outcome(nxt)["outcome"] == "printed"
    assert site.prints_of(P1, job) == []
    assert site.machine(P1)["feeder"] == 4  # only the next job's card
    site.wait_for(lambda: site.queue_counts() == (0, 0), what="both messages deleted")


@pytest.mark.parametrize("body, job_id", [
    ({"v": 2, "type": "print_card", "job_id": "job-v2", "printer_id": P1}, "job-v2"),
    ({"v": 1, "type": "reprint_everything", "job_id": "job-type"}, "job-type"),
    ({"v": 1, "type": "print_card", "job_id": "job-no-front", "printer_id": P1, "tenant_id": "venue-a",
      "site_id": "x", "front": None}, "job-no-front"),
])
def test_an_unsupported_message_is_answered_and_deleted(site, run_agent, body, job_id):
    run_agent([{"printer_id": P1}])
    site.send_job(P1, job_id, body=body)
    result = site.wait_outcome(job_id)
    assert (result["outcome"], result["reason"]) == ("failed", "unsupported_message")
    assert result["detail"]
    site.wait_for(lambda: site.queue_counts() == (0, 0), what="the message deleted")
    assert site.printed(P1) == []


def test_a_message_that_is_not_json_is_answered_without_job(site, run_agent):
    run_agent([{"printer_id": P1}])
    site.sqs.send_message(QueueUrl=site.print_queue_url, MessageBody="%PDF-1.7 not a job",
                          MessageGroupId=P1, MessageDeduplicationId="garbage")
    site.wait_for(lambda: any(r.get("reason") == "unsupported_message" for r in site.results))
    [answer] = [r for r in site.results if r["type"] == "job_result"]
    assert answer["job_id"] is None and answer["detail"].startswith("not JSON")
    site.wait_for(lambda: site.queue_counts() == (0, 0), what="the message deleted")


def test_a_job_for_a_printer_this_agent_does_not_drive(site, run_agent):
    run_agent([{"printer_id": P1}])
    job = site.send_job("printer-elsewhere")
    result = site.wait_outcome(job)
    assert (result["outcome"], result["reason"], result["printer_id"]) == (
        "failed", "printer_not_configured", "printer-elsewhere")
    site.wait_for(lambda: site.queue_counts() == (0, 0), what="the message deleted")


def test_an_encoding_job_on_a_printer_without_encoder_uses_no_card(site, run_agent):
    run_agent([{"printer_id": P1, "encoder": False}])
    job = site.send_job(P1, encode=True)
    result = site.wait_outcome(job)
    assert (result["outcome"], result["reason"]) == ("failed", "printer_not_configured")
    assert site.printed(P1) == []


def test_a_job_of_another_site_is_not_printed(site, run_agent):
    run_agent([{"printer_id": P1}])
    job = site.send_job(P1, "foreign", body={
        "v": 1, "type": "print_card", "tenant_id": "venue-a", "site_id": "another-site", "printer_id": P1,
        "job_id": "foreign", "encode": True, "front": {"url": "http://x/", "bucket": "b", "key": "k"},
        "back": None, "card": {},
    })
    assert site.wait_outcome(job)["reason"] == "unsupported_message"
    assert site.printed(P1) == []


def test_heartbeats_every_period_are_signed_and_name_the_job_being_printed(site, run_agent):
    run_agent([{"printer_id": P1, "simulator": {"print_seconds": 1.5, "ribbon_cards": 100}}],
              heartbeat_seconds=0.4)
    job = site.send_job(P1)
    site.wait_for(lambda: any(h["current_job_id"] == job for h in site.heartbeats(P1)), what="a heartbeat during the job")
    site.wait_outcome(job)
    beats = site.heartbeats(P1)
    assert len(beats) >= 3
    assert beats[-1]["ribbon_remaining"] in (99, 100)
    assert all(h["state"] == "ready" for h in beats)


def test_an_unexpected_error_gives_the_message_back_and_the_journal_decides(site, run_agent):
    agent = run_agent([{"printer_id": P1}])
    driver = agent.workers[P1].driver
    real_insert = driver.insert_card
    calls = []

    def insert_with_a_bug():
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("a bug in a driver")
        real_insert()

    driver.insert_card = insert_with_a_bug
    job = site.send_job(P1)
    result = site.wait_outcome(job, timeout=20)
    assert result["outcome"] == "printed" and len(calls) == 2
    assert len(site.prints_of(P1, job)) == 1
    assert agent.workers[P1].is_alive()
