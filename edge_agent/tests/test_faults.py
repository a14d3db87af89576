"""Each printer fault, through the agent: the job fails with its reason, the heartbeat shows
the printer's state, and the next job waits (until the printer is ready) or goes on, as the
protocol's table of reasons says. Faults are the simulator's fault files."""

from __future__ import annotations

import time

import pytest

P1 = "printer-1"


def assert_waits(site, job, seconds=0.6):
    """The job is held: no result at all (not even `taken`), and its message is still in the queue."""
    time.sleep(seconds)
    site.poll()
    assert site.job_results(job) == []
    assert sum(site.queue_counts()) >= 1


def test_feeder_empties_after_n_cards_then_waits_for_a_refill(site, run_agent):
    run_agent([{"printer_id": P1, "simulator": {"feeder_cards": 2}}])
    jobs = [site.send_job(P1) for _ in range(4)]
    third = site.wait_outcome(jobs[2])
    assert [site.outcome(j)["outcome"] for j in jobs[:2]] == ["printed", "printed"]
    assert (third["outcome"], third["reason"]) == ("failed", "feeder_empty")
    assert "PRINT_NEEDACTION" in third["detail"]
    site.wait_heartbeat(P1, "error", "feeder_empty")
    assert_waits(site, jobs[3])
    (site.faults(P1) / "refill").write_text("10")
    assert site.wait_outcome(jobs[3])["outcome"] == "printed"
    site.wait_heartbeat(P1, "ready")
    assert len(site.printed(P1)) == 3


def test_ribbon_ends_the_card_is_rejected_and_the_next_job_waits_for_a_new_ribbon(site, run_agent):
    run_agent([{"printer_id": P1, "simulator": {"ribbon_cards": 1, "ribbon_low_at": 0}}])
    first, second, third = (site.send_job(P1) for _ in range(3))
    assert site.wait_outcome(first)["outcome"] == "printed"
    result = site.wait_outcome(second)
    assert (result["outcome"], result["reason"], result["uid"]) == ("failed", "ribbon_ended", None)
    assert site.machine(P1)["rejected"] == 1  # the blank card inserted for it
    site.wait_heartbeat(P1, "error", "ribbon_ended")
    assert_waits(site, third)
    (site.faults(P1) / "new_ribbon").touch()
    assert site.wait_outcome(third)["outcome"] == "printed"
    assert len(site.printed(P1)) == 2


def test_ribbon_low_is_a_warning_and_printing_goes_on(site, run_agent):
    run_agent([{"printer_id": P1, "simulator": {"ribbon_cards": 10, "ribbon_low_at": 10}}])
    site.wait_heartbeat(P1, "warning", "ribbon_low")
    assert site.heartbeats(P1)[-1]["ribbon_remaining"] == 10
    assert site.wait_outcome(site.send_job(P1))["outcome"] == "printed"


def test_a_jam_the_driver_clears_fails_the_job_and_the_next_one_prints(site, run_agent):
    run_agent([{"printer_id": P1}])
    (site.faults(P1) / "jam").touch()
    jammed, nxt = site.send_job(P1), site.send_job(P1)
    result = site.wait_outcome(jammed)
    assert (result["outcome"], result["reason"]) == ("failed", "mechanical_error")
    assert site.wait_outcome(nxt)["outcome"] == "printed"
    assert site.machine(P1)["rejected"] == 1


def test_a_jam_that_needs_a_person_holds_the_next_job(site, run_agent):
    run_agent([{"printer_id": P1}])
    (site.faults(P1) / "jam").touch()
    (site.faults(P1) / "jam_stuck").touch()
    jammed, nxt = site.send_job(P1), site.send_job(P1)
    assert site.wait_outcome(jammed)["reason"] == "mechanical_error"
    site.wait_heartbeat(P1, "error", "mechanical_error")
    assert_waits(site, nxt)
    (site.faults(P1) / "jam_stuck").unlink()
    assert site.wait_outcome(nxt)["outcome"] == "printed"


@pytest.mark.parametrize("fault, reason, state", [
    ("no_card_at_encoder", "no_card_at_encoder", "ready"),
    ("encoder_silent", "encoder_not_answering", "warning"),
    ("timeout", "timeout", "ready"),
])
def test_a_card_fault_rejects_the_card_fails_the_job_and_goes_on(site, run_agent, fault, reason, state):
    run_agent([{"printer_id": P1}])
    (site.faults(P1) / fault).touch()
    failed, nxt = site.send_job(P1), site.send_job(P1)
    result = site.wait_outcome(failed)
    assert (result["outcome"], result["reason"], result["uid"]) == ("failed", reason, None)
    assert site.wait_outcome(nxt)["outcome"] == "printed"
    assert site.machine(P1)["rejected"] == 1
    assert [e["front_sha256"] for e in site.prints_of(P1, failed)] == (
        [site.images[failed]] if fault == "timeout" else [])  # a timeout happens while printing
    if state == "warning":
        site.wait_heartbeat(P1, "warning", reason)


def test_printer_unplugged_fails_the_job_then_waits_until_reachable(site, run_agent):
    run_agent([{"printer_id": P1}])
    (site.faults(P1) / "unplug").touch()
    failed, nxt = site.send_job(P1), site.send_job(P1)
    assert site.wait_outcome(failed)["reason"] == "printer_unreachable"
    site.wait_heartbeat(P1, "offline", "printer_unreachable")
    assert_waits(site, nxt)
    (site.faults(P1) / "offline").unlink()
    assert site.wait_outcome(nxt)["outcome"] == "printed"
    site.wait_heartbeat(P1, "ready")


def test_a_printer_offline_at_start_takes_no_job_until_it_answers(site, run_agent):
    (site.faults(P1) / "offline").touch()
    run_agent([{"printer_id": P1}])
    site.wait_heartbeat(P1, "offline", "printer_unreachable")
    job = site.send_job(P1)
    assert_waits(site, job)
    (site.faults(P1) / "offline").unlink()
    assert site.wait_outcome(job)["outcome"] == "printed"


def test_a_busy_printer_is_retried_then_the_job_fails_and_the_next_goes_on(site, run_agent):
    run_agent([{"printer_id": P1}], busy_retry_seconds=1)
    (site.faults(P1) / "busy").touch()
    site.wait_heartbeat(P1, "ready", "printer_busy")
    started = time.monotonic()
    busy = site.send_job(P1)
    result = site.wait_outcome(busy)
    assert (result["outcome"], result["reason"]) == ("failed", "printer_busy")
    assert time.monotonic() - started >= 1.0
    (site.faults(P1) / "busy").unlink()
    assert site.wait_outcome(site.send_job(P1))["outcome"] == "printed"
    assert site.machine(P1)["rejected"] == 0  # no card was taken


@pytest.mark.parametrize("fault", ["cover_open", "reject_box_full"])
def test_a_fault_during_a_job_fails_it_and_holds_the_next(site, run_agent, fault):
    run_agent([{"printer_id": P1, "simulator": {"encode_seconds": 1.0}}])
    job, nxt = site.send_job(P1), site.send_job(P1)
    # While the card is at the encoder, someone opens the cover (or the reject box fills).
    site.wait_for(lambda: (site.machine(P1)["card"] or {}).get("position") == "contactless"
                  or site.machine(P1)["card"] is not None, what="the card inserted")
    (site.faults(P1) / fault).touch()
    result = site.wait_outcome(job)
    assert (result["outcome"], result["reason"]) == ("failed", fault)
    site.wait_heartbeat(P1, "error", fault)
    assert_waits(site, nxt)
    (site.faults(P1) / fault).unlink()
    assert site.wait_outcome(nxt)["outcome"] == "printed"
    assert len(site.printed(P1)) == 1


def test_random_faults_never_print_a_job_twice(site, run_agent):
    run_agent([{"printer_id": P1, "simulator": {"random_fault_rate": 0.5, "seed": 7}}])
    jobs = [site.send_job(P1) for _ in range(12)]
    site.wait_for(lambda: all(site.outcome(j) for j in jobs), timeout=30)
    outcomes = [site.outcome(j) for j in jobs]
    failed = [o for o in outcomes if o["outcome"] == "failed"]
    assert failed and len(failed) < len(jobs)
    assert {o["reason"] for o in failed} <= {"mechanical_error", "no_card_at_encoder", "encoder_not_answering"}
    for job, outcome in zip(jobs, outcomes):
        prints = site.prints_of(P1, job)
        assert len(prints) <= 1
        if outcome["outcome"] == "printed":
            assert prints[0]["uid"] == outcome["uid"]
