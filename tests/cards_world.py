"""Helpers for the season cards' tests: a venue with a subscription product sold to holders, a
card site and printer, and a stand-in for the venue's agent on the real local queues (moto).

The stand-in plays the agent's side of ``docs/card-printing-protocol.md`` only as far as the
app sees it: it reads the site's FIFO print queue and answers signed results and heartbeats on
the results queue; the real agent (``edge_agent/``) is tested on its own.
"""
from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

from chalicelib.adapters.aws import client
from chalicelib.config import settings
from chalicelib.services.cards import printers, protocol, sites
from chalicelib.services.catalog import catalog
from chalicelib.services.contacts import contacts
from chalicelib.services.subscriptions import selling, terms
from tests.orders_world import build_world

PLANS = [{"id": "once", "label": "Comptant", "instalments": 1, "day_of_month": 5, "first_at_purchase": True}]
T0 = datetime(2026, 12, 5, 9, 0, tzinfo=timezone.utc)


class CardWorld:
    """A subscription product of two performances, its holders, a site and an encoding printer."""

    def __init__(self, actor, *, capacity: int = 20, modes=("new_card", "reload_card", "print_at_home")):
        self.actor = actor
        self.world = build_world(actor, capacity=capacity)
        family = catalog.product_families.create(actor, {"name": "Abonnements"})
        self.product = catalog.products.create(actor, {"kind": "subscription", "name": "Abonnement Découverte",
                                                       "family_id": family.id, "season_id": self.world.show.season_id})
        self.tariff = catalog.tariffs.create(actor, {"product_id": self.product.id, "name": "Abonné",
                                                     "price_cents": 6000})
        self.performances = [self.world.evening, self.world.matinee]
        terms.set_terms(actor, self.product.id, {
            "performances": [{"performance_id": self.world.evening.id, "quota_id": self.world.evening_quota.id},
                             {"performance_id": self.world.matinee.id, "quota_id": self.world.matinee_quota.id}],
            "choose": None, "delivery_modes": list(modes), "payment_plans": PLANS})
        self.site = sites.register_site(actor, {"name": "Billetterie", "venue_id": self.world.venue.id})
        self.printer = printers.register_printer(actor, {"site_id": self.site.id, "name": "Primacy 1",
                                                         "model": "Evolis Primacy 2", "encoder": True}).printer

    def sell(self, first_name: str = "Jeanne", *, mode: str = "new_card", count: int = 1):
        """``count`` subscriptions, one holder each, paid cash at the box office (one sale per 10)."""
        if count > 10:
            return [sub for start in range(0, count, 10) for sub in self.sell(f"{first_name}{start}", mode=mode,
                                                                               count=min(10, count - start))]
        holders = [contacts.create_contact(self.actor, {"first_name": f"{first_name}{n or ''}", "last_name": "Martin"})
                   for n in range(count)]
        sale = selling.sell(self.actor, {
            "product_id": self.product.id, "tariff_id": self.tariff.id, "payer_contact_id": holders[0].id,
            "delivery_mode": mode, "plan_id": "once", "means": "cash",
            "subscribers": [{"holder_contact_id": holder.id} for holder in holders]})
        return sale.subscriptions if count > 1 else sale.subscriptions[0]


class SiteAgent:
    """The venue's agent as the app sees it: the print queue in, signed messages out."""

    def __init__(self, site, *, key: str | None = None):
        self.site = site
        self.key = key or protocol.agent_key(site)
        self.sqs = client("sqs")
        self.print_url = self.sqs.get_queue_url(QueueName=site.queue_name)["QueueUrl"]
        self.results_url = self.sqs.create_queue(QueueName=settings.card_results_queue)["QueueUrl"]

    def receive(self, most: int = 10) -> list[dict]:
        """Print messages (deleted once read), with their ``MessageGroupId`` and ``MessageDeduplicationId``."""
        found = []
        while True:
            answer = self.sqs.receive_message(QueueUrl=self.print_url, MaxNumberOfMessages=most,
                                              AttributeNames=["All"], WaitTimeSeconds=0)
            messages = answer.get("Messages", [])
            if not messages:
                return found
            for message in messages:
                found.append({"body": json.loads(message["Body"]), "attributes": message["Attributes"]})
                self.sqs.delete_message(QueueUrl=self.print_url, ReceiptHandle=message["ReceiptHandle"])

    def signed(self, body: dict) -> dict:
        return {**body, "signature": protocol.signature(body, self.key)}

    def result(self, job, outcome: str, *, uid: str | None = None, reason: str | None = None, at: datetime = T0,
               **overrides) -> dict:
        body = {"v": 1, "type": "job_result", "tenant_id": job.tenant_id, "site_id": job.site_id,
                "printer_id": job.printer_id, "job_id": job.id, "outcome": outcome, "uid": uid, "reason": reason,
                "detail": None, "at": at.isoformat().replace("+00:00", "Z"), "agent_version": "1.0.0", **overrides}
        return self.signed(body)

    def heartbeat(self, printer, state: str, *, at: datetime, reasons=(), ribbon: int | None = None) -> dict:
        body = {"v": 1, "type": "heartbeat", "tenant_id": printer.tenant_id, "site_id": printer.site_id,
                "printer_id": printer.id, "state": state, "reasons": list(reasons), "ribbon_remaining": ribbon,
                "current_job_id": None, "at": at.isoformat().replace("+00:00", "Z"), "agent_version": "1.0.0"}
        return self.signed(body)

    def send(self, *messages: dict) -> None:
        for message in messages:
            self.sqs.send_message(QueueUrl=self.results_url, MessageBody=json.dumps(message))


def deliver(pump, rounds: int = 5) -> None:
    """Feed the results queue to the app's handler until it is empty."""
    for _ in range(rounds):
        if not [call for call in pump.run_once() if call.source == "card_results"]:
            return


def later(minutes: int) -> datetime:
    return T0 + timedelta(minutes=minutes)
