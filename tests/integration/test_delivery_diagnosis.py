"""The delivery diagnosis through the API on simulated campaigns: too early before 5 days (unless
staff insist), a provider silently dropping every mail flagged with the suggested action, and
healthy silence called isolated cases. The statistics themselves are checked against scipy in
``tests/unit/test_delivery_statistics.py``."""
from __future__ import annotations

import random
from datetime import timedelta

import pytest

from chalicelib.adapters import clock, ids
from chalicelib.models.campaigns import AffectedCustomer, Campaign
from tests.api.helpers import call
from tests.orders_world import build_world


@pytest.fixture
def world(actor):
    return build_world(actor)


def simulated_campaign(actor, world, rates: dict[str, tuple[int, float]], *, days_ago: float, seed: int = 7) -> str:
    """A campaign whose customers were notified ``days_ago``; per domain (recipients, reaction rate)."""
    campaign = Campaign(tenant_id=actor.tenant_id, id=ids.new_id(), kind="cancellation",
                        performance_id=world.evening.id, product_id=world.show.id,
                        original_starts_at=world.evening.starts_at, refund_deadline=clock.now() + timedelta(days=30),
                        choices={"refund", "credit", "donation"}, status="ready", created_by="staff-1")
    campaign.save()
    chance = random.Random(seed)
    notified = clock.now() - timedelta(days=days_ago)
    with AffectedCustomer.batch_write() as batch:
        for domain, (recipients, rate) in rates.items():
            for index in range(recipients):
                customer = AffectedCustomer(
                    campaign_key=AffectedCustomer.key_of(actor.tenant_id, campaign.id), order_id=ids.new_id(),
                    tenant_id=actor.tenant_id, campaign_id=campaign.id, order_number=index, buyer_name="Client",
                    search_name="client", email=f"c{index}@{domain}", email_domain=domain, positions=[1],
                    ticket_count=1, payment_type="cash", notified_at=notified, updated_at=clock.now())
                reacted = chance.random() < rate
                customer.move_to(chance.choice(["mail_read", "made_choices"]) if reacted else "mail_sent")
                batch.save(customer)
    return campaign.id


HEALTHY = {"gmail.com": (120, 0.62), "free.fr": (60, 0.62), "laposte.net": (40, 0.62), "sfr.fr": (30, 0.62),
           "yahoo.fr": (25, 0.62), "hotmail.fr": (25, 0.62)}


def test_a_domain_dropping_every_mail_is_flagged_with_what_to_do(client, staff_headers, world, actor):
    campaign_id = simulated_campaign(actor, world, {**HEALTHY, "orange.fr": (45, 0.0)}, days_ago=6)
    status, diagnosis, _ = call(client, "GET", f"/campaigns/{campaign_id}/diagnosis", staff_headers)
    assert status == 200, diagnosis
    assert diagnosis["verdict"]["outcome"] == "general_problem_domain"
    assert diagnosis["verdict"]["suspected_domains"] == ["orange.fr"]
    assert "orange.fr" in diagnosis["verdict"]["action"]
    orange = next(row for row in diagnosis["domains"] if row["domain"] == "orange.fr")
    assert (orange["sent"], orange["reacted"], orange["reaction_rate"]) == (45, 0, 0.0)
    assert orange["test"]["suspected"] and orange["test"]["q_value"] < 0.01
    assert "orange.fr" in orange["test"]["explanation"]
    assert not any(row["test"]["suspected"] for row in diagnosis["domains"] if row["domain"] != "orange.fr")
    assert diagnosis["totals"]["notified"] == 345 and diagnosis["days_since_notification"] >= 6
    assert "Benjamini-Hochberg" in diagnosis["method"]


def test_healthy_silence_is_called_isolated_cases(client, staff_headers, world, actor):
    campaign_id = simulated_campaign(actor, world, HEALTHY, days_ago=8)
    diagnosis = call(client, "GET", f"/campaigns/{campaign_id}/diagnosis", staff_headers)[1]
    assert diagnosis["verdict"]["outcome"] == "isolated_cases"
    assert not any(row["test"]["suspected"] for row in diagnosis["domains"])


def test_before_five_days_it_is_too_early_unless_staff_insist(client, staff_headers, world, actor):
    campaign_id = simulated_campaign(actor, world, {**HEALTHY, "orange.fr": (45, 0.0)}, days_ago=2)
    early = call(client, "GET", f"/campaigns/{campaign_id}/diagnosis", staff_headers)[1]
    assert early["verdict"]["outcome"] == "too_early"
    insisted = call(client, "GET", f"/campaigns/{campaign_id}/diagnosis?override=true", staff_headers)[1]
    assert insisted["verdict"]["outcome"] == "general_problem_domain"
