"""Mass printing 50 season cards as a job (real jobs queue and print queue on moto): paused, then
resumed, it sends one print job and one message per subscription; run again, it prints nothing
twice; cancelled midway, its queued print jobs are cancelled (the marker for each) and the rest
are never made. And the renewal's "reload existing card" puts the new season on the old card."""
from __future__ import annotations

import dataclasses
import json

import pytest

from chalicelib.adapters import storage
from chalicelib.config import settings
from chalicelib.models.cards import PrintJob
from chalicelib.models.subscriptions import Subscription
from chalicelib.services.cards import binding, checkin, mass_print, printing, results
from chalicelib.services.jobs import framework as jobs
from chalicelib.services.orders import orders
from tests.cards_world import CardWorld, SiteAgent
from tests.job_helpers import drive, ensure_jobs_queue, run_round, stored

COUNT = 50


@pytest.fixture
def sold(actor):
    cards = CardWorld(actor, capacity=COUNT + 10)
    subscriptions = cards.sell("Abonné", count=COUNT)
    cards.sell("Retrait", mode="print_at_home")  # another delivery mode: not printed
    ensure_jobs_queue()
    return cards, subscriptions


def _jobs_of_batch(actor, batch_id) -> list[PrintJob]:
    from chalicelib.models.base import tenant_key

    keys = [(actor.tenant_id, entry.id) for entry in PrintJob.by_batch.query(tenant_key(actor.tenant_id, batch_id))]
    return list(PrintJob.batch_get(keys)) if keys else []


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 10 subscriptions, so that a pause or a cancel lands midway."""
    kind = jobs.KINDS[mass_print.KIND]
    monkeypatch.setitem(jobs.KINDS, mass_print.KIND, dataclasses.replace(kind, max_items=10))


def test_a_mass_print_paused_then_resumed_prints_each_card_once(actor, sold, pump, small_chunks):
    cards, subscriptions = sold
    job = mass_print.start_mass_print(actor, product_id=cards.product.id, printer_id=cards.printer.id)
    jobs.pause_job(actor, job.id)
    for _ in range(3):
        run_round(pump)
    assert stored(actor.tenant_id, job.id).status == "paused" and _jobs_of_batch(actor, job.id) == []
    jobs.resume_job(actor, job.id)
    run_round(pump)
    jobs.pause_job(actor, job.id)
    midway = len(_jobs_of_batch(actor, job.id))
    assert 0 < midway < COUNT
    run_round(pump)
    assert len(_jobs_of_batch(actor, job.id)) == midway
    jobs.resume_job(actor, job.id)
    finished = drive(pump, actor.tenant_id, job.id)
    assert (finished.status, finished.done, finished.skipped, finished.failed) == ("succeeded", COUNT, 1, 0)
    made = _jobs_of_batch(actor, job.id)
    assert sorted(job.subscription_id for job in made) == sorted(sub.id for sub in subscriptions)
    messages = SiteAgent(cards.site).receive()
    assert sorted(message["body"]["job_id"] for message in messages) == sorted(job.id for job in made)
    assert {message["attributes"]["MessageGroupId"] for message in messages} == {cards.printer.id}
    again = drive(pump, actor.tenant_id, mass_print.start_mass_print(
        actor, product_id=cards.product.id, printer_id=cards.printer.id).id)
    assert (again.done, again.outcomes.get("skip:already_printed")) == (0, COUNT)
    assert SiteAgent(cards.site).receive() == []


def test_cancelling_a_mass_print_cancels_its_queued_print_jobs(actor, sold, pump, small_chunks):
    cards, _ = sold
    job = mass_print.start_mass_print(actor, product_id=cards.product.id, printer_id=cards.printer.id)
    run_round(pump)
    made = _jobs_of_batch(actor, job.id)
    agent = SiteAgent(cards.site)
    taken = made[0]
    results.apply_message(json.dumps(agent.result(taken, "taken")))  # the agent is printing this one
    jobs.cancel_job(actor, job.id, reason="ruban épuisé")
    for _ in range(3):
        run_round(pump)
    after = {row.id: row for row in _jobs_of_batch(actor, job.id)}
    assert len(after) == len(made) < COUNT, "no print job is made after the cancel"
    queued = [row for row in after.values() if row.id != taken.id]
    assert all(row.cancel_requested_at is not None for row in queued)
    assert all(storage.exists(settings.card_images_bucket, printing.cancel_marker_key(row)) for row in queued)
    assert after[taken.id].cancel_requested_at is None, "a job the agent took is printed"


@pytest.fixture
def renewal_clock():
    """The renewal run moves the clock to its day (``Seasons.run``): put it back for the next tests."""
    from chalicelib.adapters import clock

    yield
    clock.set_clock(None)


def test_reload_existing_card_at_renewal_binds_the_new_season_without_printing(actor, pump, renewal_clock):
    from chalicelib.services.cards import printers, sites
    from tests.renewals_world import Seasons, contact_named

    seasons = Seasons(actor, tacit=False, modes=("reload_card", "new_card"))
    holder = contact_named(actor, "Jeanne")
    source = seasons.sell(actor, holder, mode="new_card").subscriptions[0]
    site = sites.register_site(actor, {"name": "Guichet", "venue_id": seasons.world.venue.id})
    printer = printers.register_printer(actor, {"site_id": site.id, "name": "P1", "model": "Evolis Primacy 2",
                                                "encoder": True}).printer
    job = printing.print_card(actor, source.id, printer.id)
    results.apply_message(json.dumps(SiteAgent(site).result(job, "printed", uid="04A1B2C3D4E5F6")))
    ensure_jobs_queue()
    messages_before = SiteAgent(site).receive()
    seasons.run(actor, pump, delivery_modes=["reload_card"], fallback_mode="reload_card",
                mode_replacements={"new_card": "reload_card"})
    renewed = Subscription.get(actor.tenant_id, Subscription.get(actor.tenant_id, source.id).renewed_into)
    assert renewed.delivery_mode == "reload_card"
    [card] = binding.cards_of_subscription(actor, renewed.id)
    assert (card.id, card.subscription_ids) == (job.id, [source.id, renewed.id])
    assert printing.jobs_of_subscription(actor, renewed.id) == [] and SiteAgent(site).receive() == []
    assert len(messages_before) == 1
    orders.mark_paid(actor, renewed.order_id)  # the reservation paid at the box office
    admitted = checkin.check_in_card(actor, seasons.new_performances[1].id, uid="04A1B2C3D4E5F6")
    assert (admitted.order_id, admitted.performance_id) == (renewed.order_id, seasons.new_performances[1].id)
