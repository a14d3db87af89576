"""Invoices (factures): their figures per VAT rate, and their numbers.

**Numbers.** Each tenant's invoices are numbered 1, 2, 3... with no gap, in the order they
are issued (the French rule: one unbroken chronological sequence). An order's number is
given the first time its invoice is issued, and never changes. :func:`issue_invoice` reads
the tenant's ``invoices`` counter (value *n*, the last number given) and then, in **one
transaction**: sets the counter to *n + 1* on condition it still holds *n*; sets the order's
``invoice_number`` on condition it has none (and its version is the one read); writes the
frozen :class:`~chalicelib.models.invoices.Invoice` on condition that number is free; and
writes the audit event. If anything moved meanwhile (another invoice took *n + 1*, the order
changed or was invoiced by a concurrent request), nothing is written and it starts again
from fresh reads. A number is therefore consumed only together with the order that carries
it: a lost race consumes nothing, so no gap can appear; a second issue of the same order
returns the number it already has.

**Figures.** Ticket prices include VAT. Lines group the tickets of one performance and
tariff at one price; the discount is shared across tickets in proportion to their prices
(as the order did when it computed its VAT) and shown as one line per VAT rate. VAT is
computed per rate on what that rate's tickets cost after discount, exactly as the order's
``tax_cents``, so the totals per rate add up to the order's total; the VAT of each line is
that rate's VAT shared across its lines, so lines add up to the rate totals to the cent.
The unit price excluding VAT is the one ticket's price less its own VAT (rounded to the
cent: prices are set including VAT). Under the VAT franchise (art. 293 B du CGI), no VAT
is charged: amounts excluding VAT are the amounts paid.
"""
from __future__ import annotations

import random
import time
from typing import Any, Callable

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock
from chalicelib.errors import ConcurrentChange
from chalicelib.models.base import connection, tenant_key
from chalicelib.models.invoices import Invoice
from chalicelib.models.orders import Counter, Order, Ticket
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event
from chalicelib.values.cents import allocate, vat_included

SEQUENCE = "invoices"
FEES_VAT_BP = 2000  # booking fees are a service at the standard rate
MAX_ATTEMPTS = 40


# --- figures ---------------------------------------------------------------------------------


def _entry(kind: str, quantity: int, incl: int, rate_bp: int, **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "quantity": quantity, "incl": incl, "rate_bp": rate_bp, **extra}


def invoice_figures(tickets: list[Ticket], *, discount_cents: int, fees_cents: int,
                    franchise: bool) -> dict[str, Any]:
    """Lines, totals per VAT rate and grand totals (all integer cents) for these tickets.

    Each line: ``kind`` (``tickets``, ``discount``, ``fees``), ``quantity``, ``unit_excl``,
    ``rate_bp`` (``None`` under the franchise), ``excl``, ``vat``, ``incl``; ticket lines also
    carry ``performance_id``, ``tariff_id``, ``tariff_name`` and ``unit_incl``.
    """
    entries = _ticket_lines(tickets)
    if fees_cents:
        entries.append(_entry("fees", 1, fees_cents, FEES_VAT_BP, unit_incl=fees_cents))
    entries += _discount_lines(tickets, discount_cents)
    rate_totals = _vat_per_rate(entries, franchise)
    for entry in entries:
        _complete_line(entry, franchise)
    if franchise:
        rate_totals = [{"rate_bp": None, "excl": sum(r["incl"] for r in rate_totals), "vat": 0,
                        "incl": sum(r["incl"] for r in rate_totals)}]
    return {
        "lines": entries,
        "rates": rate_totals,
        "totals": {"excl": sum(r["excl"] for r in rate_totals), "vat": sum(r["vat"] for r in rate_totals),
                   "incl": sum(r["incl"] for r in rate_totals)},
    }


def _ticket_lines(tickets: list[Ticket]) -> list[dict[str, Any]]:
    """One line per performance, tariff and price (with its VAT rate), in ticket order."""
    groups: dict[tuple, dict[str, Any]] = {}
    for ticket in sorted(tickets, key=lambda t: t.position):
        key = (ticket.performance_id, ticket.tariff_id, ticket.tariff_name, ticket.price_cents, ticket.vat_rate_bp)
        line = groups.get(key)
        if line is None:
            groups[key] = _entry("tickets", 1, ticket.price_cents, ticket.vat_rate_bp,
                                 performance_id=ticket.performance_id, tariff_id=ticket.tariff_id,
                                 tariff_name=ticket.tariff_name, unit_incl=ticket.price_cents)
        else:
            line["quantity"] += 1
            line["incl"] += ticket.price_cents
    return list(groups.values())


def _discount_lines(tickets: list[Ticket], discount_cents: int) -> list[dict[str, Any]]:
    """The discount shared across tickets in proportion to their prices, one line per VAT rate."""
    discount_by_rate: dict[int, int] = {}
    for ticket, share in zip(tickets, allocate(discount_cents, [ticket.price_cents for ticket in tickets])):
        discount_by_rate[ticket.vat_rate_bp] = discount_by_rate.get(ticket.vat_rate_bp, 0) + share
    return [_entry("discount", 1, -discount, rate_bp, unit_incl=-discount)
            for rate_bp, discount in sorted(discount_by_rate.items()) if discount]


def _vat_per_rate(entries: list[dict[str, Any]], franchise: bool) -> list[dict[str, Any]]:
    """Each rate's totals, its VAT computed on what its lines cost after discount; sets each
    line's ``vat`` (the rate's gross VAT shared across its lines, the discount line carrying
    what the discount takes off)."""
    rates: dict[int, list[dict[str, Any]]] = {}
    for entry in entries:
        rates.setdefault(entry["rate_bp"], []).append(entry)
    totals = []
    for rate_bp in sorted(rates):
        members = rates[rate_bp]
        positive = [entry for entry in members if entry["incl"] >= 0]
        incl = sum(entry["incl"] for entry in members)
        vat = 0 if franchise else vat_included(incl, rate_bp)
        gross_vat = 0 if franchise else vat_included(sum(entry["incl"] for entry in positive), rate_bp)
        for entry, share in zip(positive, allocate(gross_vat, [entry["incl"] for entry in positive])):
            entry["vat"] = share
        for entry in members:
            if entry["incl"] < 0:
                entry["vat"] = vat - gross_vat
        totals.append({"rate_bp": None if franchise else rate_bp, "excl": incl - vat, "vat": vat, "incl": incl})
    return totals


def _complete_line(entry: dict[str, Any], franchise: bool) -> None:
    """A line's amount and unit price excluding VAT (a unit's own VAT off its price)."""
    entry["excl"] = entry["incl"] - entry["vat"]
    unit = entry.pop("unit_incl")
    entry["unit_excl"] = (entry["excl"] if entry["quantity"] == 1 else
                          unit if franchise else unit - vat_included(unit, entry["rate_bp"]))
    if franchise:
        entry["rate_bp"] = None


# --- numbers ---------------------------------------------------------------------------------


def last_number(tenant_id: str, sequence: str = SEQUENCE) -> int:
    """The last number given in the tenant's ``sequence`` (0 before the first)."""
    try:
        return int(Counter.get(tenant_key(tenant_id, sequence), consistent_read=True).value or 0)
    except Counter.DoesNotExist:
        return 0


def get_invoice(tenant_id: str, number: int) -> Invoice:
    return Invoice.get(tenant_id, number, consistent_read=True)


def issue_numbered(actor: Actor, sequence: str, write: Callable[[int, Any, Any], None]) -> int:
    """The next number of the tenant's gapless ``sequence``, given with what carries it: one
    transaction moves the counter from *n* to *n + 1* (on condition it still holds *n*) and
    ``write(number, now, transaction)`` adds the items the number goes on (each conditioned so
    that a concurrent issue of the same thing fails the whole write). A lost race writes
    nothing, consumes no number, and raises :class:`NumberTaken` for the caller to read again."""
    key = tenant_key(actor.tenant_id, sequence)
    taken = last_number(actor.tenant_id, sequence)
    number, now = taken + 1, clock.now()
    still = (Counter.value == taken) if taken else (Counter.value.does_not_exist() | (Counter.value == 0))
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.update(Counter(counter_key=key), actions=[Counter.value.set(number)], condition=still)
            write(number, now, transaction)
    except TransactWriteError as error:
        raise NumberTaken(sequence) from error
    return number


class NumberTaken(Exception):
    """Another issue took the number, or the owner changed meanwhile: read again and retry."""


def backoff(attempt: int) -> None:
    time.sleep(random.uniform(0, 0.005 * (attempt + 1)))


def issue_invoice(actor: Actor, order: Order, content_for: Callable[[Order], dict[str, Any]],
                  reload: Callable[[], Order]) -> Invoice:
    """The order's invoice: the one issued before, or a new one with the next number.

    ``content_for(order)`` builds what the invoice says (called again if a retry re-reads the
    order); ``reload()`` reads the order afresh (consistent read). Raises
    :class:`~chalicelib.errors.ConcurrentChange` only if the sequence stays contended for
    :data:`MAX_ATTEMPTS` tries.
    """
    for attempt in range(MAX_ATTEMPTS):
        if order.invoice_number is not None:
            return get_invoice(actor.tenant_id, int(order.invoice_number))
        content = content_for(order)
        made: dict[str, Invoice] = {}

        def write(number, now, transaction, order=order, content=content):
            made["invoice"] = Invoice(tenant_id=actor.tenant_id, number=number, order_id=order.id, issued_at=now,
                                      issued_by=actor.subject, content=content)
            transaction.update(order, actions=[Order.invoice_number.set(number), Order.invoice_issued_at.set(now),
                                               Order.updated_at.set(now)],
                               condition=Order.invoice_number.does_not_exist())
            transaction.save(made["invoice"], condition=Invoice.number.does_not_exist())
            transaction.save(audit_event(actor, "order", order.id, "issue-invoice", None,
                                         {"invoice_number": number, "invoice_issued_at": now.isoformat()}))

        try:
            number = issue_numbered(actor, SEQUENCE, write)
        except NumberTaken:
            backoff(attempt)
            order = reload()
            continue
        invoice = made["invoice"]
        order.invoice_number, order.invoice_issued_at, order.updated_at = number, invoice.issued_at, invoice.issued_at
        return invoice
    raise ConcurrentChange("Many invoices are being issued at this moment; please retry.")
