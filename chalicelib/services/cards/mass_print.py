"""Mass printing: a card for every subscription of a product that matches the filters (a
delivery mode, "new card" by default) and has none yet, on one printer, as a job of the jobs
framework (``cards.mass_print``): progress, pause and resume, cancel (``docs/jobs.md``).

Each subscription is an item: its print job's id is derived from the mass print's id and the
subscription's (:func:`item_job_id`), so a chunk run again after a crash finds the job it
recorded and sends it again if it was never sent (one job, one message) instead of making a
second one. A subscription is skipped when it already has a card, or a job queued, taken,
printed, or uncertain and not yet decided: mass printing twice prints nothing twice.

Cancelling the mass print (``POST /jobs/{id}/cancel``) also cancels its print jobs still queued
(the kind's ``on_end``); those already taken by the agent are printed.
"""
from __future__ import annotations

from collections import Counter

from chalicelib.adapters import ids
from chalicelib.errors import DomainError, InvalidInput
from chalicelib.models.base import tenant_key
from chalicelib.models.cards import CardPrinter
from chalicelib.models.catalog import Product
from chalicelib.models.jobs import Job
from chalicelib.models.subscriptions import DELIVERY_MODES, Subscription
from chalicelib.services.cards import binding, printing
from chalicelib.services.jobs.framework import ChunkBudget, ChunkResult, job_kind, start_job
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.records import by_ids, require_reference

KIND = "cards.mass_print"
PAGE = 25  # subscriptions per Query of the product's index


def start_mass_print(actor: Actor, *, product_id: str, printer_id: str, delivery_mode: str = "new_card") -> Job:
    """Start printing the product's subscriptions in ``delivery_mode`` that have no card yet."""
    require_reference(actor, Product, product_id, "product_id")
    printer = require_reference(actor, CardPrinter, printer_id, "printer_id")
    if not printer.active:
        raise InvalidInput.on("printer_id", "this printer is out of service")
    if delivery_mode not in DELIVERY_MODES:
        raise InvalidInput.on("delivery_mode", f"one of {', '.join(DELIVERY_MODES)}")
    return start_job(actor, KIND, {"product_id": product_id, "printer_id": printer_id, "delivery_mode": delivery_mode})


def item_job_id(batch_job_id: str, subscription_id: str) -> str:
    """The print job of one subscription in one mass print: the same on every attempt."""
    return ids.derived_id(ids.made_at(batch_job_id), "mass-print", batch_job_id, subscription_id)


def _cancel_queued(job: Job) -> None:
    actor = Actor(tenant_id=job.tenant_id, subject=job.cancelled_by or job.created_by,
                  roles=frozenset(job.created_by_roles or ()))
    printing.cancel_queued_of_batch(actor, job.id)


@job_kind(KIND, max_items=100, on_end=_cancel_queued)
def mass_print(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    key = tenant_key(actor.tenant_id, params["product_id"])
    start = (cursor or {}).get("after")
    tally: Counter = Counter()
    while budget.items_left:
        query = Subscription.by_product.query(key, limit=min(PAGE, budget.items_left), last_evaluated_key=start)
        entries = list(query)
        found = by_ids(actor, Subscription, [entry.id for entry in entries])
        for entry in entries:
            if not budget.take():
                return _result(tally, {"after": start})
            subscription = found.get(entry.id)
            if subscription is not None:
                tally[_print_one(actor, params, subscription, budget.job_id)] += 1
            start = {"product_key": {"S": key}, "id": {"S": entry.id}, "tenant_id": {"S": actor.tenant_id}}
        if query.last_evaluated_key is None:
            return _result(tally, None)
    return _result(tally, {"after": start})


def _print_one(actor: Actor, params: dict, subscription: Subscription, batch_job_id: str) -> str:
    job_id = item_job_id(batch_job_id, subscription.id)
    if subscription.delivery_mode != params["delivery_mode"] or subscription.state not in ("active", "in_arrears"):
        return "skip:not_matching"
    jobs = printing.jobs_of_subscription(actor, subscription.id)
    if not any(job.id == job_id for job in jobs):
        if any(job.state in ("queued", "taken", "printed") or (job.state == "uncertain" and not job.replaced_by)
               for job in jobs):
            return "skip:already_printed"
        if any(card.state == "active" for card in binding.cards_of_subscription(actor, subscription.id)):
            return "skip:has_card"
    try:
        printing.print_card(actor, subscription.id, params["printer_id"], batch_job_id=batch_job_id, job_id=job_id)
    except DomainError as error:
        return f"error:{error.kind}"
    return "sent"


def _result(tally: Counter, cursor: dict | None) -> ChunkResult:
    failed = sum(count for name, count in tally.items() if name.startswith("error:"))
    skipped = sum(count for name, count in tally.items() if name.startswith("skip:"))
    return ChunkResult(cursor=cursor, done=tally["sent"], failed=failed, skipped=skipped, outcomes=dict(tally))
