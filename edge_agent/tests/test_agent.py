"""The agent against the simulator and a moto server: the app's part is played by the
tests (print messages in, signed results and heartbeats out)."""

from __future__ import annotations

import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from edge_agent import protocol

P1, P2 = "printer-1", "printer-2"
UID = re.compile(r"^04[0-9A-F]{12}$")


def test_single_print_reports_taken_then_printed_with_the_card_uid(site, run_agent):
    run_agent([{"printer_id": P1}])
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
    run_agent([{"printer_id": P1}])
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


def test_a_redelivered_printed_job_is_reported_again_not_printed(site, run_agent):
    agent = run_agent([{"printer_id": P1}])
    job = site.send_job(P1)
    first = site.wait_outcome(job)
    # SQS delivers the same message again (the delete was lost): the same body comes back.
    delivery = agent.print_queue
    from edge_agent.queues import Delivery

    body = site.sqs.receive_message  # noqa: F841 (the app's queue is empty now)
    again = Delivery("redelivered", "no-handle", "")
    again.job = protocol.parse_print_message(_body_of(site, job))
    agent.workers[P1].submit(again)
    site.wait_for(lambda: len([r for r in site.job_results(job) if r["outcome"] == "printed"]) == 2)
    second = site.job_results(job)[-1]
    assert second["uid"] == first["uid"]
    assert len(site.prints_of(P1, job)) == 1
    assert delivery is agent.print_queue


def _body_of(site, job_id):
    import json

    key = f"venue-a/{site.site_id}/{job_id}/front.png"
    return json.dumps({
        "v": 1, "type": "print_card", "tenant_id": "venue-a", "site_id": site.site_id, "printer_id": P1,
        "job_id": job_id, "encode": True, "front": {"url": "http://127.0.0.1:9/x", "bucket": "b", "key": key},
        "back": None, "card": {},
    })
