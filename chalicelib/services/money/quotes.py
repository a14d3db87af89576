"""What refunding some tickets of an order would give back, before anything is done.

Staff see this summary first (DOMAIN §2): per ticket what it was paid, what the organiser
keeps under its fee policy, what goes back; the total; and the means (the card through
Stripe, or an offline bank transfer by the venue for cheque, cash and invoice payers).

The **fee policy** (:class:`FeePolicy`) is the organiser's (organisation profile), or a
campaign's own: keep nothing, a fixed amount per ticket, or a percentage of what the ticket
was paid; never more than the ticket was paid.

**Stripe's processing fee** is a different thing: Stripe keeps the fee it took on the
original card payment whatever is refunded, so that cost stays with the organiser; it is
never taken from the spectator's refund. The quote says so, with the fee of the original
charge when Stripe reports it.

The refusals are the service's guarantees: a ticket whose money already went back (refund,
credit, donation) cannot be refunded again, an amount above what a ticket was paid is
refused, and the order's refunds, credit and donations together never exceed what was
received (all 409, nothing done).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from chalicelib.errors import Conflict, FieldError
from chalicelib.models.orders import Order, Ticket
from chalicelib.services.orders import orders
from chalicelib.services.orders.settlements import chosen_tickets, refuse_settled
from chalicelib.services.orders.status import require_action

CARD_MEANS, OFFLINE_MEANS = "card", "offline"


class OverRefund(Conflict):
    kind = "over-refund"
    title = "This would give back more than was paid"
    title_fr = "Ce serait rendre plus que ce qui a été payé"


@dataclass(frozen=True)
class FeePolicy:
    kind: str = "none"  # "none", "fixed" (fixed_cents per ticket), "percent" (percent_bp of what was paid)
    fixed_cents: int = 0
    percent_bp: int = 0

    @classmethod
    def of_organisation(cls, tenant_id: str) -> "FeePolicy":
        from chalicelib.services.catalog.organisation import find_profile

        profile = find_profile(tenant_id)
        if profile is None:
            return cls()
        return cls(profile.refund_fee_kind or "none", int(profile.refund_fee_fixed_cents or 0),
                   int(profile.refund_fee_percent_bp or 0))

    def kept(self, paid_cents: int) -> int:
        """What the organiser keeps of a ticket paid ``paid_cents`` (percentages round half up)."""
        if self.kind == "fixed":
            return min(paid_cents, self.fixed_cents)
        if self.kind == "percent":
            return min(paid_cents, (paid_cents * self.percent_bp + 5_000) // 10_000)
        return 0

    def describe(self) -> str:
        if self.kind == "fixed":
            return f"{self.fixed_cents} cents kept per ticket"
        if self.kind == "percent":
            return f"{self.percent_bp / 100:g} % of each ticket kept"
        return "nothing kept"


@dataclass
class QuoteLine:
    position: int
    performance_id: str
    tariff_name: str
    attendee_name: str | None
    state: str
    paid_cents: int
    fee_kept_cents: int
    amount_cents: int


@dataclass
class RefundQuote:
    order_id: str
    order_number: int
    means: str
    payment_type: str
    currency: str
    fee_policy: FeePolicy
    lines: list[QuoteLine]
    already_returned_cents: int
    received_cents: int
    processor_fee_note: str | None = None
    processor_fee_cents: int | None = None
    positions: list[int] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)

    @property
    def fee_kept_cents(self) -> int:
        return sum(line.fee_kept_cents for line in self.lines)


def means_of(order: Order) -> str:
    return CARD_MEANS if order.payment_type == "card" and order.payment_intent_id else OFFLINE_MEANS


def returned_cents(order: Order) -> int:
    """What already went back to the buyer in any form."""
    return int(order.refunded_cents or 0) + int(order.credited_cents or 0) + int(order.donated_cents or 0)


def check_within_received(order: Order, adding_cents: int) -> None:
    received, returned = int(order.paid_cents or 0), returned_cents(order)
    if returned + adding_cents > received:
        raise OverRefund(f"The order received {received} cents and {returned} already went back; "
                         f"{adding_cents} more would exceed what was paid. Nothing was done.")


def refuse_unpaid(order: Order, chosen: list[Ticket]) -> None:
    """409 for tickets cancelled before the order was paid: nothing was ever paid for them."""
    never_paid = [int(ticket.position) for ticket in chosen if ticket.state != "valid" and order.paid_at
                  and ticket.state_changed_at and ticket.state_changed_at <= order.paid_at]
    if never_paid:
        raise Conflict(f"Tickets {', '.join(map(str, never_paid))} were cancelled before the order was paid; "
                       f"nothing was paid for them.",
                       errors=[FieldError("positions", f"ticket {position} was never paid")
                               for position in never_paid])


def _line(ticket: Ticket, paid: int, policy: FeePolicy, asked: int | None) -> QuoteLine:
    kept = policy.kept(paid)
    amount = paid - kept if asked is None else asked
    if amount > paid:
        raise OverRefund(f"Ticket {int(ticket.position)} was paid {paid} cents; {amount} cannot be refunded.",
                         errors=[FieldError(f"amounts.{int(ticket.position)}", f"at most {paid}")])
    return QuoteLine(position=int(ticket.position), performance_id=ticket.performance_id,
                     tariff_name=ticket.tariff_name, attendee_name=ticket.attendee_name, state=ticket.state,
                     paid_cents=paid, fee_kept_cents=paid - amount, amount_cents=amount)


def quote(order: Order, tickets: list[Ticket], positions: list[int], *, policy: FeePolicy,
          amounts: dict[int, int] | None = None) -> RefundQuote:
    """The refund of ``positions`` (``amounts`` may set some tickets' amounts by hand)."""
    require_action(order.status, "refund")
    if not order.paid:
        raise Conflict("Nothing was received for this order, so there is nothing to refund.")
    chosen = chosen_tickets(tickets, positions)
    refuse_settled(chosen)
    refuse_unpaid(order, chosen)
    shares = orders.paid_per_ticket(order, tickets)
    asked = amounts or {}
    lines = [_line(ticket, shares[int(ticket.position)], policy, asked.get(int(ticket.position))) for ticket in chosen]
    result = RefundQuote(order_id=order.id, order_number=int(order.number), means=means_of(order),
                         payment_type=order.payment_type, currency=order.currency, fee_policy=policy, lines=lines,
                         already_returned_cents=returned_cents(order), received_cents=int(order.paid_cents or 0),
                         positions=[line.position for line in lines])
    check_within_received(order, result.total_cents)
    return result


def with_processor_fee(result: RefundQuote, order: Order) -> RefundQuote:
    """The quote with the note on Stripe's fee of the original payment (card orders)."""
    if result.means != CARD_MEANS:
        return result
    from chalicelib.adapters import payments

    fee = payments.processing_fee(order.payment_intent_id)
    result.processor_fee_cents = fee
    known = f" ({fee} cents on this order's payment)" if fee is not None else ""
    result.processor_fee_note = (f"Stripe keeps the processing fee it took on the original payment{known}: a refund "
                                 f"does not return it, so it stays a cost of the organiser. It is not deducted "
                                 f"from the spectator's refund.")
    return result
