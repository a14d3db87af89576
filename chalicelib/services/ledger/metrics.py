"""Sales figures for staff, and their reconciliation with the ledger and with Stripe.

:func:`figures` adds up a scope's metric rows (every shard of every day in the period, one
Query): gross sales, refunds, net sales, tickets sold / cancelled / refunded, credit issued,
donations, for a performance, a show, a season or the whole tenant.

:func:`reconcile` checks a period of business days three ways and lists every difference:

1. **stored metrics against the ledger**: for each day, the rows of that day (one Query on
   the ``by_day`` index) against the same figures recomputed from that day's ledger entries
   with :func:`chalicelib.services.ledger.ledger.scope_figures`, scope by scope, figure by figure;
2. **card money against Stripe**: for each card order with a ledger entry in the period,
   what its ledger says was received and refunded (all its entries, whatever their day)
   against what Stripe says the PaymentIntent received and its refunds gave back;
3. **refunds at Stripe the back office does not know** (made in Stripe's dashboard, or by a
   bug): any refund of those PaymentIntents without one of our refund ids.

A request reads at most :data:`MAX_DAYS` days and :data:`MAX_ENTRIES` ledger entries, and
asks Stripe about at most :data:`MAX_CARD_ORDERS` orders; beyond, it answers 422 asking for a
shorter period, rather than running past the API's time limit.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from chalicelib.errors import FieldError, InvalidInput, NotFound
from chalicelib.models.base import tenant_key
from chalicelib.models.money import FIGURES, LedgerEntry, MetricRow, Refund
from chalicelib.services.ledger import ledger
from chalicelib.services.shared.actors import Actor

SCOPE_NAMES = {"performance": "performance", "show": "product", "season": "season", "tenant": "tenant"}
MAX_DAYS = 92
MAX_ENTRIES = 20_000
MAX_CARD_ORDERS = 300
STRIPE_LIVE_STATES = ("pending", "requires_action", "succeeded")


def _period_error(message: str) -> InvalidInput:
    return InvalidInput(message, errors=[FieldError("until", message)])


def _days(first: date, last: date) -> list[str]:
    if last < first:
        raise _period_error("the period ends before it starts")
    if (last - first).days + 1 > MAX_DAYS:
        raise _period_error(f"a period spans at most {MAX_DAYS} days")
    return [(first + timedelta(days=offset)).isoformat() for offset in range((last - first).days + 1)]


def figures(actor: Actor, scope: str, scope_id: str, *, first: date | None = None,
            last: date | None = None) -> dict[str, int]:
    """The scope's figures over the period (all time without one). A scope is the tenant, or one
    of its performances, shows or seasons (404 otherwise)."""
    _require_scope(actor, scope, scope_id)
    key = ledger.scope_key(actor.tenant_id, SCOPE_NAMES[scope], scope_id)
    condition = None
    if first or last:
        low = (first or date.min).isoformat()
        high = (last or date.max).isoformat() + "#~"  # "~" sorts after every shard number
        condition = MetricRow.slot.between(low, high)
    total = ledger.Figures()
    for row in MetricRow.query(key, range_key_condition=condition):
        total.add({name: getattr(row, name) for name in FIGURES})
    return total.as_dict()


def _require_scope(actor: Actor, scope: str, scope_id: str) -> None:
    from chalicelib.services.catalog import catalog

    readers = {"performance": catalog.get_performance, "show": catalog.products.get, "season": catalog.seasons.get}
    if scope == "tenant" and scope_id == actor.tenant_id:
        return
    if scope not in readers:
        raise NotFound("Figures are kept per performance, show and season.")
    readers[scope](actor, scope_id)


# -- reconciliation ---------------------------------------------------------------------------


@dataclass
class Difference:
    check: str  # "metrics", "stripe-payment", "stripe-refunds", "stripe-unknown-refund"
    subject: str  # "2026-11-21 performance 01J...", "order 01J... (PaymentIntent pi_...)"
    figure: str
    expected: int  # what the ledger says
    found: int  # what is stored, or what Stripe says
    note: str = ""


@dataclass
class Reconciliation:
    first_day: str
    last_day: str
    ledger_entries: int = 0
    metric_rows: int = 0
    card_orders_checked: int = 0
    differences: list[Difference] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not self.differences


def _entries_of_day(tenant_id: str, day: str, budget: list[int]) -> list[LedgerEntry]:
    entries = []
    for entry in LedgerEntry.query(tenant_key(tenant_id, day), consistent_read=True):
        budget[0] -= 1
        if budget[0] < 0:
            raise _period_error(f"more than {MAX_ENTRIES} ledger entries in this period; ask for a shorter one")
        entries.append(entry)
    return entries


def _stored_of_day(tenant_id: str, day: str, report: Reconciliation) -> dict[tuple[str, str], dict[str, int]]:
    stored: dict[tuple[str, str], ledger.Figures] = defaultdict(ledger.Figures)
    for row in MetricRow.by_day.query(tenant_key(tenant_id, day)):
        report.metric_rows += 1
        stored[(row.scope, row.scope_id)].add({name: getattr(row, name) for name in FIGURES})
    return {scope: figures.values for scope, figures in stored.items()}


def _recomputed(entries: list[LedgerEntry]) -> dict[tuple[str, str], dict[str, int]]:
    total: dict[tuple[str, str], ledger.Figures] = defaultdict(ledger.Figures)
    for entry in entries:
        for scope, deltas in ledger.scope_figures(entry).items():
            total[scope].add(deltas)
    return {scope: figures.values for scope, figures in total.items()}


def _compare_metrics(day: str, expected: dict, found: dict, report: Reconciliation) -> None:
    for scope in sorted(set(expected) | set(found)):
        for name in FIGURES:
            should, stored = int(expected.get(scope, {}).get(name, 0)), int(found.get(scope, {}).get(name, 0))
            if should != stored:
                report.differences.append(Difference("metrics", f"{day} {scope[0]} {scope[1]}", name, should, stored))


def _card_orders(entries: list[LedgerEntry]) -> dict[str, str]:
    """``{order_id: payment_intent_id}`` of card orders with entries in the period."""
    return {entry.order_id: entry.payment_intent_id for entry in entries
            if entry.payment_intent_id and entry.means == "card"}


def _compare_with_stripe(tenant_id: str, order_id: str, intent_id: str, report: Reconciliation) -> None:
    from chalicelib.adapters import payments

    subject = f"order {order_id} (PaymentIntent {intent_id})"
    ours = ledger.entries_of_order(tenant_id, order_id)
    sold = sum(int(e.amount_cents) for e in ours if e.kind in ledger.RECEIVED and e.means == "card")
    refunded = sum(int(e.amount_cents) for e in ours if e.kind in ("refund", "refund_reversed") and e.means == "card")
    received = payments.received_cents(intent_id)
    if sold != received:
        report.differences.append(Difference("stripe-payment", subject, "received_cents", sold, received))
    at_stripe = payments.refunds_of(intent_id)
    ours_refunds = list(Refund.query(tenant_key(tenant_id, order_id)))
    live = sum(r.amount for r in at_stripe if r.status in STRIPE_LIVE_STATES)
    if refunded != live:
        states = ", ".join(f"{r.refund_id}: {r.state}" for r in ours_refunds)
        report.differences.append(Difference("stripe-refunds", subject, "refunded_cents", refunded, live,
                                             f"our refunds: {states or 'none'}"))
    known = {r.refund_id for r in ours_refunds}
    for found in at_stripe:
        if found.metadata.get("refund_id") not in known:
            report.differences.append(Difference("stripe-unknown-refund", subject, "refund_cents", 0, found.amount,
                                                 f"Stripe refund {found.id} ({found.status}) was not made here"))


def reconcile(actor: Actor, first: date, last: date) -> Reconciliation:
    """Check the period (see the module's docstring)."""
    days = _days(first, last)
    report = Reconciliation(first_day=days[0], last_day=days[-1])
    budget = [MAX_ENTRIES]
    card_orders: dict[str, str] = {}
    for day in days:
        entries = _entries_of_day(actor.tenant_id, day, budget)
        report.ledger_entries += len(entries)
        _compare_metrics(day, _recomputed(entries), _stored_of_day(actor.tenant_id, day, report), report)
        card_orders.update(_card_orders(entries))
    if len(card_orders) > MAX_CARD_ORDERS:
        raise _period_error(f"more than {MAX_CARD_ORDERS} card orders to check with Stripe; ask for a shorter period")
    for order_id, intent_id in sorted(card_orders.items()):
        _compare_with_stripe(actor.tenant_id, order_id, intent_id, report)
    report.card_orders_checked = len(card_orders)
    return report
