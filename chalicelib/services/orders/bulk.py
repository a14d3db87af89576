"""Bulk actions on orders, run as background jobs: resend confirmations to any number of
selected orders, or to every order matching the list's filters.

Only complete orders (``complete``, ``partially_complete``) get their confirmation again; the
others are counted as skipped. Each mail is keyed ``order:{id}:confirmation:resend:{job}``,
so a chunk run twice after a crash never mails anyone twice.
"""
from __future__ import annotations

from chalicelib.errors import NotFound
from chalicelib.services.jobs.framework import ChunkBudget, ChunkResult, job_kind, start_job
from chalicelib.services.mail import sending as mail
from chalicelib.services.orders import listing as order_listing
from chalicelib.services.orders import mails as order_mail
from chalicelib.services.orders import orders
from chalicelib.services.orders.selection import filters_of, selection_params
from chalicelib.services.shared.actors import Actor

RESEND_CONFIRMATIONS = "orders.resend_confirmations"
CONFIRMABLE = {"complete", "partially_complete"}
PAGE = 50


def start_resend_confirmations(actor: Actor, *, order_ids: list[str] | None, filters: dict | None):
    """A job resending confirmations to ``order_ids``, or to all orders matching ``filters``."""
    return start_job(actor, RESEND_CONFIRMATIONS, selection_params(actor, order_ids=order_ids, filters=filters))


def _resend(actor: Actor, order_id: str, job_id: str) -> str:
    """``done``, ``skipped`` (not complete, no address, gone) for one order."""
    try:
        order = orders.get_order(actor, order_id)
    except NotFound:
        return "skipped"
    if order.status not in CONFIRMABLE:
        return "skipped"
    request = order_mail.confirmation_request(actor, order, orders.tickets_of(order), reason=f"resend:{job_id}")
    if request is None:
        return "skipped"
    sent = mail.send_mail(actor, request)  # MailNotSentYet raises: the chunk is retried, keys keep it once
    return "failed" if sent.status in ("failed", "rejected") else "done"


@job_kind(RESEND_CONFIRMATIONS, max_items=300)
def resend_confirmations(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    if "order_ids" in params:
        return _resend_selected(actor, params["order_ids"], cursor, budget)
    return _resend_matching(actor, filters_of(params["filters"]), cursor, budget)


def _tally(outcomes: list[str]) -> dict:
    return {"done": outcomes.count("done"), "skipped": outcomes.count("skipped"), "failed": outcomes.count("failed")}


def _resend_selected(actor: Actor, order_ids: list[str], cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    start = (cursor or {}).get("next", 0)
    outcomes, position = [], start
    while position < len(order_ids) and budget.take():
        outcomes.append(_resend(actor, order_ids[position], budget.job_id))
        position += 1
    following = {"next": position} if position < len(order_ids) else None
    return ChunkResult(cursor=following, total=len(order_ids), **_tally(outcomes))


def _resend_matching(actor: Actor, filters: order_listing.OrderFilters, cursor: dict | None,
                     budget: ChunkBudget) -> ChunkResult:
    """Pages of the filtered list; the cursor is the page's start and how far into it we got."""
    page_start, offset = (cursor or {}).get("page"), (cursor or {}).get("offset", 0)
    outcomes: list[str] = []
    while True:
        page = order_listing.find_orders(actor, filters, limit=PAGE, cursor=page_start)
        for index in range(offset, len(page.items)):
            if not budget.take():
                return ChunkResult(cursor={"page": page_start, "offset": index}, **_tally(outcomes))
            outcomes.append(_resend(actor, page.items[index].order_id, budget.job_id))
        if not page.next_cursor:
            return ChunkResult(cursor=None, **_tally(outcomes))
        page_start, offset = page.next_cursor, 0
