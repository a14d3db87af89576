"""What a one-performance change and a subscription's change share.

**The change record** (:class:`~chalicelib.models.seat_changes.SeatChange`) is keyed by the
order and the change's id, which the client may give: asking again with the same id is the
same change (its answer again, or its resumption), and the same id with another request is
refused (409 ``change-id-reused``). Without an id, every request is a new change.

**A new seat** must be a seat of the performance's venue (409 ``seat-of-another-venue`` naming
it), free at that performance (409 ``seat-taken`` naming it: its ``seat_sold`` claim, the same
one a sale writes, exists), and not the ticket's own. The ticket must be valid and its
performance neither past nor cancelled (409).

**The price difference.** The catalog has no price per seat category (a tariff prices a
product, not a seat), so staff say it in the request, in cents per ticket changed:
``{"direction": "supplement" | "reduction", "amount_cents": n}``, and what to do with it:

- ``waived``: nothing is charged or refunded, the tickets keep their price; the audit event
  says it was waived, by whom, and how much;
- the order is **paid**: a supplement is collected now at the box office (``means`` ``cash`` or
  ``cheque``, with its ``reference``): a :class:`~chalicelib.models.orders.Payment` and a ledger
  ``sale`` entry, as marking an order paid records; a reduction is **refunded** through the
  refunds of :mod:`chalicelib.services.money.refunds`: a :class:`~chalicelib.models.money.Refund`
  without ticket lines (``origin: seat-change``; no ticket is settled by it), on the card's
  PaymentIntent through Stripe for a card order (submitted with its idempotency key, moved by
  Stripe's webhooks, undone if it fails, retried by staff), else offline (``pending`` until
  staff mark it paid; an IBAN may be given, checked). The order's refunds never exceed what it
  received (409 ``over-refund``);
- the order is **not paid yet** (cheque, invoice, option, reservation): the difference changes
  what it owes (the tickets' prices and the order's total); it is paid with the order;
- an order paid **by instalments** still being collected, or a **card checkout under way**,
  has amounts already fixed (the schedule, the PaymentIntent): a difference there must be
  waived (409 ``price-difference-not-settleable`` otherwise);
- an **open option or reservation** groups its follow-up lines by seat category and keeps their
  amounts: there a new seat must be of the same category, and a difference must be waived.

The tickets' prices follow the difference (not when waived), so the order's total, its VAT,
each ticket's share of what was paid (refunds) and the documents say the new price. In the
ledger, the figures follow the tickets (a supplement adds to the performance's gross sales, a
reduction to its refunds) and the money follows the money (the payment received, the refund
made); a refund that later fails is undone by the refunds' own path (money back in, the
figure stays: the ticket does cost less, and the buyer is still owed it; staff retry it).

**The buyer's mail** is the order's confirmation (same template, same path) with the reason
``seat-change:<change id>`` (so once per change) and a paragraph saying which seats changed,
that the previous tickets no longer admit, and what happened to the price difference.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters import clock, ids
from chalicelib.errors import Conflict, FieldError, InvalidInput, NotFound
from chalicelib.models.base import tenant_key
from chalicelib.models.catalog import Performance, Seat
from chalicelib.models.money import LedgerEntry, Refund
from chalicelib.models.orders import Order, Payment, Ticket
from chalicelib.models.seat_changes import SeatChange
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.observability import logger
from chalicelib.services.ledger import ledger
from chalicelib.services.orders.orders import SeatOfAnotherVenue, SeatTaken  # noqa: F401 - named here too
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.paging import Page, paged
from chalicelib.values.cents import allocate, vat_included

SEAT_CHANGE_ORIGIN = "seat-change"  # a Refund's origin: a price difference given back, no ticket settled


class ChangeIdReused(Conflict):
    kind = "change-id-reused"
    title = "This change id was already used for another request"
    title_fr = "Cet identifiant de changement a déjà servi pour une autre demande"


class SeatChangeUnderWay(Conflict):
    kind = "seat-change-under-way"
    title = "Another seat change of this subscription is under way"
    title_fr = "Un autre changement de place de cet abonnement est en cours"


class PriceDifferenceNotSettleable(Conflict):
    kind = "price-difference-not-settleable"
    title = "This order's amounts are fixed; the price difference can only be waived"
    title_fr = "Les montants de cette commande sont figés : la différence de prix ne peut qu'être offerte"


class NotMovable(Conflict):
    kind = "seat-not-changeable"
    title = "This ticket's seat cannot be changed"
    title_fr = "La place de ce billet ne peut pas être changée"



# -- the record --------------------------------------------------------------------------------


def order_key(tenant_id: str, order_id: str) -> str:
    return tenant_key(tenant_id, order_id)


def digest(kind: str, target: str, request: dict) -> str:
    """The request as first asked (without its change id): a retry must ask the same."""
    asked = {name: value for name, value in request.items() if name != "change_id"}
    text = json.dumps({"kind": kind, "target": target, "request": asked}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


def find_change(tenant_id: str, order_id: str, change_id: str) -> SeatChange | None:
    try:
        return SeatChange.get(order_key(tenant_id, order_id), change_id, consistent_read=True)
    except DoesNotExist:
        return None


def same_request(change: SeatChange, request_digest: str) -> None:
    if change.request_digest != request_digest:
        raise ChangeIdReused(f"The change id {change.change_id} was used for another request on this order; "
                             "give a new id for a new change.", errors=[FieldError("change_id", "already used")])


def changes_of_order(actor: Actor, order_id: str, *, limit: int, cursor: str | None) -> Page[SeatChange]:
    """The order's seat changes, newest id first (404 for an order not the venue's)."""
    from chalicelib.services.orders import orders

    order = orders.get_order(actor, order_id)
    key = order_key(actor.tenant_id, order.id)
    return paged(f"seat-changes:{key}", cursor, lambda start: SeatChange.query(
        key, scan_index_forward=False, limit=limit, last_evaluated_key=start, consistent_read=True))


def new_record(actor: Actor, order: Order, change_id: str, *, kind: str, request: dict, request_digest: str,
               subscription_id: str | None = None) -> SeatChange:
    now = clock.now()
    return SeatChange(order_key=order_key(actor.tenant_id, order.id), change_id=change_id, tenant_id=actor.tenant_id,
                      order_id=order.id, subscription_id=subscription_id, kind=kind, state="claiming",
                      requested_by=request["requested_by"], note=request.get("note"), request_digest=request_digest,
                      steps=[], created_by=actor.subject, created_at=now, updated_at=now)


def change_id_of(request: dict) -> str:
    return request.get("change_id") or ids.new_id()



# -- seats -------------------------------------------------------------------------------------


def seat_key(tenant_id: str, performance_id: str, seat_id: str) -> str:
    """The key of the claim a sold seat holds (``orders.seat_claim``'s)."""
    return tenant_key(tenant_id, "seat_sold", performance_id, seat_id)


def seat_label(seat: Seat) -> str:
    return f"{seat.block} {seat.row} {seat.number}"


def lock_key(tenant_id: str, subscription_id: str) -> str:
    """One seat change of a subscription at a time: the claim of the change under way."""
    return tenant_key(tenant_id, "seat_change", "subscription", subscription_id)


def read_lock(tenant_id: str, subscription_id: str) -> UniqueKey | None:
    try:
        return UniqueKey.get(lock_key(tenant_id, subscription_id), consistent_read=True)
    except DoesNotExist:
        return None


def the_seat(actor: Actor, seat_id: str, field_name: str) -> Seat:
    """The venue's seat (422 naming the field for an unknown one)."""
    from chalicelib.services.shared.records import get_record

    try:
        return get_record(actor, Seat, seat_id)
    except NotFound:
        raise InvalidInput.on(field_name, "unknown seat") from None


def require_venue(seat: Seat, performance: Performance, field_name: str) -> None:
    if seat.venue_id != performance.venue_id:
        raise SeatOfAnotherVenue(f"Seat {seat_label(seat)} ({seat.id}) is a seat of another venue than the "
                                 f"performance's.", errors=[FieldError(field_name, f"seat {seat.id} ({seat_label(seat)})"
                                                                                   " is of another venue")])


def holder_of(tenant_id: str, performance_id: str, seat_id: str) -> UniqueKey | None:
    try:
        return UniqueKey.get(seat_key(tenant_id, performance_id, seat_id), consistent_read=True)
    except DoesNotExist:
        return None


def taken_message(seat_label_text: str, seat_id: str, performance_id: str, starts_at: str) -> str:
    return f"seat {seat_id} ({seat_label_text}) is taken at performance {performance_id} ({starts_at})"


def require_movable(ticket: Ticket, performance: Performance, field_name: str = "position") -> None:
    """A valid ticket of a performance to come, not cancelled (409 otherwise)."""
    if ticket.state != "valid":
        raise NotMovable(f"Ticket {int(ticket.position)} is {ticket.state}: its seat cannot be changed.",
                         errors=[FieldError(field_name, f"ticket {ticket.state}")])
    if performance.status == "cancelled":
        raise NotMovable("This performance is cancelled.", errors=[FieldError(field_name, "performance cancelled")])
    if performance.starts_at <= clock.now():
        raise NotMovable("This performance has passed: its seats are no longer changed.",
                         errors=[FieldError(field_name, "performance passed")])


def new_code() -> str:
    """A fresh check-in code: the ticket's printed QR codes stop admitting (``superseded``)."""
    return secrets.token_urlsafe(12)


# -- the price difference ----------------------------------------------------------------------


MOVES = ("none", "waived", "owed", "collect", "refund")


@dataclass
class PricePlan:
    """What a change does with its price difference (see the module's docstring)."""

    moves: str = "none"  # one of MOVES
    direction: str | None = None  # "supplement" or "reduction"
    per_ticket: int = 0
    means: str | None = None  # a supplement collected now: "cash" or "cheque"
    reference: str | None = None
    iban: str | None = None  # an offline refund's account
    holder: str | None = None

    @property
    def changes_prices(self) -> bool:
        return self.moves in ("owed", "collect", "refund")

    def price_after(self, price_cents: int) -> int:
        if not self.changes_prices:
            return int(price_cents)
        sign = 1 if self.direction == "supplement" else -1
        return int(price_cents) + sign * self.per_ticket

    def as_record(self) -> dict[str, Any] | None:
        if self.moves == "none":
            return None
        return {"direction": self.direction, "amount_cents": self.per_ticket, "waived": self.moves == "waived",
                "means": self.means, "reference": self.reference, "moves": self.moves,
                "iban": self.iban, "holder": self.holder}

    @classmethod
    def of_record(cls, record: dict | None) -> "PricePlan":
        if not record:
            return cls()
        return cls(moves=record["moves"], direction=record["direction"], per_ticket=int(record["amount_cents"]),
                   means=record.get("means"), reference=record.get("reference"), iban=record.get("iban"),
                   holder=record.get("holder"))


def plan_price(order: Order, moving: list[Ticket], all_tickets: list[Ticket], difference: dict | None) -> PricePlan:
    """The price difference asked for ``moving`` tickets, checked against the order (422 naming
    ``price_difference.<field>``, 409 when the order's state forbids it)."""
    from chalicelib.services.money.quotes import CARD_MEANS, check_within_received, means_of
    from chalicelib.services.orders.follow_up import is_open_hold

    if not difference or not difference.get("amount_cents"):
        if difference and (difference.get("means") or difference.get("bank_account")):
            raise InvalidInput.on("price_difference.amount_cents", "no difference to collect or refund")
        return PricePlan()
    plan = PricePlan(direction=difference["direction"], per_ticket=int(difference["amount_cents"]))
    means, bank = difference.get("means"), difference.get("bank_account")
    if plan.direction == "reduction" and not difference.get("waived"):
        too_cheap = [ticket for ticket in moving if int(ticket.price_cents) < plan.per_ticket]
        if too_cheap:
            raise InvalidInput.on("price_difference.amount_cents",
                          f"more than ticket {int(too_cheap[0].position)} costs ({int(too_cheap[0].price_cents)})")
        gross = sum(int(ticket.price_cents) for ticket in all_tickets) - plan.per_ticket * len(moving)
        if gross < int(order.discount_cents or 0):
            raise InvalidInput.on("price_difference.amount_cents", "the order's discount would exceed what its tickets cost")
    if difference.get("waived"):
        if means or bank:
            raise InvalidInput.on("price_difference.waived", "a waived difference is neither collected nor refunded")
        plan.moves = "waived"
        return plan
    if is_open_hold(order):
        raise PriceDifferenceNotSettleable(
            "An open option or reservation keeps its lines' amounts until it is confirmed: waive the difference, or "
            "change the seat once it is paid.", errors=[FieldError("price_difference", "waive it on an open hold")])
    if order.paid:
        if plan.direction == "supplement":
            if means not in ("cash", "cheque"):
                raise InvalidInput.on("price_difference.means", "say how the supplement is collected now: cash or cheque")
            if bank:
                raise InvalidInput.on("price_difference.bank_account", "only a refund goes to a bank account")
            plan.moves, plan.means, plan.reference = "collect", means, difference.get("reference")
        else:
            if means:
                raise InvalidInput.on("price_difference.means", "a reduction is refunded by the order's own means")
            plan.moves = "refund"
            if bank:
                if means_of(order) == CARD_MEANS:
                    raise InvalidInput.on("price_difference.bank_account", "a card payment is refunded to the card")
                plan.iban, plan.holder = _checked_iban(bank)
            try:
                check_within_received(order, plan.per_ticket * len(moving))
            except Conflict as error:
                error.errors = [FieldError("price_difference.amount_cents", "more than the order has left to give "
                                                                            "back")]
                raise
    else:
        if order.by_instalments or order.payment_intent_id:
            raise PriceDifferenceNotSettleable(
                "This order is paid by instalments or by a card payment already asked for: its amounts are fixed. "
                "Waive the difference, or change the seat once the order is paid.",
                errors=[FieldError("price_difference", "waive it: the order's amounts are fixed")])
        if means or bank:
            raise InvalidInput.on("price_difference.means" if means else "price_difference.bank_account",
                          "the order is not paid yet: the difference changes what it owes")
        plan.moves = "owed"
    return plan


def _checked_iban(bank: dict) -> tuple[str, str | None]:
    from chalicelib.values import bank_accounts

    try:
        return bank_accounts.check_iban(bank["iban"]), (bank.get("holder") or "").strip() or None
    except bank_accounts.InvalidIban as error:
        raise InvalidInput(str(error), errors=[FieldError("price_difference.bank_account.iban", str(error))]) from None


def retotal(order: Order, tickets: list[Ticket]) -> None:
    """The order's amounts from its tickets' prices (a placed order's rule: gross, less the
    discount, VAT per rate on what each rate's tickets cost)."""
    ranked = sorted(tickets, key=lambda ticket: int(ticket.position))
    gross = sum(int(ticket.price_cents) for ticket in ranked)
    discount = int(order.discount_cents or 0)
    shares = allocate(discount, [int(ticket.price_cents) for ticket in ranked])
    net_by_rate: dict[int, int] = {}
    for ticket, share in zip(ranked, shares):
        rate = int(ticket.vat_rate_bp)
        net_by_rate[rate] = net_by_rate.get(rate, 0) + int(ticket.price_cents) - share
    order.tickets_cents, order.total_cents = gross, gross - discount
    order.tax_cents = sum(vat_included(net, rate) for rate, net in net_by_rate.items())


# -- money -------------------------------------------------------------------------------------


@dataclass
class MoneyWrite:
    """The money records a change writes in its settling transaction."""

    outcome: dict[str, Any]
    records: list[tuple[Any, Any]] = field(default_factory=list)
    entry: LedgerEntry | None = None
    refund: Refund | None = None

    def item_count(self) -> int:
        return len(self.records) + (ledger.items_for(self.entry) if self.entry is not None else 0)

    def apply(self, transaction) -> None:
        for item, condition in self.records:
            transaction.save(item, condition=condition)
        if self.entry is not None:
            ledger.write(transaction, self.entry)


def figure_entry(actor: Actor, order: Order, plan: PricePlan, tickets: list[Ticket], *, amount_cents: int = 0,
                 means: str | None = None, reference: str | None = None) -> LedgerEntry | None:
    """The ledger entry whose figures follow the tickets' new prices: gross sales for a
    supplement, refunds for a reduction (only when money moves now: a paid order)."""
    if plan.moves not in ("collect", "refund"):
        return None
    figure = "gross_sales_cents" if plan.direction == "supplement" else "refunds_cents"
    lines = ledger.lines_for(actor.tenant_id, ((ticket, {figure: plan.per_ticket}) for ticket in tickets))
    kind = "sale" if plan.direction == "supplement" else "refund"
    return ledger.new_entry(actor, order, kind, lines, amount_cents=amount_cents, means=means, reference=reference)


def money_write(actor: Actor, order: Order, plan: PricePlan, count: int, change_id: str, *,
                figure_tickets: list[Ticket]) -> MoneyWrite:
    """The payment or refund of ``count`` tickets' difference, applied to ``order`` (what it
    received or gave back), with its ledger entry (figures for ``figure_tickets``)."""
    from chalicelib.services.money import refunds
    from chalicelib.services.money.quotes import CARD_MEANS, OverRefund, check_within_received, means_of

    amount = plan.per_ticket * count
    outcome = {"outcome": plan.moves if amount else "none", "amount_cents": amount}
    if plan.moves == "none" or amount == 0:
        return MoneyWrite(outcome={"outcome": "none", "amount_cents": 0})
    if plan.moves in ("waived", "owed"):
        return MoneyWrite(outcome=outcome)
    now = clock.now()
    if plan.moves == "collect":
        payment = Payment(order_key=tenant_key(order.tenant_id, order.id), payment_id=ids.new_id(),
                          tenant_id=order.tenant_id, order_id=order.id, amount_cents=amount, currency=order.currency,
                          means=plan.means, reference=plan.reference or f"seat change {change_id}", received_at=now,
                          recorded_by=actor.subject)
        order.paid_cents = int(order.paid_cents or 0) + amount
        entry = figure_entry(actor, order, plan, figure_tickets, amount_cents=amount, means=plan.means,
                             reference=payment.reference)
        return MoneyWrite(outcome={**outcome, "outcome": "collected", "payment_id": payment.payment_id},
                          records=[(payment, Payment.payment_id.does_not_exist())], entry=entry)
    try:
        check_within_received(order, amount)
    except OverRefund as error:  # money went back meanwhile: the difference stays owed to the buyer
        logger.warning("seat change: difference not refunded", extra={"order_id": order.id, "change_id": change_id})
        return MoneyWrite(outcome={**outcome, "outcome": "not-refunded", "note": error.detail})
    means = means_of(order)
    refund = Refund(
        order_key=tenant_key(order.tenant_id, order.id), refund_id=ids.new_id(), tenant_id=order.tenant_id,
        order_id=order.id, order_number=int(order.number), means=means, payment_type=order.payment_type, lines=[],
        amount_cents=amount, fee_kept_cents=0, currency=order.currency, state="requested", state_key="", attempt=1,
        payment_intent_id=order.payment_intent_id if means == CARD_MEANS else None, iban=plan.iban,
        account_holder=plan.holder, origin=SEAT_CHANGE_ORIGIN, requested_by=actor.subject, requested_at=now,
        updated_at=now, steps=[])
    refunds._step(refund, "requested" if means == CARD_MEANS else "pending",  # the refunds' own state keeping
                  f"price difference of seat change {change_id}: {plan.per_ticket} cents x {count}")
    order.refunded_cents = int(order.refunded_cents or 0) + amount
    entry = figure_entry(actor, order, plan, figure_tickets, amount_cents=amount, means=means,
                         reference=refund.refund_id)
    return MoneyWrite(outcome={**outcome, "outcome": "refunded", "refund_id": refund.refund_id},
                      records=[(refund, Refund.refund_id.does_not_exist())], entry=entry, refund=refund)


# -- after the change --------------------------------------------------------------------------


def finish_refund(actor: Actor, change: SeatChange, *, look_first: bool) -> None:
    """Send a card refund of the difference to Stripe (looking there first when resuming); a
    problem is logged: the refund stays ``requested`` and staff retry it from the refunds."""
    from chalicelib.services.money import refunds
    from chalicelib.services.money.quotes import CARD_MEANS

    refund_id = (change.money or {}).get("refund_id")
    if not refund_id:
        return
    try:
        refund = refunds.get_refund(actor, change.order_id, refund_id)
        if refund.state == "requested" and refund.means == CARD_MEANS:
            refunds.submit(actor, refund, look_first=look_first)
    except Exception:  # noqa: BLE001 - the refund is recorded; its follow-up and staff finish it
        logger.exception("seat change: refund not submitted", extra={"change_id": change.change_id})


MONEY_TEXT = {
    "fr": {"collected": "Supplément réglé : {amount}.", "refunded": "Un remboursement de {amount} est en cours.",
           "waived": "La différence de prix ({amount}) ne vous est pas facturée.",
           "owed": "Le montant de votre commande en tient compte ({sign}{amount}).",
           "intro": "Votre place a changé :", "void": "Vos billets précédents pour ces représentations ne sont plus "
                                                       "valables : présentez les nouveaux."},
    "en": {"collected": "Supplement paid: {amount}.", "refunded": "A refund of {amount} is on its way.",
           "waived": "The price difference ({amount}) is not charged to you.",
           "owed": "Your order's total includes it ({sign}{amount}).",
           "intro": "Your seat has changed:", "void": "Your previous tickets for these performances no longer admit "
                                                      "entry: bring the new ones."},
}


def seat_change_text(actor: Actor, change: SeatChange, order: Order, language: str) -> str:
    """The mail's paragraph: each seat that changed, the old tickets void, the price difference."""
    from chalicelib.models.catalog import Venue
    from chalicelib.services.shared.records import by_ids
    from chalicelib.values.formatting import datetime_text, money

    words = MONEY_TEXT.get(language, MONEY_TEXT["fr"])
    switched = [step for step in change.steps if step["state"] == "switched"]
    venues = by_ids(actor, Venue, {step["venue_id"] for step in switched})
    lines = [words["intro"]]
    for step in switched:
        venue = venues.get(step["venue_id"])
        when = datetime_text(datetime.fromisoformat(step["starts_at"]), venue.timezone if venue else "Europe/Paris",
                             language)
        lines.append(f"- {when} : {step['old_seat_label'] or '-'} -> {step['new_seat_label']}"
                     if language == "fr" else f"- {when}: {step['old_seat_label'] or '-'} -> {step['new_seat_label']}")
    paragraphs = ["\n".join(lines), words["void"]]
    outcome = (change.money or {}).get("outcome")
    amount = int((change.money or {}).get("amount_cents") or 0)
    if outcome in ("collected", "refunded", "waived", "owed") and amount:
        sign = "+" if (change.price_difference or {}).get("direction") == "supplement" else "-"
        paragraphs.append(words[outcome].format(amount=money(amount, order.currency, language), sign=sign))
    return "\n\n".join(paragraphs)


def mail_updated_tickets(actor: Actor, change: SeatChange, order: Order) -> None:
    """The order's confirmation with the updated tickets, reason ``seat-change:<id>`` (once per
    change); none for a hold not paid yet (it tells nobody until it is). Never raises."""
    from chalicelib.services.mail import sending as mail
    from chalicelib.services.orders import mails as order_mail
    from chalicelib.services.orders import orders

    if not (order.paid or order.by_instalments):
        return
    try:
        positions = {int(step["position"]) for step in change.steps if step["state"] == "switched"}
        tickets = [ticket for ticket in orders.tickets_of(order) if int(ticket.position) in positions]
        if not tickets:
            return
        request = order_mail.confirmation_request(actor, order, tickets, reason=f"seat-change:{change.change_id}")
        if request is None:
            return
        text = seat_change_text(actor, change, order, request.language)
        mail.send_mail(actor, replace(request, custom_message="\n\n".join(
            part for part in (text, request.custom_message) if part)))
    except Exception:
        logger.exception("seat change mail not sent", extra={"order_id": order.id, "change_id": change.change_id})


def step_of(ticket: Ticket, performance: Performance, seat: Seat, plan: PricePlan) -> dict[str, Any]:
    """One performance's move, as the change records it."""
    return {"performance_id": performance.id, "venue_id": performance.venue_id,
            "starts_at": performance.starts_at.isoformat(), "position": int(ticket.position),
            "old_seat_id": ticket.seat_id, "old_seat_label": ticket.seat_label,
            "old_category_id": ticket.seat_category_id, "new_seat_id": seat.id, "new_seat_label": seat_label(seat),
            "new_category_id": seat.category_id, "new_code": new_code(),
            "old_price_cents": int(ticket.price_cents), "new_price_cents": plan.price_after(int(ticket.price_cents)),
            "state": "planned", "reason": None}


def audit_details(change: SeatChange) -> dict[str, Any]:
    """What the order's audit event says of the change (never the check-in codes)."""
    return {"seat_change": {
        "change_id": change.change_id, "kind": change.kind, "requested_by": change.requested_by, "note": change.note,
        "subscription_id": change.subscription_id,
        "seats": [{"position": step["position"], "performance_id": step["performance_id"],
                   "from": step["old_seat_id"], "to": step["new_seat_id"], "state": step["state"]}
                  for step in change.steps],
        "price_difference": {name: value for name, value in (change.price_difference or {}).items()
                             if name != "iban"} or None,
        "money": change.money}}


def move_ticket(ticket: Ticket, step: dict[str, Any]) -> None:
    """The ticket at its new seat, with its new check-in code and price."""
    ticket.seat_id, ticket.seat_label = step["new_seat_id"], step["new_seat_label"]
    ticket.seat_category_id, ticket.checkin_code = step["new_category_id"], step["new_code"]
    ticket.price_cents = int(step["new_price_cents"])


def new_claim(tenant_id: str, order_id: str, performance_id: str, seat_id: str, change_id: str) -> UniqueKey:
    """The new seat's claim: the order's (as a sale's: cancelling or refunding the ticket frees it), marked
    with the change that took it."""
    return UniqueKey(key=seat_key(tenant_id, performance_id, seat_id), entity_type="order", entity_id=order_id,
                     label="seat_id", change_id=change_id)


def old_claim(tenant_id: str, order_id: str, performance_id: str, seat_id: str) -> UniqueKey:
    return UniqueKey(key=seat_key(tenant_id, performance_id, seat_id), entity_type="order", entity_id=order_id,
                     label="seat_id")



LISTING_CHUNK = 90


def relist(order: Order) -> None:
    """The order's listing entries rewritten from it (its new total), in chunks, each on condition
    the order is still the version read: a later change of the order rewrote them itself."""
    from pynamodb.exceptions import TransactWriteError
    from pynamodb.transactions import TransactWrite

    from chalicelib.models.base import connection
    from chalicelib.services.orders.listing import entries_for

    entries = entries_for(order)
    for start in range(0, len(entries), LISTING_CHUNK):
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.condition_check(Order, order.tenant_id, order.id, condition=Order.version == order.version)
                for entry in entries[start:start + LISTING_CHUNK]:
                    transaction.save(entry)
        except TransactWriteError:
            return
