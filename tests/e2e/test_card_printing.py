"""Season cards end to end: the real edge agent (``edge_agent/``, its own virtualenv, a process of
its own) with its simulated Evolis printer, against the app's local queues (moto server) and
tables (DynamoDB Local), the app's results handler fed by the event pump as Lambda would be.

The agent's configuration is the one staff download from the app (``agent_config``), made local
the way ``make dev`` makes it (:mod:`devtools.card_agent`). A card printed through the app comes
back printed with a real-looking UID, bound to its subscription, and admits its holder at the
door; a mass print of 50 prints 50 cards once each; a printer fault fails its job with the
printer's reason and the printer's state reaches the app; a refill lets the next job through.
"""
from __future__ import annotations

import pytest

from chalicelib.models.cards import CardPrinter, PrintJob
from chalicelib.services.cards import binding, checkin, mass_print, printing
from tests.cards_world import CardWorld
from tests.e2e.card_agent import needs_agent, start_agent, until
from tests.job_helpers import drive

pytestmark = needs_agent


@pytest.fixture
def cards(actor):
    return CardWorld(actor, capacity=80)


@pytest.fixture
def agent(actor, cards, tmp_path, pump):
    """The site's agent (after the pump made the app's queues, the results queue among them)."""
    running = start_agent(actor, cards.site.id, tmp_path)
    yield running
    running.stop()


def job_state(actor, job_id: str) -> PrintJob:
    return PrintJob.get(actor.tenant_id, job_id, consistent_read=True)


def test_a_card_printed_through_the_app_is_bound_and_admits_its_holder(actor, cards, agent, pump):
    subscription = cards.sell("Jeanne")
    job = printing.print_card(actor, subscription.id, cards.printer.id)
    done = until(pump, lambda: (found := job_state(actor, job.id)).state == "printed" and found)
    assert len(done.uid) == 14 and done.uid.startswith("04")  # a 7-byte NXP UID, read at the encoder
    [card] = binding.cards_of_subscription(actor, subscription.id)
    assert card.uid == done.uid
    assert [entry["uid"] for entry in agent.printed()] == [done.uid]  # one card touched by ink
    ticket = checkin.check_in_card(actor, cards.world.evening.id, uid=done.uid.lower())
    assert ticket.subscription_id == subscription.id
    printer = until(pump, lambda: (found := CardPrinter.get(actor.tenant_id, cards.printer.id,
                                                            consistent_read=True)).last_contact_at and found)
    assert printer.state == "ready"


def test_a_mass_print_of_50_prints_each_card_once(actor, cards, agent, pump):
    sold = cards.sell("Abonné", count=50)
    batch = mass_print.start_mass_print(actor, product_id=cards.product.id, printer_id=cards.printer.id)
    drive(pump, actor.tenant_id, batch.id)
    jobs = until(pump, lambda: (found := printing.list_jobs(actor, printer_id=cards.printer.id, state="printed",
                                                            limit=100, cursor=None).items)
                 and len(found) == 50 and found, seconds=120)
    uids = {job.uid for job in jobs}
    assert len(uids) == 50 and {job.subscription_id for job in jobs} == {sub.id for sub in sold}
    assert sorted(entry["uid"] for entry in agent.printed()) == sorted(uids)  # nothing printed twice


def test_a_printer_fault_fails_its_job_with_the_reason_and_a_refill_lets_the_next_through(
        actor, cards, agent, pump):
    first = printing.print_card(actor, cards.sell("Ana").id, cards.printer.id)
    until(pump, lambda: job_state(actor, first.id).state == "printed")
    agent.fault("cover_open")
    blocked = printing.print_card(actor, cards.sell("Bea").id, cards.printer.id)
    failed = until(pump, lambda: (found := job_state(actor, blocked.id)).state == "failed" and found)
    assert failed.reason == "cover_open"
    printer = until(pump, lambda: (found := CardPrinter.get(actor.tenant_id, cards.printer.id,
                                                            consistent_read=True)).state == "error" and found)
    assert "cover_open" in (printer.reasons or [])
    (agent.state_dir / "faults" / "cover_open").unlink()
    after = printing.print_card(actor, cards.sell("Clo").id, cards.printer.id)
    until(pump, lambda: job_state(actor, after.id).state == "printed")
    assert len(agent.printed()) == 2
