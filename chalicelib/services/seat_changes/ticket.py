"""Changing the seat of one performance of an order (staff), in **one transaction**.

:func:`change_ticket_seat` checks the ticket (valid, its performance to come), the new seat (of
the performance's venue, free, not the ticket's own) and the price difference
(:mod:`.common`), then writes together:

- the change record (``done``; on condition its id is new: a retry with the same id answers
  it again, and the same id racing itself writes once);
- the order (its version checked: a concurrent cancellation, refund or edit makes this fail),
  with its amounts from the tickets' prices, and its listing and follow-up records;
- the ticket at its new seat, with a **new check-in code** (the old QR code is refused at the
  door as ``superseded``) and its new price, on condition it still holds its old seat and is
  valid;
- the **new seat's claim**, on condition nobody holds it: of two changes (or a change and a
  sale) wanting the same seat, one transaction writes and the other fails, and its caller gets
  409 ``seat-taken`` naming the seat;
- the old seat's claim deleted (on condition the order holds it): the old seat is on sale again;
- for a ticket of a subscription, a check that no subscription-wide change is under way;
- the money records (payment or refund, and the ledger) and the order's audit event.

Then a card refund of the difference goes to Stripe, and the buyer gets the updated ticket.
"""
from __future__ import annotations

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock
from chalicelib.errors import ConcurrentChange, Conflict, FieldError, InvalidInput, NotFound
from chalicelib.models.base import connection, tenant_key
from chalicelib.models.catalog import Performance
from chalicelib.models.orders import Ticket
from chalicelib.models.seat_changes import SeatChange
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.services.orders import orders
from chalicelib.services.orders.derived import DerivedWrites, derived_writes
from chalicelib.services.seat_changes import common
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event, snapshot
from chalicelib.services.shared.records import get_record

MAX_POSITION = 1000
FIXED_ITEMS = 7  # the record, the order, the ticket, two seat claims, the lock's check, the audit event


def _position(text: str | int) -> int:
    value = str(text)
    if not value.isascii() or not value.isdigit() or not 1 <= int(value) <= MAX_POSITION:
        raise NotFound(f"No ticket {value!r} in this order.")
    return int(value)


def _ticket(order, position: int) -> Ticket:
    try:
        return Ticket.get(tenant_key(order.tenant_id, order.id), position, consistent_read=True)
    except Ticket.DoesNotExist:
        raise NotFound(f"No ticket {position} in this order.") from None


def change_ticket_seat(actor: Actor, order_id: str, position: str | int, request: dict) -> SeatChange:
    """Move the ticket at ``position`` to ``request["seat_id"]`` (see the module's docstring);
    ``request``: ``seat_id``, ``requested_by``, optionally ``change_id``, ``price_difference``,
    ``note`` (``schemas/seat_changes.py: SeatChangeIn``)."""
    order = orders.get_order(actor, order_id)
    position = _position(position)
    change_id = common.change_id_of(request)
    request_digest = common.digest("ticket", str(position), request)
    existing = common.find_change(actor.tenant_id, order.id, change_id)
    if existing is not None:
        return _again(actor, existing, request_digest)
    ticket = _ticket(order, position)
    if ticket.subscription_id:  # a change of the whole subscription owns its tickets while under way
        _no_subscription_change_under_way(actor, ticket.subscription_id)
        order = orders.get_order(actor, order_id)
        ticket = _ticket(order, position)
    performance = get_record(actor, Performance, ticket.performance_id)
    common.require_movable(ticket, performance)
    seat = common.the_seat(actor, request["seat_id"], "seat_id")
    common.require_venue(seat, performance, "seat_id")
    if seat.id == ticket.seat_id:
        raise InvalidInput.on("seat_id", "this is already the ticket's seat")
    starts_at = performance.starts_at.isoformat()
    if common.holder_of(actor.tenant_id, performance.id, seat.id) is not None:
        raise _taken(seat.id, common.seat_label(seat), performance.id, starts_at)
    from chalicelib.services.orders.follow_up import is_open_hold

    if is_open_hold(order) and seat.category_id != ticket.seat_category_id:
        raise Conflict("An open option or reservation groups its lines by seat category: choose a seat of the same "
                       "category, or change it once the order is paid.",
                       errors=[FieldError("seat_id", "another category on an open hold")])
    tickets = orders.tickets_of(order)
    mine = next(each for each in tickets if int(each.position) == position)
    plan = common.plan_price(order, [mine], tickets, request.get("price_difference"))
    step = common.step_of(mine, performance, seat, plan)
    before = orders.copy_of(order)
    old_seat_id = mine.seat_id
    common.move_ticket(mine, step)
    step["state"] = "switched"
    common.retotal(order, tickets)
    money = common.money_write(actor, order, plan, 1, change_id, figure_tickets=[mine])
    change = common.new_record(actor, order, change_id, kind="ticket", request=request, request_digest=request_digest,
                               subscription_id=mine.subscription_id)
    change.state, change.steps, change.finished_at = "done", [step], clock.now()
    change.price_difference, change.money = plan.as_record(), money.outcome
    order.updated_at = clock.now()
    derived = derived_writes(before, order, tickets=[mine])
    relist_after = FIXED_ITEMS + money.item_count() + derived.item_count() > orders.TRANSACTION_ITEMS
    if relist_after:  # an order of many performances: its listing entries (only their total changes) after
        derived = DerivedWrites([], [], derived.follow)
    _write(actor, change, order, before, mine, old_seat_id, money, derived)
    if relist_after:
        common.relist(order)
    common.finish_refund(actor, change, look_first=False)
    common.mail_updated_tickets(actor, change, order)
    return change


def _write(actor: Actor, change: SeatChange, order, before, ticket: Ticket, old_seat_id: str | None,
           money: common.MoneyWrite, derived) -> None:
    tenant = actor.tenant_id
    step = change.steps[0]
    still_there = (Ticket.seat_id == old_seat_id) if old_seat_id else Ticket.seat_id.does_not_exist()
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(change, condition=SeatChange.change_id.does_not_exist())
            transaction.save(order)  # version checked
            transaction.save(ticket, condition=still_there & (Ticket.state == "valid"))
            transaction.save(common.new_claim(tenant, order.id, ticket.performance_id, step["new_seat_id"],
                                              change.change_id), condition=UniqueKey.key.does_not_exist())
            if old_seat_id:
                transaction.delete(common.old_claim(tenant, order.id, ticket.performance_id, old_seat_id),
                                   condition=UniqueKey.entity_id == order.id)
            if ticket.subscription_id:
                transaction.condition_check(UniqueKey, common.lock_key(tenant, ticket.subscription_id),
                                            condition=UniqueKey.key.does_not_exist())
            money.apply(transaction)
            derived.apply(transaction)
            transaction.save(audit_event(actor, "order", order.id, "seat-change", snapshot(before),
                                         {**(snapshot(order) or {}), **common.audit_details(change)}))
    except TransactWriteError as error:
        _why_not(actor, change, ticket, step, error)


def _why_not(actor: Actor, change: SeatChange, ticket: Ticket, step: dict, error: Exception) -> None:
    """Which condition failed, told as the request's fault where it is."""
    if common.find_change(actor.tenant_id, change.order_id, change.change_id) is not None:
        raise ConcurrentChange(f"The change {change.change_id} was just made by another request; ask again to read "
                               "it.") from error
    holder = common.holder_of(actor.tenant_id, ticket.performance_id, step["new_seat_id"])
    if holder is not None:
        raise _taken(step["new_seat_id"], step["new_seat_label"], ticket.performance_id, step["starts_at"]) from error
    if ticket.subscription_id and common.read_lock(actor.tenant_id, ticket.subscription_id) is not None:
        raise common.SeatChangeUnderWay("A change of every seat of this ticket's subscription is under way; try "
                                        "again when it is over.", errors=[FieldError("position", "under way")]) \
            from error
    raise ConcurrentChange("The order or this ticket changed meanwhile (another change was made at the same time); "
                           "nothing was done. Reload the order and try again.") from error


def _taken(seat_id: str, label: str, performance_id: str, starts_at: str) -> common.SeatTaken:
    message = common.taken_message(label, seat_id, performance_id, starts_at)
    return common.SeatTaken(f"Seat {label} is already taken at this performance; nothing changed.",
                            errors=[FieldError("seat_id", message)])


def _no_subscription_change_under_way(actor: Actor, subscription_id: str) -> None:
    """A subscription-wide change under way owns its tickets until it ends; a stale one (its
    attempt died) is finished first."""
    from chalicelib.services.seat_changes import subscription

    subscription.settle_stale_lock(actor, subscription_id)


def _again(actor: Actor, change: SeatChange, request_digest: str) -> SeatChange:
    """The same change asked again: its answer, after finishing what it left (refund, mail)."""
    common.same_request(change, request_digest)
    if change.kind != "ticket":
        raise common.ChangeIdReused("This change id names a subscription's change.",
                                    errors=[FieldError("change_id", "already used")])
    common.finish_refund(actor, change, look_first=True)
    common.mail_updated_tickets(actor, change, orders.get_order(actor, change.order_id))
    return change
