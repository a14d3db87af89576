"""Exactly-once printing: the agent (`python -m edge_agent run`, its own process) dies at each
journal step, or is killed in the middle of a print; a new agent then takes the redelivered
messages. Nothing is printed twice (the simulator's log of every card ink touched), nothing is
lost (the next job is printed), and `uncertain` is reported exactly when the card was
being printed."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from conftest import AgentProcess, Site, new_site

from edge_agent.journal import CRASH_EXIT_CODE, CRASH_HOOK_ENV

P1 = "printer-1"
STEPS = ["taken", "inserting", "uid_read", "printing", "printed", "reported"]


def crash_then_restart(site: Site, step: str) -> dict[str, Any]:
    """Two jobs; the agent dies right after journalling `step` of the first; a new agent then
    takes over. What the app and the printer saw."""
    config = site.write_config([{"printer_id": P1}])
    dying = AgentProcess(config, {CRASH_HOOK_ENV: step})
    job, nxt = site.send_job(P1), site.send_job(P1)
    exit_code = dying.wait_exit()
    site.poll()
    before = list(site.job_results(job))

    def decided(results):
        return [r for r in results if r["outcome"] != "taken"]

    agent = AgentProcess(config)
    try:
        site.wait_for(lambda: len(decided(site.job_results(job))) > len(decided(before)), timeout=30,
                      what="the restarted result")
        site.wait_outcome(nxt, timeout=30)
        site.wait_for(lambda: site.queue_counts() == (0, 0), what="both messages deleted")
    finally:
        agent.terminate()
    return {"exit_code": exit_code, "before": before, "result": site.outcome(job), "next": site.outcome(nxt),
            "prints": site.prints_of(P1, job), "next_prints": site.prints_of(P1, nxt), "machine": site.machine(P1)}


@pytest.fixture(scope="module")
def crashes(moto_endpoint, tmp_path_factory) -> dict[str, Any]:
    """Every step's scenario at the same time, each with its own site, journal and printer."""
    sites = {step: new_site(moto_endpoint, tmp_path_factory.mktemp(step)) for step in STEPS}
    seen: dict[str, Any] = {}

    def run(step: str) -> None:
        try:
            seen[step] = crash_then_restart(sites[step], step)
        except BaseException as exc:  # re-raised by the step's test
            seen[step] = exc

    threads = [threading.Thread(target=run, args=(step,)) for step in STEPS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return seen


@pytest.mark.parametrize("step", STEPS)
def test_a_crash_after_each_step_then_a_restart(crashes, step):
    seen = crashes[step]
    if isinstance(seen, BaseException):
        raise seen
    result, machine = seen["result"], seen["machine"]
    assert seen["exit_code"] == CRASH_EXIT_CODE
    if step == "printing":
        # Died with the card at the print head: staff decide; never printed again by the agent.
        assert (result["outcome"], result["reason"]) == ("uncertain", "interrupted_while_printing")
        assert result["uid"] is not None and seen["prints"] == []
        assert machine["rejected"] == 1  # the card it was about to print
    else:
        assert result["outcome"] == "printed"
        assert len(seen["prints"]) == 1 and seen["prints"][0]["uid"] == result["uid"]
        # A card read but not printed is rejected before the job is printed on a new one.
        assert machine["rejected"] == (1 if step == "uid_read" else 0)
    if step == "reported":
        [first] = [r for r in seen["before"] if r["outcome"] != "taken"]
        assert (first["outcome"], first["uid"]) == ("printed", result["uid"])  # the same result, sent again
    # Nothing lost: the next job printed once; every printed card left by the output.
    assert seen["next"]["outcome"] == "printed" and len(seen["next_prints"]) == 1
    assert machine["ejected"] == (1 if step == "printing" else 2) and machine["card"] is None


def test_killed_in_the_middle_of_a_print_is_uncertain_and_never_printed_again(site):
    config = site.write_config([{"printer_id": P1, "simulator": {"print_seconds": 5}}])
    agent = AgentProcess(config)
    job = site.send_job(P1)
    site.wait_for(lambda: len(site.printed(P1)) == 1, timeout=20, what="the print started")
    agent.kill()  # SIGKILL: no goodbye

    agent = AgentProcess(config)
    try:
        result = site.wait_outcome(job, timeout=20)
    finally:
        agent.terminate()
    assert (result["outcome"], result["reason"]) == ("uncertain", "interrupted_while_printing")
    [card] = site.prints_of(P1, job)
    assert result["uid"] == card["uid"]  # staff can mark it printed with this UID


def test_a_stopped_agent_finishes_its_card_and_gives_back_the_jobs_it_held(site):
    config = site.write_config([{"printer_id": P1, "simulator": {"print_seconds": 1.5}}])
    agent = AgentProcess(config)
    jobs = [site.send_job(P1) for _ in range(3)]
    site.wait_for(lambda: len(site.printed(P1)) == 1, timeout=20, what="the first print started")
    assert agent.terminate() == 0
    site.wait_for(lambda: site.outcome(jobs[0]) is not None, timeout=5)
    assert site.outcome(jobs[0])["outcome"] == "printed"
    assert site.outcome(jobs[1]) is None
    site.wait_for(lambda: site.queue_counts() == (2, 0), timeout=5, what="the two others visible again")
