"""Exactly-once printing: the agent (`python -m edge_agent run`, its own process) dies at each
journal step, or is killed in the middle of a print; a new agent then takes the redelivered
messages. Nothing is printed twice (the simulator's log of every card ink touched), nothing is
lost (the next job is printed), and `uncertain` is reported exactly when the card was
being printed."""

from __future__ import annotations

import pytest

from edge_agent.journal import CRASH_EXIT_CODE, CRASH_HOOK_ENV

P1 = "printer-1"


@pytest.mark.parametrize("step", ["taken", "inserting", "uid_read", "printing", "printed", "reported"])
def test_a_crash_after_each_step_then_a_restart(site, step, agent_process):
    config = site.write_config([{"printer_id": P1}])
    dying = agent_process(config, {CRASH_HOOK_ENV: step})
    job, nxt = site.send_job(P1), site.send_job(P1)
    assert dying.wait_exit() == CRASH_EXIT_CODE
    site.poll()
    before = list(site.job_results(job))

    agent = agent_process(config)
    try:
        site.wait_for(lambda: len([r for r in site.job_results(job) if r["outcome"] != "taken"])
                      > len([r for r in before if r["outcome"] != "taken"]), timeout=20, what="the restarted result")
        result = site.outcome(job)
        assert site.wait_outcome(nxt, timeout=20)["outcome"] == "printed"  # nothing lost
        site.wait_for(lambda: site.queue_counts() == (0, 0), what="both messages deleted")
    finally:
        agent.terminate()

    prints = site.prints_of(P1, job)
    machine = site.machine(P1)
    if step == "printing":
        # Died with the card at the print head: staff decide; never printed again by the agent.
        assert (result["outcome"], result["reason"]) == ("uncertain", "interrupted_while_printing")
        assert result["uid"] is not None and prints == []
        assert machine["rejected"] == 1  # the card it was about to print
    else:
        assert result["outcome"] == "printed"
        assert len(prints) == 1 and prints[0]["uid"] == result["uid"]
        # A card read but not printed is rejected before the job is printed on a new one.
        assert machine["rejected"] == (1 if step == "uid_read" else 0)
    if step == "reported":
        assert [r["outcome"] for r in before] == ["taken", "printed"]
        assert before[-1]["uid"] == result["uid"]  # the same result, sent again
    assert machine["ejected"] == (1 if step == "printing" else 2) and machine["card"] is None
    assert len(site.prints_of(P1, nxt)) == 1


def test_killed_in_the_middle_of_a_print_is_uncertain_and_never_printed_again(site, agent_process):
    config = site.write_config([{"printer_id": P1, "simulator": {"print_seconds": 5}}])
    agent = agent_process(config)
    job = site.send_job(P1)
    site.wait_for(lambda: len(site.printed(P1)) == 1, timeout=20, what="the print started")
    agent.kill()  # SIGKILL: no goodbye

    agent = agent_process(config)
    try:
        result = site.wait_outcome(job, timeout=20)
    finally:
        agent.terminate()
    assert (result["outcome"], result["reason"]) == ("uncertain", "interrupted_while_printing")
    [card] = site.prints_of(P1, job)
    assert result["uid"] == card["uid"]  # staff can mark it printed with this UID


def test_a_stopped_agent_finishes_its_card_and_gives_back_the_jobs_it_held(site, agent_process):
    config = site.write_config([{"printer_id": P1, "simulator": {"print_seconds": 1.5}}])
    agent = agent_process(config)
    jobs = [site.send_job(P1) for _ in range(3)]
    site.wait_for(lambda: len(site.printed(P1)) == 1, timeout=20, what="the first print started")
    assert agent.terminate() == 0
    site.poll()
    assert site.outcome(jobs[0])["outcome"] == "printed"
    assert site.outcome(jobs[1]) is None
    site.wait_for(lambda: site.queue_counts() == (2, 0), timeout=5, what="the two others visible again")
