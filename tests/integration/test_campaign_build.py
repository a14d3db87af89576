"""A campaign's creation is recoverable: the performance changes only together with its
campaign, a fresh campaign builds in one pass without error, and a build that could not be
queued or did not finish is rebuilt by staff, keeping what was gathered."""
from __future__ import annotations

from datetime import timedelta

import pytest

from chalicelib.adapters import clock, queue
from chalicelib.errors import ConcurrentChange, Conflict
from chalicelib.services.campaigns import affected_customers, campaigns
from chalicelib.services.catalog import catalog
from chalicelib.services.jobs import framework as jobs
from chalicelib.services.orders import orders
from tests.job_helpers import drive, ensure_jobs_queue
from tests.orders_world import build_world, draft


@pytest.fixture
def world(actor):
    made = build_world(actor)
    for index in range(5):
        orders.place_order(actor, draft(made, buyer={"last_name": f"Client{index}", "email": f"c{index}@exemple.fr"}))
    return made


def _request(world) -> dict:
    return {"performance_id": world.evening.id, "kind": "cancellation",
            "refund_deadline": clock.now() + timedelta(days=10)}


def _gathered(actor, campaign) -> int:
    return sum(affected_customers.counts(actor, campaign.id).values())


def test_a_fresh_campaign_builds_in_one_pass_without_error(actor, world, pump):
    ensure_jobs_queue()
    campaign = campaigns.create_campaign(actor, _request(world))
    build = drive(pump, actor.tenant_id, campaign.build_job_id)
    assert (build.status, build.done, build.last_error, int(build.attempts)) == ("succeeded", 5, None, 0)
    assert not build.notes
    assert campaigns.get_campaign(actor, campaign.id).status == "ready"


def test_a_build_the_queue_refused_is_rebuilt_by_staff(actor, world, pump, monkeypatch):
    ensure_jobs_queue()

    def queue_down(*args, **kwargs):
        raise ConnectionError("SQS unreachable")

    with monkeypatch.context() as patch:
        patch.setattr(queue, "send", queue_down)
        campaign = campaigns.create_campaign(actor, _request(world))
    assert campaign.status == "build_stopped"
    assert catalog.get_performance(actor, world.evening.id).status == "cancelled"  # the change stands, with it
    with pytest.raises(Conflict):
        campaigns.create_campaign(actor, _request(world))  # not a second campaign: a rebuild

    rebuilt = campaigns.rebuild(actor, campaign.id)
    assert rebuilt.status == "building" and rebuilt.build_job_id != campaign.build_job_id
    with pytest.raises(Conflict):
        campaigns.rebuild(actor, campaign.id)  # a build runs: the same request twice starts one
    drive(pump, actor.tenant_id, rebuilt.build_job_id)
    assert campaigns.get_campaign(actor, campaign.id).status == "ready" and _gathered(actor, campaign) == 5
    with pytest.raises(Conflict):
        campaigns.rebuild(actor, campaign.id)


def test_a_build_cancelled_halfway_keeps_its_customers_and_a_rebuild_completes_it(actor, world, pump, monkeypatch):
    ensure_jobs_queue()
    monkeypatch.setattr(campaigns, "BUILD_PAGE", 2)
    campaign = campaigns.create_campaign(actor, _request(world))
    kind = jobs.kind_named(campaigns.BUILD)
    first = kind.run_chunk(actor, {"campaign_id": campaign.id}, None, jobs.ChunkBudget(
        job_id=campaign.build_job_id, seq=0, max_items=2, seconds=60))
    assert first.done == 2 and first.cursor is not None  # two gathered, then staff cancel the job
    jobs.cancel_job(actor, campaign.build_job_id, reason="wrong performance? no, right one")
    assert campaigns.get_campaign(actor, campaign.id).status == "build_stopped"

    rebuilt = campaigns.rebuild(actor, campaign.id)
    drive(pump, actor.tenant_id, rebuilt.build_job_id)
    assert campaigns.get_campaign(actor, campaign.id).status == "ready" and _gathered(actor, campaign) == 5


def test_a_campaign_that_cannot_be_written_leaves_the_performance_as_it_was(actor, world, monkeypatch):
    real_write = campaigns.write_audited

    def staff_edit_the_performance_first(*args, **kwargs):
        catalog.update_performance(actor, world.evening.id, {"label": "Soirée de gala"})
        return real_write(*args, **kwargs)

    monkeypatch.setattr(campaigns, "write_audited", staff_edit_the_performance_first)
    with pytest.raises(ConcurrentChange):
        campaigns.create_campaign(actor, _request(world))
    performance = catalog.get_performance(actor, world.evening.id)
    assert (performance.status, performance.label) == ("scheduled", "Soirée de gala")
    assert campaigns.list_campaigns(actor, limit=10, cursor=None).items == []
