"""Changing the seat of a subscription for every performance still to come, in one action, all
or nothing, however many performances it has.

One DynamoDB transaction holds at most 100 items, and moving one performance's ticket touches
three (the ticket, the new seat's claim, the old seat's claim), besides the order, its listing
entries, the money and the ledger's metric rows: a subscription of 40 performances does not fit
in one. The change is therefore a **record that is driven forward** in several writes, each
of which leaves a state that the next attempt (the same request again with the same change
id, or any later change of the subscription once the first is stale) recognises and continues
from:

1. **Plan and lock** (one transaction). The plan is fixed once: for each performance still to
   come (past ones, cancelled ones and tickets no longer valid are left untouched and listed),
   the ticket, its old seat, its new seat, a new check-in code and its new price. Every new
   seat is read first: any taken, and the answer is 409 ``seat-taken`` naming **every**
   performance that blocks; nothing is written. Otherwise the change record is written
   (``claiming``) together with the subscription's lock (a claim naming the change: one change
   of a subscription at a time; a one-performance change of one of its tickets checks it).
2. **Claim every new seat** (one conditional write each, in the order of their keys): the seat's
   ``seat_sold`` claim, the order's as a sale's, marked with the change's id, written only if
   nobody holds it **or this change already does** (so a resumed attempt re-claims what it
   holds without failing). If one is taken meanwhile (a sale, another change), every claim
   marked with this change is deleted, the record becomes ``refused`` with the performances
   that block, the lock is released, and the answer is 409 naming them: nothing changed.
   Two changes wanting the same seats claim them in the same order, so one wins and the other
   gives back what it took (never both lose for each other).
3. **Switch** (transactions of :data:`BATCH` performances): each moves its tickets to their new
   seats (on condition each still holds its old seat and is valid), gives back their old seats'
   claims, writes the ledger's figures for the price difference of those tickets (paid orders),
   and marks those steps ``switched`` in the record (its version checked). A performance's old
   and new seats change hands in the same transaction as its ticket, so a performance never
   has its ticket on two seats or on none. A ticket that stopped being valid meanwhile (cancelled
   or refunded by staff) is skipped: its new seat's claim is given back.
4. **Settle** (one transaction): the record ``done`` (on condition it was ``switching``), the
   order's amounts from its tickets (version checked, read again if it changed), the money of
   the difference for the tickets switched (payment or refund, as :mod:`.common` says), the
   lock released, and the order's and the subscription's audit events. Then the order's listing
   entries get its new total (in transactions conditioned on the order's version: a later
   change of the order lists it itself), a card refund goes to Stripe, and the buyer is mailed.

**A crash at any point** leaves a record in ``claiming`` or ``switching``:

- in ``claiming``, the next attempt claims again (its own claims pass), and either goes on or,
  if a seat was taken in between, rolls back as in step 2: the old seats were never given up;
- in ``switching``, every new seat is held, so the next attempt only finishes the switch (the
  steps not yet ``switched``; a ticket already on its new seat with its new code counts as
  switched) and settles; it never rolls back;
- once ``done``, asking again answers the change and finishes what follows it (the listing, the
  refund at Stripe, looking there first, the mail, once per change).

A change left in ``claiming`` or ``switching`` (nobody asked again) holds its lock; a later change
of the subscription finds the lock, and when the record has not moved for :data:`STALE_AFTER`
it drives it to its end first (resumed or rolled back), then goes on; before that, it answers
409 ``seat-change-under-way`` naming the change.
"""
from __future__ import annotations

from datetime import timedelta

from pynamodb.exceptions import DeleteError, PutError, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock
from chalicelib.errors import ConcurrentChange, Conflict, DomainError, FieldError, InvalidInput
from chalicelib.models.base import connection
from chalicelib.models.catalog import Performance
from chalicelib.models.orders import Order, Ticket
from chalicelib.models.seat_changes import SeatChange
from chalicelib.models.subscriptions import Subscription
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.observability import logger
from chalicelib.services.orders import orders
from chalicelib.services.seat_changes import common
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event, snapshot
from chalicelib.services.shared.records import by_ids, get_record

BATCH = 15  # performances per switching transaction: 2 items each, the record, the ledger's rows
STALE_AFTER = timedelta(minutes=2)
WRITE_ATTEMPTS = 8


def _checkpoint(stage: str, done: int) -> None:
    """Called after each claim (``claimed``), each switching transaction (``switched``) and the
    settling (``settled``): where a test makes the process die."""


class NothingToChange(Conflict):
    kind = "nothing-to-change"
    title = "No performance of this subscription is left to change"
    title_fr = "Il ne reste aucune séance de cet abonnement à changer"


# -- asking ------------------------------------------------------------------------------------


def change_subscription_seats(actor: Actor, subscription_id: str, request: dict) -> SeatChange:
    """Move every future performance of the subscription to its new seat (see the module's
    docstring). ``request`` (``schemas/seat_changes.py: SubscriptionSeatChangeIn``): ``seat_id``
    (the same seat at every future performance at that seat's venue) or ``seats``
    (``{performance_id: seat_id}``), ``requested_by``, optionally ``change_id``,
    ``price_difference`` (per ticket), ``note``."""
    subscription = get_record(actor, Subscription, subscription_id)
    if not subscription.order_id or subscription.state == "sabbatical":
        raise Conflict("This subscription holds no tickets (a sabbatical keeps seats without an order).",
                       errors=[FieldError("subscription_id", "no tickets")])
    order = orders.get_order(actor, subscription.order_id)
    change_id = common.change_id_of(request)
    request_digest = common.digest("subscription", subscription.id, request)
    existing = common.find_change(actor.tenant_id, order.id, change_id)
    if existing is not None:
        common.same_request(existing, request_digest)
        if existing.kind != "subscription" or existing.subscription_id != subscription.id:
            raise common.ChangeIdReused("This change id names another change.",
                                        errors=[FieldError("change_id", "already used")])
        return drive(actor, existing)
    if bool(request.get("seat_id")) == bool(request.get("seats")):
        raise InvalidInput.on("seat_id", "give seat_id (the same seat at every performance) or seats (one per "
                                        "performance), not both")
    settle_stale_lock(actor, subscription.id)
    change = _planned(actor, subscription, order, request, change_id, request_digest)
    _start(actor, change)
    return drive(actor, change)


def _planned(actor: Actor, subscription: Subscription, order: Order, request: dict, change_id: str,
             request_digest: str) -> SeatChange:
    """The change's plan: one step per performance to move (422 / 409 naming the field)."""
    from chalicelib.models.catalog import Seat
    from chalicelib.services.orders.follow_up import is_open_hold

    now = clock.now()
    tickets = {int(ticket.position): ticket for ticket in orders.tickets_of(order)}
    performances = by_ids(actor, Performance, subscription.performance_ids)
    wanted: dict[str, tuple[Seat, str]] = {}  # performance -> (seat, the field that asked for it)
    if request.get("seat_id"):
        seat = common.the_seat(actor, request["seat_id"], "seat_id")
        future_here = [p for p in performances.values() if p.venue_id == seat.venue_id and p.starts_at > now]
        if not future_here:
            raise common.SeatOfAnotherVenue(
                "No performance still to come of this subscription is at this seat's venue.",
                errors=[FieldError("seat_id", f"seat {seat.id} ({common.seat_label(seat)}) is of another venue")])
        wanted = {p.id: (seat, "seat_id") for p in future_here}
    else:
        for performance_id, seat_id in request["seats"].items():
            field_name = f"seats.{performance_id}"
            performance = performances.get(performance_id)
            if performance is None:
                raise InvalidInput.on(field_name, "not a performance of this subscription")
            if performance.starts_at <= now:
                raise common.NotMovable("This performance has passed: its seat is no longer changed.",
                                        errors=[FieldError(field_name, "performance passed")])
            seat = common.the_seat(actor, seat_id, field_name)
            common.require_venue(seat, performance, field_name)
            wanted[performance_id] = (seat, field_name)
    moving, untouched, fields = [], [], {}
    pairs = sorted(zip(subscription.ticket_positions, subscription.performance_ids),
                   key=lambda pair: (performances[pair[1]].starts_at if pair[1] in performances else now, pair[0]))
    for position, performance_id in pairs:
        ticket, performance = tickets.get(int(position)), performances.get(performance_id)
        if ticket is None or performance is None:
            continue
        reason = None
        if performance.starts_at <= now:
            reason = "past"
        elif performance.status == "cancelled":
            reason = "cancelled"
        elif ticket.state != "valid":
            reason = f"ticket {ticket.state}"
        elif performance_id not in wanted:
            reason = "other venue" if request.get("seat_id") else "not asked"
        elif wanted[performance_id][0].id == ticket.seat_id:
            reason = "same seat"
        if reason:
            untouched.append({"performance_id": performance_id, "starts_at": performance.starts_at.isoformat(),
                              "position": int(position), "reason": reason})
            continue
        seat, field_name = wanted[performance_id]
        if is_open_hold(order) and seat.category_id != ticket.seat_category_id:
            raise Conflict("An open option or reservation groups its lines by seat category: choose seats of the "
                           "same category, or change them once the order is paid.",
                           errors=[FieldError(field_name, "another category on an open hold")])
        moving.append((ticket, performance, seat))
        fields[performance_id] = field_name
    if not moving:
        raise NothingToChange("No performance of this subscription still to come would change seat.",
                              errors=[FieldError("seat_id" if request.get("seat_id") else "seats",
                                                 "nothing to change")])
    plan = common.plan_price(order, [ticket for ticket, _, _ in moving], list(tickets.values()),
                             request.get("price_difference"))
    change = common.new_record(actor, order, change_id, kind="subscription", request=request,
                               request_digest=request_digest, subscription_id=subscription.id)
    change.steps = [{**common.step_of(ticket, performance, seat, plan), "field": fields[performance.id]}
                    for ticket, performance, seat in moving]
    change.untouched, change.price_difference = untouched, plan.as_record()
    blocking = _taken(actor, change)
    if blocking:
        raise _seats_taken(change, blocking)
    return change


def _taken(actor: Actor, change: SeatChange) -> list[dict]:
    """The steps whose new seat someone else holds (one batch read), as the answer names them."""
    keys = {common.seat_key(actor.tenant_id, step["performance_id"], step["new_seat_id"]): step
            for step in change.steps}
    held = {claim.key: claim for claim in UniqueKey.batch_get(list(keys), consistent_read=True)}
    return [_blocking(step) for key, step in keys.items()
            if key in held and held[key].change_id != change.change_id]


def _blocking(step: dict) -> dict:
    return {"performance_id": step["performance_id"], "starts_at": step["starts_at"], "seat_id": step["new_seat_id"],
            "seat_label": step["new_seat_label"], "field": step.get("field", "seat_id")}


def _seats_taken(change: SeatChange, blocking: list[dict]) -> common.SeatTaken:
    listed = ", ".join(f"{item['starts_at'][:16]} ({item['seat_label']})" for item in blocking)
    return common.SeatTaken(
        f"{len(blocking)} of the seats asked for are taken ({listed}); nothing changed.",
        errors=[FieldError(item.get("field") or "seat_id", common.taken_message(
            item["seat_label"], item["seat_id"], item["performance_id"], item["starts_at"])) for item in blocking])


def _start(actor: Actor, change: SeatChange) -> None:
    """The record (``claiming``) and the subscription's lock, together."""
    lock = UniqueKey(key=common.lock_key(actor.tenant_id, change.subscription_id), entity_type="seat_change",
                     entity_id=change.order_id, label="seat_change", change_id=change.change_id)
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(change, condition=SeatChange.change_id.does_not_exist())
            transaction.save(lock, condition=UniqueKey.key.does_not_exist())
            transaction.save(audit_event(actor, "subscription", change.subscription_id, "seat-change-asked", None,
                                         common.audit_details(change)))
    except TransactWriteError as error:
        if common.read_lock(actor.tenant_id, change.subscription_id) is not None:
            raise common.SeatChangeUnderWay("Another seat change of this subscription started at the same time.",
                                            errors=[FieldError("subscription_id", "under way")]) from error
        raise ConcurrentChange("This change was just asked by another request; ask again to read it.") from error


# -- driving a change to its end ---------------------------------------------------------------


def drive(actor: Actor, change: SeatChange) -> SeatChange:
    """Take the change from wherever it stands to ``done`` or ``refused`` (409 for refused)."""
    answered_before = change.state == "done"  # its refund may have reached Stripe: look there first
    if change.state == "claiming":
        change = _claim_all(actor, change)
    if change.state == "switching":
        change = _switch_all(actor, change)
        change = _settle(actor, change)
    if change.state == "refused":
        if change.blocking:
            raise _seats_taken(change, change.blocking)
        raise ConcurrentChange(change.refusal or "This change was refused; nothing changed.")
    _after(actor, change, look_first=answered_before)
    return change


def _claim_all(actor: Actor, change: SeatChange) -> SeatChange:
    tenant = actor.tenant_id
    order = orders.get_order(actor, change.order_id)
    tickets = {int(ticket.position): ticket for ticket in orders.tickets_of(order)}
    moved = [step for step in change.steps if not _holds(tickets.get(int(step["position"])), step["old_seat_id"])]
    if moved:
        return _roll_back(actor, change, [], refusal=(
            f"The subscription's tickets changed since this change was asked (ticket {moved[0]['position']}); "
            "nothing changed. Ask again."))
    claimed = 0
    for step in sorted(change.steps, key=lambda step: common.seat_key(tenant, step["performance_id"],
                                                                      step["new_seat_id"])):
        claim = common.new_claim(tenant, change.order_id, step["performance_id"], step["new_seat_id"],
                                 change.change_id)
        try:
            claim.save(condition=UniqueKey.key.does_not_exist() | (UniqueKey.change_id == change.change_id))
        except PutError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise
            return _roll_back(actor, change, _taken(actor, change) or [_blocking(step)])
        claimed += 1
        _checkpoint("claimed", claimed)
    change.state, change.updated_at = "switching", clock.now()
    return _saved(actor, change)


def _holds(ticket: Ticket | None, seat_id: str | None) -> bool:
    return ticket is not None and ticket.state == "valid" and ticket.seat_id == seat_id


def _saved(actor: Actor, change: SeatChange) -> SeatChange:
    """The record saved (version checked); if another attempt moved it, the record as it now is."""
    try:
        change.save()
        return change
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        fresh = common.find_change(actor.tenant_id, change.order_id, change.change_id)
        if fresh is None:
            raise
        return fresh


def _roll_back(actor: Actor, change: SeatChange, blocking: list[dict], *, refusal: str | None = None) -> SeatChange:
    """Give back every claim this change holds, then the record ``refused`` and the lock released."""
    for step in change.steps:
        claim = common.new_claim(actor.tenant_id, change.order_id, step["performance_id"], step["new_seat_id"],
                                 change.change_id)
        try:
            claim.delete(condition=UniqueKey.change_id == change.change_id)
        except DeleteError as error:
            if error.cause_response_code != "ConditionalCheckFailedException":
                raise  # not ours, or not there: nothing to give back
    change.state, change.blocking, change.refusal = "refused", blocking, refusal
    change.updated_at = change.finished_at = clock.now()
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(change)  # version checked
            transaction.delete(UniqueKey(key=common.lock_key(actor.tenant_id, change.subscription_id)),
                               condition=UniqueKey.change_id == change.change_id)
            transaction.save(audit_event(actor, "subscription", change.subscription_id, "seat-change-refused", None,
                                         {**common.audit_details(change), "blocking": blocking, "refusal": refusal}))
    except TransactWriteError:
        fresh = common.find_change(actor.tenant_id, change.order_id, change.change_id)
        if fresh is None or fresh.state == "claiming":
            raise ConcurrentChange("This change is being run by another request at the same time.") from None
        return fresh
    return change


def _switch_all(actor: Actor, change: SeatChange) -> SeatChange:
    switched = 0
    for _ in range(WRITE_ATTEMPTS * (1 + len(change.steps) // BATCH)):
        pending = [step for step in change.steps if step["state"] == "planned"]
        if not pending:
            return change
        order = orders.get_order(actor, change.order_id)
        tickets = {int(ticket.position): ticket for ticket in orders.tickets_of(order)}
        batch = pending[:BATCH]
        try:
            _switch(actor, change, order, tickets, batch)
        except TransactWriteError:
            fresh = common.find_change(actor.tenant_id, change.order_id, change.change_id)
            if fresh is None or fresh.state != "switching":
                return fresh or change
            change = fresh
            continue
        switched += 1
        _checkpoint("switched", switched)
    raise ConcurrentChange("The order's tickets kept changing while this change moved them; ask again to finish it.")


def _switch(actor: Actor, change: SeatChange, order: Order, tickets: dict[int, Ticket], batch: list[dict]) -> None:
    """One transaction: the batch's tickets on their new seats and their old seats given back,
    their figures in the ledger, and the steps marked in the record."""
    plan = common.PricePlan.of_record(change.price_difference)
    tenant, moving = actor.tenant_id, []
    for step in batch:
        ticket = tickets.get(int(step["position"]))
        if ticket is not None and ticket.seat_id == step["new_seat_id"] and ticket.checkin_code == step["new_code"]:
            step["state"] = "switched"  # moved by an attempt that died before the record said so
        elif _holds(ticket, step["old_seat_id"]):
            step["state"] = "switched"
            moving.append((ticket, step))
        else:
            step["state"], step["reason"] = "skipped", "the ticket changed meanwhile (cancelled, refunded or moved)"
    entry = common.figure_entry(actor, order, plan, [ticket for ticket, _ in moving],
                                means=_money_means(order, plan), reference=change.change_id) if moving else None
    change.updated_at = clock.now()
    with TransactWrite(connection=connection()) as transaction:
        transaction.save(change, condition=SeatChange.state == "switching")  # version checked
        for ticket, step in moving:
            common.move_ticket(ticket, step)
            transaction.update(ticket, actions=[
                Ticket.seat_id.set(ticket.seat_id), Ticket.seat_label.set(ticket.seat_label),
                Ticket.seat_category_id.set(ticket.seat_category_id) if ticket.seat_category_id
                else Ticket.seat_category_id.remove(),
                Ticket.checkin_code.set(ticket.checkin_code), Ticket.price_cents.set(int(ticket.price_cents))],
                condition=((Ticket.seat_id == step["old_seat_id"]) if step["old_seat_id"]
                           else Ticket.seat_id.does_not_exist()) & (Ticket.state == "valid"))
            if step["old_seat_id"]:
                transaction.delete(common.old_claim(tenant, order.id, step["performance_id"], step["old_seat_id"]),
                                   condition=UniqueKey.entity_id == order.id)
        for step in batch:
            if step["state"] == "skipped":
                transaction.delete(common.new_claim(tenant, order.id, step["performance_id"], step["new_seat_id"],
                                                    change.change_id), condition=UniqueKey.change_id == change.change_id)
        if entry is not None:
            from chalicelib.services.ledger import ledger

            ledger.write(transaction, entry)


def _money_means(order: Order, plan: common.PricePlan) -> str | None:
    from chalicelib.services.money.quotes import means_of

    if plan.moves == "collect":
        return plan.means
    return means_of(order) if plan.moves == "refund" else None


def _settle(actor: Actor, change: SeatChange) -> SeatChange:
    """The order's amounts, the money, the record ``done`` and the lock released, together."""
    plan = common.PricePlan.of_record(change.price_difference)
    count = sum(1 for step in change.steps if step["state"] == "switched")
    for _ in range(WRITE_ATTEMPTS):
        order = orders.get_order(actor, change.order_id)
        before = orders.copy_of(order)
        tickets = orders.tickets_of(order)
        common.retotal(order, tickets)
        # the figures went with each switching transaction: this entry moves the money alone
        money = common.money_write(actor, order, plan, count, change.change_id, figure_tickets=[])
        change.state, change.money = "done", money.outcome
        change.updated_at = change.finished_at = order.updated_at = clock.now()
        details = common.audit_details(change)
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.save(change, condition=SeatChange.state == "switching")  # version checked
                transaction.save(order)  # version checked
                transaction.delete(UniqueKey(key=common.lock_key(actor.tenant_id, change.subscription_id)),
                                   condition=UniqueKey.change_id == change.change_id)
                money.apply(transaction)
                transaction.save(audit_event(actor, "order", order.id, "seat-change", snapshot(before),
                                             {**(snapshot(order) or {}), **details}))
                transaction.save(audit_event(actor, "subscription", change.subscription_id, "seat-change", None,
                                             details))
        except TransactWriteError:
            fresh = common.find_change(actor.tenant_id, change.order_id, change.change_id)
            if fresh is not None and fresh.state != "switching":
                return fresh
            change = fresh or change
            change.state = "switching"
            continue
        _checkpoint("settled", count)
        return change
    raise ConcurrentChange("The order kept changing while this change was settled; ask again to finish it.")


def _after(actor: Actor, change: SeatChange, *, look_first: bool) -> None:
    """What follows a done change, each safe to repeat: the listing's totals, the card refund,
    the buyer's mail (once per change)."""
    order = orders.get_order(actor, change.order_id)
    if (change.money or {}).get("outcome") in ("collected", "refunded", "owed"):
        common.relist(order)
    common.finish_refund(actor, change, look_first=look_first)
    common.mail_updated_tickets(actor, change, order)


# -- a change left behind ----------------------------------------------------------------------


def settle_stale_lock(actor: Actor, subscription_id: str) -> None:
    """No change of the subscription under way, or 409 naming it: a lock whose change ended is
    removed, and a change that has not moved for :data:`STALE_AFTER` (its attempt died) is
    driven to its end first."""
    lock = common.read_lock(actor.tenant_id, subscription_id)
    if lock is None:
        return
    change = common.find_change(actor.tenant_id, lock.entity_id, lock.change_id or "")
    if change is not None and change.state in ("claiming", "switching"):
        if clock.now() - change.updated_at < STALE_AFTER:
            raise common.SeatChangeUnderWay(
                f"The seat change {change.change_id} of this subscription is under way; wait for it, or ask it again "
                "with its change id to finish it.", errors=[FieldError("change_id", f"{change.change_id} under way")])
        logger.warning("stale seat change driven to its end", extra={"change_id": change.change_id})
        try:
            drive(actor, change)
        except DomainError:
            pass  # its own outcome (refused): what matters here is that it ended
        return
    try:
        UniqueKey(key=lock.key).delete(condition=UniqueKey.change_id == lock.change_id)
    except DeleteError:
        pass

