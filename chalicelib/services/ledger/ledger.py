"""The money ledger and the metrics it feeds: one rule turns a money fact into figures.

Every operation that moves money or sold tickets (a sale paid, sold tickets cancelled, a
refund, a failed refund's reversal, credit issued, a donation) builds one
:class:`~chalicelib.models.money.LedgerEntry` with its effect per performance, and
:func:`write` adds to the caller's transaction both the entry and the metric rows it moves.
Stored metrics and the ledger therefore change together or not at all, and
:func:`scope_figures` is the only place that says which figures an entry moves: the live
update and the reconciliation's recomputation both call it.

Figures (:data:`~chalicelib.models.money.FIGURES`) are kept per business day for each
performance, its show (product), its season and the whole tenant. A ticket's life moves
them as: sold (``tickets_sold``, ``gross_sales_cents``) -> cancelled without its money back
(``tickets_cancelled``, also when turned into credit or a donation) -> refunded
(``tickets_cancelled`` -1 if it was cancelled first, ``tickets_refunded`` +1,
``refunds_cents``). Net sales are gross sales less refunds; credit issued and donations are
shown beside them (credit is owed to the spectator, a donation is the organiser's).

Each day's row of a scope is split in :data:`SHARDS` items and a write picks one at random:
a busy on-sale would otherwise make every order's transaction contend on the tenant's row.
Readers add the shards up.
"""
from __future__ import annotations

import random
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Iterable
from zoneinfo import ZoneInfo

from chalicelib.adapters import clock, ids
from chalicelib.models.base import tenant_key
from chalicelib.models.catalog import Product
from chalicelib.models.money import FIGURES, LedgerEntry, LedgerLine, MetricRow
from chalicelib.models.orders import Order, Ticket
from chalicelib.services.shared.actors import Actor

SCOPES = ("performance", "product", "season", "tenant")
SHARDS = 8
ZONE_CACHE_SECONDS = 300
# "payment": money received that sold no ticket (captured after the order's tickets were gone);
# it moves no figure, and the refund giving it back moves none either.
KINDS = ("sale", "payment", "cancellation", "refund", "refund_reversed", "credit", "donation")
RECEIVED = ("sale", "payment")

_zones: dict[str, tuple[float, str]] = {}


def business_zone(tenant_id: str) -> ZoneInfo:
    """The tenant's zone (organisation profile; Europe/Paris until it says otherwise), cached a
    few minutes per process: it is read by every money operation and almost never changes."""
    cached = _zones.get(tenant_id)
    if cached is None or cached[0] < time.monotonic():
        from chalicelib.services.catalog.organisation import find_profile

        profile = find_profile(tenant_id)
        cached = (time.monotonic() + ZONE_CACHE_SECONDS, (profile.timezone if profile else None) or "Europe/Paris")
        _zones[tenant_id] = cached
    return ZoneInfo(cached[1])


def business_day(tenant_id: str, moment: datetime) -> str:
    return moment.astimezone(business_zone(tenant_id)).date().isoformat()


@dataclass
class Figures:
    values: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FIGURES, 0))

    def add(self, other: dict[str, int]) -> None:
        for name in FIGURES:
            self.values[name] += int(other.get(name) or 0)

    def as_dict(self) -> dict[str, int]:
        return {**self.values, "net_sales_cents": self.values["gross_sales_cents"] - self.values["refunds_cents"]}


class SeasonOf:
    """Each product's season, read once per operation."""

    def __init__(self, tenant_id: str) -> None:
        self.tenant_id = tenant_id
        self._known: dict[str, str | None] = {}

    def __call__(self, product_id: str) -> str | None:
        if product_id not in self._known:
            try:
                self._known[product_id] = Product.get(self.tenant_id, product_id).season_id
            except Product.DoesNotExist:
                self._known[product_id] = None
        return self._known[product_id]


def lines_for(tenant_id: str, effects: Iterable[tuple[Ticket, dict[str, int]]]) -> list[LedgerLine]:
    """Per-ticket effects (``{figure: delta}``) summed per performance."""
    season_of = SeasonOf(tenant_id)
    by_performance: dict[str, LedgerLine] = {}
    for ticket, effect in effects:
        line = by_performance.get(ticket.performance_id)
        if line is None:
            line = by_performance[ticket.performance_id] = LedgerLine(
                performance_id=ticket.performance_id, product_id=ticket.product_id,
                season_id=season_of(ticket.product_id), **dict.fromkeys(FIGURES, 0))
        for name, delta in effect.items():
            setattr(line, name, int(getattr(line, name) or 0) + int(delta))
    return list(by_performance.values())


def new_entry(actor: Actor, order: Order, kind: str, lines: list[LedgerLine], *, amount_cents: int = 0,
              means: str | None = None, reference: str | None = None) -> LedgerEntry:
    if kind not in KINDS:
        raise ValueError(f"unknown ledger entry kind {kind!r}")
    now = clock.now()
    day = business_day(order.tenant_id, now)
    return LedgerEntry(
        day_key=tenant_key(order.tenant_id, day), entry_id=ids.new_id(), tenant_id=order.tenant_id, day=day,
        kind=kind, occurred_at=now, order_key=tenant_key(order.tenant_id, order.id), order_id=order.id,
        contact_id=order.buyer.contact_id, means=means, currency=order.currency, amount_cents=amount_cents,
        reference=reference, payment_intent_id=order.payment_intent_id, lines=lines, recorded_by=actor.subject)


def scope_figures(entry: LedgerEntry) -> dict[tuple[str, str], dict[str, int]]:
    """What ``entry`` adds to each scope it touches: ``{(scope, scope_id): {figure: delta}}``."""
    moved: dict[tuple[str, str], Figures] = defaultdict(Figures)
    for line in entry.lines or []:
        deltas = {name: int(getattr(line, name) or 0) for name in FIGURES}
        scopes = [("performance", line.performance_id), ("product", line.product_id), ("tenant", entry.tenant_id)]
        if line.season_id:
            scopes.append(("season", line.season_id))
        for scope in scopes:
            moved[scope].add(deltas)
    return {scope: {name: value for name, value in figures.values.items() if value}
            for scope, figures in moved.items() if any(figures.values.values())}


def scope_key(tenant_id: str, scope: str, scope_id: str) -> str:
    return tenant_key(tenant_id, "metrics", scope, scope_id)


def _row_update(entry: LedgerEntry, scope: str, scope_id: str, shard: int, deltas: dict[str, int]):
    slot = f"{entry.day}#{shard}"
    row = MetricRow(scope_key=scope_key(entry.tenant_id, scope, scope_id), slot=slot)
    actions = [MetricRow.tenant_id.set(entry.tenant_id), MetricRow.scope.set(scope), MetricRow.scope_id.set(scope_id),
               MetricRow.day.set(entry.day), MetricRow.day_key.set(tenant_key(entry.tenant_id, entry.day)),
               MetricRow.scope_slot.set(f"{scope}#{scope_id}#{shard}")]
    actions += [getattr(MetricRow, name).add(delta) for name, delta in deltas.items()]
    return row, actions


def items_for(entry: LedgerEntry) -> int:
    """How many transaction items :func:`write` adds (callers check DynamoDB's limit first)."""
    return 1 + len(scope_figures(entry))


def write(transaction, entry: LedgerEntry) -> None:
    """Add ``entry`` and the metric rows it moves to ``transaction``."""
    transaction.save(entry, condition=LedgerEntry.entry_id.does_not_exist())
    shard = random.randrange(SHARDS)
    for (scope, scope_id), deltas in scope_figures(entry).items():
        row, actions = _row_update(entry, scope, scope_id, shard, deltas)
        transaction.update(row, actions=actions)


def entries_of_order(tenant_id: str, order_id: str) -> list[LedgerEntry]:
    return list(LedgerEntry.by_order.query(tenant_key(tenant_id, order_id)))
