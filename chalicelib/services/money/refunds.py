"""Refunding tickets of an order, exactly once: by card through Stripe, or offline by the venue.

**Claim, then call.** :func:`request_refund` first writes, in one transaction
(:mod:`~chalicelib.services.orders.settlements`), everything the refund means on our side: the
:class:`~chalicelib.models.money.Refund` record (state ``requested`` for a card, ``pending``
offline), the tickets ``refunded`` (settled by this refund: a ticket is settled once), their
places back on sale, the order's refunded total (never above what was received), the ledger
entry and the metrics. The order's version and each ticket's "not settled yet" condition make
that transaction the lock: of twenty concurrent requests for one ticket, one writes and
nineteen get 409, and only the winner goes on to Stripe.

**The Stripe call** (:func:`submit`) carries the idempotency key
``refund:{tenant}:{order}:{refund}:{attempt}`` and our ids in the refund's metadata. Its
answer moves the record (:func:`advance`); so do Stripe's webhooks (``refund.updated``,
``refund.failed``, ``charge.refunded``), whichever comes first. States only move forward:
``requested -> pending -> succeeded``, and ``failed`` or ``canceled`` from any of them
(Stripe can fail a refund even after it reported success).

**Resuming.** If we cannot know what Stripe did (a network error, a rate limit, the Lambda
dying after the call), the record stays ``requested``. Resuming it (:func:`resume`: the
follow-up job started on a retryable error, or staff) first looks for a refund carrying
this attempt's key in the PaymentIntent's refunds at Stripe and adopts it; only if there is
none does it call Stripe again, with the same key. Looking first also protects a resume
later than Stripe's 24-hour idempotency window.

**A failed or canceled refund is undone** in one transaction: the tickets go back to
``cancelled`` (their money not returned, still refundable), the order's refunded total and
the metrics drop back (a ``refund_reversed`` ledger entry). Staff see it (``GET
/refunds?state=failed``) and may :func:`retry` it: a new attempt, a new key, claimed again.

**Offline refunds** (cheque, cash, invoice, or a card order without a PaymentIntent) are
``pending`` until staff mark them paid (:func:`mark_paid`) or cancel them
(:func:`cancel_offline`, undone as above). The buyer is told by mail that the refund was
initiated; the venue pays by bank transfer, to the IBAN given if any (checked).
"""
from __future__ import annotations

from dataclasses import dataclass

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock, ids, payments
from chalicelib.errors import ConcurrentChange, Conflict, FieldError, InvalidInput, NotFound
from chalicelib.models.base import TENANT_ID_PATTERN, connection, tenant_key
from chalicelib.models.money import REFUND_STATES, Refund, RefundLine, RefundStep
from chalicelib.models.orders import Order, Ticket
from chalicelib.observability import logger
from chalicelib.services.jobs.framework import ChunkBudget, ChunkResult, job_kind
from chalicelib.services.ledger import ledger
from chalicelib.services.money.quotes import CARD_MEANS, FeePolicy, RefundQuote, check_within_received, quote
from chalicelib.services.orders import orders
from chalicelib.services.orders.settlements import (
    TicketChange,
    chosen_tickets,
    free_places,
    restate,
    write_ticket_change,
)
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event
from chalicelib.services.shared.form_requests import checked_request_id
from chalicelib.services.shared.paging import Page, paged
from chalicelib.values import bank_accounts

RANK = {"requested": 0, "pending": 1, "succeeded": 2, "failed": 3, "canceled": 3}
FROM_STRIPE = {"succeeded": "succeeded", "pending": "pending", "requires_action": "pending", "failed": "failed",
               "canceled": "canceled"}
UNDONE = ("failed", "canceled")
FOLLOW_UP = "refunds.follow_up"
FOLLOW_UP_DELAY_SECONDS = 30
UNCLAIMED_ORIGIN = "unclaimed-payment"  # a refund of money captured for no valid ticket


@dataclass(frozen=True)
class BankAccount:
    iban: str
    holder: str | None = None


def _state_key(tenant_id: str, state: str) -> str:
    return tenant_key(tenant_id, "refunds", state)


def idempotency_key(refund: Refund) -> str:
    return f"refund:{refund.tenant_id}:{refund.order_id}:{refund.refund_id}:{int(refund.attempt)}"


def _step(refund: Refund, state: str, note: str | None = None) -> None:
    now = clock.now()
    refund.state, refund.state_key, refund.updated_at = state, _state_key(refund.tenant_id, state), now
    refund.steps = [*(refund.steps or []), RefundStep(at=now, state=state, note=(note or "")[:300] or None)]


# -- reading ----------------------------------------------------------------------------------


def get_refund(actor: Actor, order_id: str, refund_id: str) -> Refund:
    if not ids.is_id(order_id) or not ids.is_id(refund_id):
        raise NotFound("No such refund.")
    try:
        return Refund.get(tenant_key(actor.tenant_id, order_id), refund_id, consistent_read=True)
    except Refund.DoesNotExist:
        raise NotFound("No such refund.") from None


def refunds_of_order(actor: Actor, order_id: str) -> list[Refund]:
    orders.get_order(actor, order_id)
    return list(Refund.query(tenant_key(actor.tenant_id, order_id), consistent_read=True))


def list_refunds(actor: Actor, *, state: str | None = None, limit: int, cursor: str | None) -> Page[Refund]:
    """A tenant's refunds, newest first, all of them or those in ``state`` (the indexes hold keys;
    each refund is then read)."""
    if state is not None and state not in REFUND_STATES:
        raise InvalidInput(f"state is one of {', '.join(REFUND_STATES)}", errors=[FieldError("state", "unknown")])
    if state is None:
        page = paged(f"refunds:{actor.tenant_id}", cursor, lambda start: Refund.of_tenant.query(
            actor.tenant_id, scan_index_forward=False, limit=limit, last_evaluated_key=start))
    else:
        page = paged(f"refunds:{actor.tenant_id}:{state}", cursor, lambda start: Refund.by_state.query(
            _state_key(actor.tenant_id, state), scan_index_forward=False, limit=limit, last_evaluated_key=start))
    keys = [(item.order_key, item.refund_id) for item in page.items]
    found = {(item.order_key, item.refund_id): item for item in Refund.batch_get(keys)} if keys else {}
    return Page(items=[found[key] for key in keys if key in found and state in (None, found[key].state)],
                next_cursor=page.next_cursor)


# -- the summary and the request --------------------------------------------------------------


def summary(actor: Actor, order_id: str, positions: list[int], *, amounts: dict[int, int] | None = None,
            policy: FeePolicy | None = None) -> RefundQuote:
    """What refunding ``positions`` would give back (nothing is written)."""
    from chalicelib.services.money.quotes import with_processor_fee

    order = orders.get_order(actor, order_id)
    policy = policy or FeePolicy.of_organisation(actor.tenant_id)
    return with_processor_fee(quote(order, orders.tickets_of(order), positions, policy=policy, amounts=amounts), order)


def _bank_account(result: RefundQuote, bank: BankAccount | None) -> BankAccount | None:
    if bank is None:
        return None
    if result.means == CARD_MEANS:
        raise InvalidInput("A card payment is refunded to the card; no bank account is needed.",
                           errors=[FieldError("bank_account", "not for a card refund")])
    try:
        return BankAccount(bank_accounts.check_iban(bank.iban), (bank.holder or "").strip() or None)
    except bank_accounts.InvalidIban as error:
        raise InvalidInput(str(error), errors=[FieldError("bank_account.iban", str(error), french=error.french)]) \
            from None


def _refund_effects(tickets: list[Ticket], amounts: dict[int, int], *, undo: bool):
    """Per ticket: refunded (+1), its money out, and no longer counted as cancelled if it was;
    ``undo`` is the reverse (a failed refund leaves the ticket cancelled)."""
    sign = -1 if undo else 1
    for ticket in tickets:
        was_cancelled = undo or ticket.state != "valid"
        yield ticket, {"tickets_refunded": sign, "refunds_cents": sign * amounts[int(ticket.position)],
                       "tickets_cancelled": -sign if was_cancelled else 0}


def _claim(actor: Actor, order: Order, before: Order, tickets: list[Ticket], chosen: list[Ticket],
           refund: Refund, *, action: str, record_condition) -> None:
    """Write the refund's effects (see the module's docstring); 409 if another change won."""
    amounts = {int(line.position): int(line.amount_cents) for line in refund.lines}
    entry = ledger.new_entry(actor, order, "refund", ledger.lines_for(
        actor.tenant_id, list(_refund_effects(chosen, amounts, undo=False))), amount_cents=int(refund.amount_cents),
        means=refund.means, reference=refund.refund_id)
    freed = free_places(chosen, "refunded")
    for ticket in chosen:
        ticket.settlement, ticket.settlement_id = "refund", refund.refund_id
        ticket.settled_cents = amounts[int(ticket.position)]
    order.refunded_cents = int(order.refunded_cents or 0) + int(refund.amount_cents)
    restate(order, tickets)
    write_ticket_change(actor, TicketChange(
        action=action, order=order, before=before, tickets=chosen, freed=freed, entry=entry,
        ticket_condition=Ticket.settlement.does_not_exist(), records=[(refund, record_condition)],
        details={"refund_id": refund.refund_id, "refund_amount_cents": int(refund.amount_cents),
                 "refunded_positions": [int(t.position) for t in chosen], "attempt": int(refund.attempt)}))


def request_refund(actor: Actor, order_id: str, positions: list[int], *, amounts: dict[int, int] | None = None,
                   policy: FeePolicy | None = None, bank: BankAccount | None = None,
                   origin: str = "staff", refund_id: str | None = None) -> Refund:
    """Refund ``positions`` of the order (see the module's docstring); returns the refund as it
    stands after Stripe's answer (card) or as recorded (offline). ``refund_id`` names the record
    when the request already has one (:func:`request_refund_once`)."""
    order = orders.get_order(actor, order_id)
    tickets = orders.tickets_of(order)
    result = quote(order, tickets, positions, policy=policy or FeePolicy.of_organisation(actor.tenant_id),
                   amounts=amounts)
    bank = _bank_account(result, bank)
    now = clock.now()
    refund = Refund(
        order_key=tenant_key(actor.tenant_id, order.id), refund_id=refund_id or ids.new_id(), tenant_id=actor.tenant_id,
        order_id=order.id, order_number=int(order.number), means=result.means, payment_type=order.payment_type,
        lines=[RefundLine(position=line.position, performance_id=line.performance_id, paid_cents=line.paid_cents,
                          fee_kept_cents=line.fee_kept_cents, amount_cents=line.amount_cents) for line in result.lines],
        amount_cents=result.total_cents, fee_kept_cents=result.fee_kept_cents, currency=order.currency,
        state="requested", state_key="", attempt=1, payment_intent_id=order.payment_intent_id,
        iban=bank.iban if bank else None, account_holder=bank.holder if bank else None, origin=origin,
        requested_by=actor.subject, requested_at=now, updated_at=now, steps=[])
    _step(refund, "requested" if result.means == CARD_MEANS else "pending",
          f"{result.total_cents} cents, {result.fee_policy.describe()}")
    before = orders.copy_of(order)
    _claim(actor, order, before, tickets, chosen_tickets(tickets, result.positions), refund, action="refund",
           record_condition=Refund.refund_id.does_not_exist())
    if refund.means == CARD_MEANS:
        return submit(actor, refund, known=(order, tickets))
    _tell_buyer(actor, order, tickets, refund)
    return refund


def request_refund_once(actor: Actor, order_id: str, request_id: str, positions: list[int], *,
                        amounts: dict[int, int] | None = None, bank: BankAccount | None = None) -> tuple[Refund, bool]:
    """The refund a summary's form asked for, made at most once whatever the submits: the form
    carries ``request_id`` (made with the summary), which becomes the refund's id. A form sent
    again (a reload, a double click, the back button) finds that refund and answers it, with
    ``False`` (not made now), instead of refusing; the claim's conditions keep two concurrent
    submits to one refund, and the loser then finds the winner's record."""
    checked_request_id(request_id)
    existing = _refund_named(actor, order_id, request_id)
    if existing is not None:
        return existing, False
    try:
        return request_refund(actor, order_id, positions, amounts=amounts, bank=bank, refund_id=request_id), True
    except Conflict:
        existing = _refund_named(actor, order_id, request_id)
        if existing is None:
            raise
        return existing, False


def _refund_named(actor: Actor, order_id: str, refund_id: str) -> Refund | None:
    try:
        return get_refund(actor, order_id, refund_id)
    except NotFound:
        return None


def unclaimed_money_refund(actor: Actor, order: Order, amount_cents: int, *, payment_intent_id: str,
                           note: str) -> Refund:
    """An unsaved card refund of money Stripe captured for no valid ticket (tickets cancelled
    before the payment arrived, an order cancelled or released meanwhile): it carries no ticket
    line, goes back to the PaymentIntent that captured it, and follows every rule of a card
    refund once claimed (submitted, resumed, undone, retried)."""
    now = clock.now()
    refund = Refund(
        order_key=tenant_key(actor.tenant_id, order.id), refund_id=ids.new_id(), tenant_id=actor.tenant_id,
        order_id=order.id, order_number=int(order.number), means=CARD_MEANS, payment_type="card", lines=[],
        amount_cents=amount_cents, fee_kept_cents=0, currency=order.currency, state="requested", state_key="",
        attempt=1, payment_intent_id=payment_intent_id, origin=UNCLAIMED_ORIGIN, requested_by=actor.subject,
        requested_at=now, updated_at=now, steps=[])
    _step(refund, "requested", note)
    return refund


def unclaimed_refunds_to_finish(actor: Actor, order_id: str) -> list[Refund]:
    """The order's refunds of unclaimed money still waiting for Stripe (a crash after the claim)."""
    return [refund for refund in Refund.query(tenant_key(actor.tenant_id, order_id), consistent_read=True)
            if refund.origin == UNCLAIMED_ORIGIN and refund.state == "requested"]


# -- Stripe: submit, resume, advance ----------------------------------------------------------


LIVE_AT_STRIPE = ("pending", "requires_action", "succeeded")


def _found_at_stripe(refund: Refund) -> payments.StripeRefund | None:
    """What Stripe holds for this refund: this attempt's, or an earlier attempt's still alive
    (its outcome was never stated to us), so that no new attempt refunds a second time."""
    mine = [candidate for candidate in payments.refunds_of(refund.payment_intent_id)
            if candidate.metadata.get("refund_id") == refund.refund_id]
    key = idempotency_key(refund)
    this_attempt = [candidate for candidate in mine if candidate.metadata.get("refund_key") == key]
    alive = [candidate for candidate in mine if candidate.status in LIVE_AT_STRIPE]
    return (this_attempt or alive or [None])[0]


def submit(actor: Actor, refund: Refund, *, look_first: bool = False,
           known: tuple[Order, list[Ticket]] | None = None) -> Refund:
    """Ask Stripe for a ``requested`` card refund (after looking for it there if ``look_first``).
    ``known``: the order and its tickets as the caller just wrote them, for the buyer's mail."""
    if refund.state != "requested":
        return refund
    if int(refund.amount_cents) == 0:  # the fee policy kept everything: nothing to send back
        return advance(actor, refund, "succeeded", note="nothing to give back after fees", known=known)
    try:
        answer = _found_at_stripe(refund) if look_first else None
        answer = answer or payments.create_refund(
            payment_intent_id=refund.payment_intent_id, amount_cents=int(refund.amount_cents),
            metadata={"tenant_id": refund.tenant_id, "order_id": refund.order_id, "refund_id": refund.refund_id,
                      "refund_key": idempotency_key(refund)},
            idempotency_key=idempotency_key(refund))
    except payments.PaymentError as error:
        if error.retryable:
            return _follow_up_later(actor, refund, str(error))
        return advance(actor, refund, "failed", note=f"Stripe refused: {error}")
    return advance(actor, refund, FROM_STRIPE.get(answer.status, "pending"), stripe_refund=answer, known=known)


def resume(actor: Actor, order_id: str, refund_id: str) -> Refund:
    """Finish a ``requested`` card refund whose Stripe outcome is unknown (never twice at Stripe)."""
    return submit(actor, get_refund(actor, order_id, refund_id), look_first=True)


def _follow_up_later(actor: Actor, refund: Refund, error: str) -> Refund:
    from chalicelib.services.jobs.framework import start_job

    refund.last_error, refund.updated_at = error[:500], clock.now()
    _save(actor, refund, "refund-deferred", {"error": refund.last_error})
    logger.warning("refund deferred: Stripe unreachable or rate limiting", extra={"refund_id": refund.refund_id})
    try:
        start_job(actor, FOLLOW_UP, {"order_id": refund.order_id, "refund_id": refund.refund_id},
                  delay_seconds=FOLLOW_UP_DELAY_SECONDS)
    except Exception:  # noqa: BLE001 - staff still see it under ?state=requested and can retry
        logger.exception("refund follow-up not queued", extra={"refund_id": refund.refund_id})
    return refund


def advance(actor: Actor, refund: Refund, state: str, *, stripe_refund: payments.StripeRefund | None = None,
            note: str | None = None, known: tuple[Order, list[Ticket]] | None = None) -> Refund:
    """Move ``refund`` to ``state`` if that is forward; failed and canceled undo its effects.
    ``known``: the order and its tickets if the caller holds them (spares reading them again)."""
    if RANK[state] < RANK[refund.state] or state == refund.state or refund.state in UNDONE:
        return refund
    if stripe_refund is not None:
        refund.stripe_refund_id = stripe_refund.id
        refund.failure_reason = stripe_refund.failure_reason or refund.failure_reason
    first_news = refund.state == "requested" and state in ("pending", "succeeded")
    _step(refund, state, note or (stripe_refund.failure_reason if stripe_refund else None))
    if state in UNDONE:
        refund.failure_reason = refund.failure_reason or note
        _undo(actor, refund)
    else:
        _save(actor, refund, f"refund-{state}", {"stripe_refund_id": refund.stripe_refund_id})
    if first_news:
        order = known[0] if known else orders.get_order(actor, refund.order_id)
        _tell_buyer(actor, order, known[1] if known else orders.tickets_of(order), refund)
    if state == "succeeded":
        from chalicelib.services.documents import credit_notes

        credit_notes.issue_for_refund_quietly(actor, refund)
    return refund


def _undo(actor: Actor, refund: Refund) -> None:
    order = orders.get_order(actor, refund.order_id)
    tickets = orders.tickets_of(order)
    chosen = [ticket for ticket in tickets if ticket.settlement_id == refund.refund_id]
    amounts = {int(line.position): int(line.amount_cents) for line in refund.lines}
    before = orders.copy_of(order)
    entry = ledger.new_entry(actor, order, "refund_reversed", ledger.lines_for(
        actor.tenant_id, list(_refund_effects(chosen, amounts, undo=True))), amount_cents=-int(refund.amount_cents),
        means=refund.means, reference=refund.refund_id)
    for ticket in chosen:
        ticket.settlement = ticket.settlement_id = ticket.settled_cents = None
        ticket.state, ticket.state_changed_at = "cancelled", clock.now()
    order.refunded_cents = int(order.refunded_cents or 0) - int(refund.amount_cents)
    restate(order, tickets)
    write_ticket_change(actor, TicketChange(
        action=f"refund-{refund.state}", order=order, before=before, tickets=chosen, entry=entry,
        ticket_condition=Ticket.settlement_id == refund.refund_id, records=[(refund, None)],
        details={"refund_id": refund.refund_id, "reason": refund.failure_reason}))


def _save(actor: Actor, refund: Refund, action: str, details: dict) -> None:
    """The refund's own change with its audit event (version checked)."""
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(refund)
            transaction.save(audit_event(actor, "refund", refund.refund_id, action, None,
                                         {"order_id": refund.order_id, "state": refund.state, **details}))
    except TransactWriteError as error:
        raise ConcurrentChange("The refund changed meanwhile; reload it.") from error


# -- staff: retry, offline paid, offline cancelled --------------------------------------------


def retry(actor: Actor, order_id: str, refund_id: str) -> Refund:
    """A failed card refund tried again (new attempt, new key); a ``requested`` one resumed."""
    refund = get_refund(actor, order_id, refund_id)
    if refund.state == "requested":
        return resume(actor, order_id, refund_id)
    if refund.state != "failed" or refund.means != CARD_MEANS:
        raise Conflict(f"Only a failed card refund can be tried again; this one is {refund.state}.")
    order = orders.get_order(actor, order_id)
    tickets = orders.tickets_of(order)
    positions = [int(line.position) for line in refund.lines]
    chosen = chosen_tickets(tickets, positions)
    check_within_received(order, int(refund.amount_cents))
    refund.attempt = int(refund.attempt) + 1
    refund.stripe_refund_id = refund.failure_reason = refund.last_error = None
    _step(refund, "requested", f"attempt {int(refund.attempt)} by {actor.subject}")
    _claim(actor, order, orders.copy_of(order), tickets, chosen, refund, action="refund-retry", record_condition=None)
    return submit(actor, refund, look_first=True, known=(order, tickets))


def mark_paid(actor: Actor, order_id: str, refund_id: str, *, reference: str | None) -> Refund:
    """The venue paid an offline refund (its transfer's reference, if any)."""
    refund = _pending_offline(actor, order_id, refund_id, "marked paid")
    refund.paid_reference = reference
    return advance(actor, refund, "succeeded", note=f"paid by the venue{': ' + reference if reference else ''}")


def cancel_offline(actor: Actor, order_id: str, refund_id: str, *, reason: str) -> Refund:
    """An offline refund that will not be paid (wrong account, agreed otherwise): undone."""
    refund = _pending_offline(actor, order_id, refund_id, "cancelled")
    return advance(actor, refund, "canceled", note=reason)


def _pending_offline(actor: Actor, order_id: str, refund_id: str, doing: str) -> Refund:
    refund = get_refund(actor, order_id, refund_id)
    if refund.means == CARD_MEANS or refund.state != "pending":
        raise Conflict(f"Only a pending offline refund can be {doing}; this one is a {refund.means} refund, "
                       f"{refund.state}.")
    return refund


@job_kind(FOLLOW_UP, max_items=1)
def follow_up(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    """Resume a refund left ``requested`` by a retryable Stripe error; still unreachable, the
    chunk raises and the jobs framework tries again later, with growing delays."""
    budget.take()
    try:
        refund = resume(actor, params["order_id"], params["refund_id"])
    except NotFound:
        return ChunkResult(cursor=None, total=1, skipped=1)
    if refund.state == "requested":
        raise RuntimeError(f"Stripe still unreachable for refund {refund.refund_id}: {refund.last_error}")
    return ChunkResult(cursor=None, total=1, done=1)


# -- Stripe's webhooks ------------------------------------------------------------------------


def apply_stripe_refund(raw: dict) -> str:
    """A ``refund.*`` event's refund applied to ours (found by its metadata); the outcome."""
    return _apply_stripe_refund(payments.refund_of(raw))


def _apply_stripe_refund(answer: payments.StripeRefund) -> str:
    tenant_id, order_id = answer.metadata.get("tenant_id", ""), answer.metadata.get("order_id", "")
    refund_id = answer.metadata.get("refund_id", "")
    if not TENANT_ID_PATTERN.match(tenant_id) or not ids.is_id(order_id) or not ids.is_id(refund_id):
        return "not ours"
    actor = Actor.system(tenant_id, "stripe")
    try:
        refund = get_refund(actor, order_id, refund_id)
    except NotFound:
        return "unknown refund"
    if refund.state in UNDONE and answer.status in LIVE_AT_STRIPE:
        return _news_of_an_undone_refund(actor, refund, answer)
    if answer.metadata.get("refund_key") != idempotency_key(refund) and answer.id != refund.stripe_refund_id:
        return _earlier_attempt_news(actor, refund, answer)
    before = refund.state
    advance(actor, refund, FROM_STRIPE.get(answer.status, "pending"), stripe_refund=answer)
    return f"{before} -> {refund.state}"


def _earlier_attempt_news(actor: Actor, refund: Refund, answer: payments.StripeRefund) -> str:
    """News of an earlier attempt than the current one. Failed or canceled: nothing to do (the
    current attempt is the refund). Money really went back (pending or succeeded at Stripe):
    if our refund stands undone, it is claimed again and follows this Stripe refund; if the
    current attempt moved money too, the order was refunded twice at Stripe: noted on the
    refund and logged for staff (reconciliation shows it as well)."""
    if answer.status not in LIVE_AT_STRIPE:
        return "an earlier attempt, failed"
    if refund.stripe_refund_id and refund.stripe_refund_id != answer.id:
        note = (f"Stripe also refunded an earlier attempt ({answer.id}, {answer.amount} cents): the money went back "
                f"twice; recover it from the buyer or the Stripe dashboard")
        if not any(step.note == note[:300] for step in refund.steps or []):
            refund.steps = [*(refund.steps or []), RefundStep(at=clock.now(), state=refund.state, note=note[:300])]
            _save(actor, refund, "refund-twice-at-stripe", {"stripe_refund_id": answer.id})
        logger.error("refund made twice at Stripe", extra={"refund_id": refund.refund_id, "stripe_refund": answer.id})
        return "an earlier attempt, also refunded"
    # the current attempt has not reached Stripe yet: this earlier one is the refund
    refund.stripe_refund_id = answer.id
    before = refund.state
    advance(actor, refund, FROM_STRIPE.get(answer.status, "pending"), stripe_refund=answer)
    return f"{before} -> {refund.state} (an earlier attempt)"


def _news_of_an_undone_refund(actor: Actor, refund: Refund, answer: payments.StripeRefund) -> str:
    """Our refund stands undone, yet this news says Stripe holds it alive. Events can arrive
    late and out of order (a ``pending`` after the ``failed``), so only Stripe's state read now
    decides: alive, the refund is revived; otherwise the news is stale."""
    current = next((found for found in payments.refunds_of(answer.payment_intent or refund.payment_intent_id)
                    if found.id == answer.id), None)
    if current is None or current.status not in LIVE_AT_STRIPE:
        return "stale news of an undone refund"
    return _revive(actor, refund, current)


def _revive(actor: Actor, refund: Refund, answer: payments.StripeRefund) -> str:
    """An undone refund that Stripe did make after all: its tickets settled by it again (one
    transaction, as a claim), then its state from Stripe's."""
    order = orders.get_order(actor, refund.order_id)
    tickets = orders.tickets_of(order)
    chosen = chosen_tickets(tickets, [int(line.position) for line in refund.lines])
    refund.stripe_refund_id, refund.failure_reason = answer.id, None
    _step(refund, "requested", f"Stripe made refund {answer.id} of an earlier attempt after all")
    try:
        _claim(actor, order, orders.copy_of(order), tickets, chosen, refund, action="refund-revived",
               record_condition=None)
    except Conflict:
        logger.error("a refund Stripe made after all could not be claimed again: its tickets were settled otherwise",
                     extra={"refund_id": refund.refund_id, "stripe_refund": answer.id})
        return "an earlier attempt, its tickets settled otherwise"
    advance(actor, refund, FROM_STRIPE.get(answer.status, "pending"), stripe_refund=answer,
            known=(order, tickets))
    return f"revived -> {refund.state}"


def apply_charge_refunded(charge: dict) -> str:
    """``charge.refunded``: bring every refund of its PaymentIntent up to date from Stripe."""
    intent = charge.get("payment_intent")
    if not intent:
        return "no payment intent"
    outcomes = [_apply_stripe_refund(found) for found in payments.refunds_of(intent)]
    return ", ".join(outcomes) or "no refunds"


# -- the buyer's mail -------------------------------------------------------------------------


def _tell_buyer(actor: Actor, order: Order, tickets: list[Ticket], refund: Refund) -> None:
    """"Your refund was initiated": once per refund; a problem is logged, never raised."""
    from chalicelib.services.mail import sending as mail
    from chalicelib.services.orders import mails as order_mail
    from chalicelib.values import formatting

    if not order.buyer.email:
        return
    try:
        language = order.buyer.language or "fr"
        refunded = {int(line.position) for line in refund.lines}
        # a refund of money captured for no ticket (see card_payments) speaks of the whole order
        tickets = [ticket for ticket in tickets if int(ticket.position) in refunded] or tickets
        context, venue = order_mail.order_context(actor, order, tickets, language)
        mail.send_mail(actor, mail.MailRequest(
            template="refund_initiated", language=language, recipient=order.buyer.email, concerns_type="order",
            concerns_id=order.id, sender_name=venue.name, contact_id=order.buyer.contact_id,
            context={**context, "first_name": order.buyer.first_name or "",
                     "refund_amount": formatting.money(int(refund.amount_cents), refund.currency, language),
                     "payment_method": "card" if refund.means == CARD_MEANS else refund.payment_type},
            custom_message=order_mail.custom_messages(actor, tickets, "refund"),
            idempotency_key=f"refund:{refund.refund_id}:initiated"))
    except Exception:
        logger.exception("refund mail not sent", extra={"order_id": order.id, "refund_id": refund.refund_id})
