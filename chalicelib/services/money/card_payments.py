"""Card payments Stripe captured (``payment_intent.succeeded``), recorded exactly as captured.

Whatever the order became while the buyer typed their card, the money Stripe captured is
recorded as it is, once, and what it paid for nothing is given back:

- **the order is still waiting for this payment** (unpaid, this PaymentIntent, valid tickets,
  enough captured): it is paid. The payment records the amount captured, the ledger's sale the
  valid tickets (the figures) and the amount captured (the money). If tickets were cancelled
  before the payment arrived, the captured amount exceeds what the valid tickets cost: the
  difference is refunded at once, to the card;
- **anything else** (the order was cancelled or released meanwhile, paid otherwise, or this is
  not its PaymentIntent, or less was captured than is owed): the payment is recorded, and all
  of it is refunded at once. The order is not marked paid.

One transaction writes the order, the payment, a claim on the PaymentIntent (so a webhook
delivered twice records nothing more), the ledger entries, the refund of what is owed back
(claimed like any card refund: :mod:`~chalicelib.services.money.refunds`) and the audit event.
The refund is then submitted to Stripe with its idempotency key; if the Lambda dies first,
Stripe delivers the webhook again, which finds the payment recorded and finishes the refund.
A concurrent change of the order (a release, a cancellation, staff) makes the transaction
fail: it is tried again from fresh reads, so a payment and a release end in exactly one of
paid or refunded. Money the order received is what the over-refund checks compare with.
"""
from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock, ids
from chalicelib.errors import ConcurrentChange, NotFound
from chalicelib.models.base import TENANT_ID_PATTERN, connection, tenant_key
from chalicelib.models.money import LedgerEntry, Refund
from chalicelib.models.orders import Order, Payment, Ticket
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.observability import logger
from chalicelib.services.ledger import ledger
from chalicelib.services.money import refunds
from chalicelib.services.orders import orders
from chalicelib.services.orders.derived import derived_writes
from chalicelib.services.orders.status import derive_status
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event, snapshot

RECORD_ATTEMPTS = 6


@dataclass
class Capture:
    """What one captured payment does to its order, before it is written."""

    order: Order
    before: Order
    payment: Payment
    received: LedgerEntry
    paid_now: bool
    owed_back: Refund | None = None
    owed_back_entry: LedgerEntry | None = None


def payment_succeeded(intent: dict) -> str:
    """Apply a ``payment_intent.succeeded`` event (see the module's docstring); what happened, for
    the log. A raise makes Stripe deliver the event again."""
    metadata = intent.get("metadata") or {}
    tenant_id, order_id = metadata.get("tenant_id", ""), metadata.get("order_id", "")
    if not TENANT_ID_PATTERN.match(tenant_id) or not ids.is_id(order_id) or not intent.get("id"):
        return "not ours"
    actor = Actor.system(tenant_id, "stripe")
    captured = int(intent.get("amount_received") or intent.get("amount") or 0)
    for _ in range(RECORD_ATTEMPTS):
        try:
            order = orders.get_order(actor, order_id)
        except NotFound:
            logger.error("card payment for an unknown order", extra={"order_id": order_id, "intent": intent["id"]})
            return "unknown order"
        if _recorded(tenant_id, intent["id"]):
            _finish_owed_back(actor, order_id)
            return "already recorded"
        tickets = orders.tickets_of(order)
        capture = _capture(actor, order, tickets, intent["id"], captured)
        try:
            _write(actor, capture, intent["id"])
        except ConcurrentChange:
            continue  # the order changed (a release, a cancellation): decide again from fresh reads
        return _after(actor, capture, tickets)
    raise ConcurrentChange(f"Order {order_id} kept changing while its card payment was recorded.")


def _claim_key(tenant_id: str, intent_id: str) -> str:
    return tenant_key(tenant_id, "card-payment", intent_id)


def _recorded(tenant_id: str, intent_id: str) -> bool:
    try:
        UniqueKey.get(_claim_key(tenant_id, intent_id), consistent_read=True)
        return True
    except DoesNotExist:
        return False


def _capture(actor: Actor, order: Order, tickets: list[Ticket], intent_id: str, captured: int) -> Capture:
    before = orders.copy_of(order)
    shares = orders.paid_per_ticket(order, tickets)
    valid = [ticket for ticket in tickets if ticket.state == "valid"]
    owed = sum(shares[int(ticket.position)] for ticket in valid)
    paid_now = (not order.paid and order.payment_intent_id == intent_id and bool(valid) and captured >= owed)
    order.paid_cents = int(order.paid_cents or 0) + captured
    if paid_now:
        order.paid, order.paid_at = True, clock.now()
        order.status = derive_status(True, (ticket.state for ticket in tickets))
        effects = [(ticket, {"tickets_sold": 1, "gross_sales_cents": shares[int(ticket.position)]}) for ticket in valid]
        received = ledger.new_entry(actor, order, "sale", ledger.lines_for(actor.tenant_id, effects),
                                    amount_cents=captured, means="card", reference=intent_id)
        back = captured - owed
    else:
        received = ledger.new_entry(actor, order, "payment", [], amount_cents=captured, means="card",
                                    reference=intent_id)
        back = captured
    received.payment_intent_id = intent_id
    payment = Payment(order_key=tenant_key(order.tenant_id, order.id), payment_id=ids.new_id(),
                      tenant_id=order.tenant_id, order_id=order.id, amount_cents=captured, currency=order.currency,
                      means="card", reference=intent_id, received_at=clock.now(), recorded_by=actor.subject)
    capture = Capture(order, before, payment, received, paid_now)
    if back > 0:
        why = (f"{captured} cents captured, {owed} owed for the tickets still valid" if paid_now else
               f"{captured} cents captured for an order that no longer awaited this payment ({order.status})")
        capture.owed_back = refunds.unclaimed_money_refund(actor, order, back, payment_intent_id=intent_id,
                                                          note=f"{why}: {back} cents go back to the card")
        capture.owed_back_entry = ledger.new_entry(actor, order, "refund", [], amount_cents=back, means="card",
                                                   reference=capture.owed_back.refund_id)
        capture.owed_back_entry.payment_intent_id = intent_id
        order.refunded_cents = int(order.refunded_cents or 0) + back
    return capture


def _write(actor: Actor, capture: Capture, intent_id: str) -> None:
    order = capture.order
    order.updated_at = clock.now()
    derived = derived_writes(capture.before, order)
    claim = UniqueKey(key=_claim_key(order.tenant_id, intent_id), entity_type="order", entity_id=order.id,
                      label="payment_intent")
    details = {"payment": {"amount_cents": capture.payment.amount_cents, "means": "card", "reference": intent_id},
               "paid_now": capture.paid_now,
               "owed_back_cents": int(capture.owed_back.amount_cents) if capture.owed_back else 0}
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(order)  # version checked
            transaction.save(claim, condition=UniqueKey.key.does_not_exist())
            transaction.save(capture.payment)
            ledger.write(transaction, capture.received)
            if capture.owed_back is not None:
                transaction.save(capture.owed_back, condition=Refund.refund_id.does_not_exist())
                ledger.write(transaction, capture.owed_back_entry)
            derived.apply(transaction)
            transaction.save(audit_event(actor, "order", order.id, "card-payment", snapshot(capture.before),
                                         {**(snapshot(order) or {}), **details}))
    except TransactWriteError as error:
        raise ConcurrentChange("The order changed while its payment was recorded.") from error


def _after(actor: Actor, capture: Capture, tickets: list[Ticket]) -> str:
    """The buyer's tickets and the team's notice for an order now paid; the refund of what is owed back."""
    from chalicelib.services.orders import holds
    from chalicelib.services.orders import mails as order_mail

    holds.release(capture.order.tenant_id, capture.order.id)  # the checkout's hold ended, one way or the other
    if capture.paid_now:
        order_mail.send_confirmation(actor, capture.order, tickets, reason="paid")
        order_mail.notify_team(actor, capture.order, tickets)
    if capture.owed_back is None:
        return "paid"
    logger.warning("card payment captured for nothing valid: refunded", extra={
        "order_id": capture.order.id, "refund_id": capture.owed_back.refund_id,
        "amount_cents": int(capture.owed_back.amount_cents)})
    refunds.submit(actor, capture.owed_back, known=(capture.order, tickets))
    return "paid, difference refunded" if capture.paid_now else "refunded: nothing valid to pay for"


def _finish_owed_back(actor: Actor, order_id: str) -> None:
    """A second delivery: finish a refund of unclaimed money the first one claimed and did not send."""
    for refund in refunds.unclaimed_refunds_to_finish(actor, order_id):
        refunds.submit(actor, refund, look_first=True)
