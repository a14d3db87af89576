"""Merging two records of one customer: everything of the other moves to the kept one, and the
other becomes a redirect. A job (a customer may have many orders), in steps each safe to run
again, so a retried chunk, a crash or staff asking twice end the same as once:

1. the other record is marked as merging into the kept one (it refuses edits, new orders and
   leaves search at once; asking again is harmless, merging it elsewhere is a 409);
2. its orders name the kept record as their buyer, one order write each (their listing, and an
   open option's follow-up lines, follow in the same transaction); an order already moved is
   left alone;
3. its credit balance moves in one transaction (an entry out and one in, each balance
   conditioned on what was read: twice moves nothing more), its donations move one by one, and
   its mailing lists with the whole history of each consent;
4. its e-mails (with their consent and delivery facts), phones, addresses, criteria and system
   fields join the kept record, the e-mails' claims change hands, and the other keeps nothing
   personal (one transaction, both versions checked).

Every step is audited on both records. :func:`preview` says what a merge would move, before
staff confirm it, refused as the merge itself would be.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from chalicelib.models.base import tenant_key
from chalicelib.models.contacts import Contact
from chalicelib.models.mailing_lists import ListMembership
from chalicelib.models.money import CreditAccount
from chalicelib.models.orders import OrderListing
from chalicelib.services.contacts import contacts, mailing_lists
from chalicelib.services.jobs.framework import ChunkBudget, ChunkResult, job_kind, start_job
from chalicelib.services.money import customer_money
from chalicelib.services.orders import orders
from chalicelib.services.shared.actors import Actor

MERGE = "customers.merge"
PAGE = 25
MAX_COUNTED = 2000  # a customer's orders, counted for the preview (beyond: "more than")


@dataclass
class MergePreview:
    """What merging ``other`` into ``kept`` would move, as read now."""

    kept: Contact
    other: Contact
    orders: int
    tickets: int
    orders_capped: bool
    credit: CreditAccount
    donations: int
    donations_cents: int
    mailing_lists: list[ListMembership]
    joining: contacts.Absorbed


def preview(actor: Actor, kept_id: str, other_id: str) -> MergePreview:
    """What a merge of ``other_id`` into ``kept_id`` would move (nothing written); refused as
    :func:`start_merge` would refuse it (422 into itself, 409 a closed record)."""
    kept, other = contacts.mergeable(actor, kept_id, other_id)
    listed = OrderListing.query(tenant_key(actor.tenant_id, "contact", other_id), limit=MAX_COUNTED + 1,
                                attributes_to_get=["ticket_count"])
    counts = [int(entry.ticket_count or 0) for entry in listed]
    return MergePreview(kept=kept, other=other, orders=min(len(counts), MAX_COUNTED),
                        tickets=sum(counts[:MAX_COUNTED]), orders_capped=len(counts) > MAX_COUNTED,
                        credit=customer_money.credit_account(actor, other_id),
                        donations=customer_money.donations_count(actor, other_id),
                        donations_cents=customer_money.donations_total(actor, other_id),
                        mailing_lists=mailing_lists.memberships(actor, other_id),
                        joining=contacts.absorbed(kept, other))


def start_merge(actor: Actor, kept_id: str, other_id: str):
    """Merge ``other_id`` into ``kept_id`` (checked and marked now; the rest as a job)."""
    contacts.mark_merging(actor, kept_id, other_id)
    return start_job(actor, MERGE, {"kept_id": kept_id, "other_id": other_id})


@job_kind(MERGE, max_items=40)
def merge_chunk(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    kept_id, other_id = params["kept_id"], params["other_id"]
    contacts.mark_merging(actor, kept_id, other_id)
    moved = 0
    while budget.take():
        listed = list(OrderListing.query(tenant_key(actor.tenant_id, "contact", other_id), limit=PAGE,
                                         consistent_read=True))
        if not listed:
            break
        moved += sum(orders.change_buyer_record(actor, entry.order_id, other_id, kept_id) for entry in listed)
    else:
        return ChunkResult(cursor={"step": "orders"}, done=moved, outcomes={"orders_moved": moved})
    credit = customer_money.move_credit(actor, other_id, kept_id)
    donations = customer_money.move_donations(actor, other_id, kept_id)
    lists = mailing_lists.move_memberships(actor, other_id, kept_id)
    contacts.absorb(actor, kept_id, other_id)
    outcomes = {"orders_moved": moved, "donations_moved": donations, "lists_moved": lists,
                "credit_moved_cents": int(credit.amount_cents) if credit else 0}
    return ChunkResult(cursor=None, done=moved, outcomes=outcomes, note=json.dumps(outcomes))
