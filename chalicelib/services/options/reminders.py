"""Reminding a buyer that their option or reservation expires: the reminder mail, once per
order per round, then the reminder recorded on the order (and so on each of its lines).

A *round* is what the reminder belongs to: ``auto:<deadline>`` for the schedule's (one per
deadline: extending the deadline allows another), the job's or request's id for staff's. The
mail's idempotency key is ``order:<id>:remind:<round>``, so a retried chunk, a double click or
two concurrent jobs send it once; the order records the round once (``reminder_round``), under
its version, after the mail went: a crash in between sends nothing more on retry (the mail's
record is found) and records then.
"""
from __future__ import annotations

from chalicelib.adapters import clock
from chalicelib.errors import ConcurrentChange
from chalicelib.services.options.listing import held_order
from chalicelib.services.options.outcomes import (
    DONE,
    FAILED,
    SKIPPED_ALREADY,
    SKIPPED_DEADLINE_PASSED,
    SKIPPED_NO_ADDRESS,
    LineOutcome,
)
from chalicelib.services.orders import follow_up, orders
from chalicelib.services.shared.actors import Actor

ATTEMPTS = 5
DELIVERED = ("sent", "delayed", "delivered")


def automatic_round(order) -> str:
    return f"auto:{follow_up.stamp(order.deadline)}"


def remind_order(actor: Actor, order_id: str, round_id: str | None = None) -> LineOutcome:
    """Send the order's reminder for ``round_id`` (``None``: the schedule's round for its deadline)."""
    from chalicelib.services.mail import sending
    from chalicelib.services.options.notices import hold_mail

    found = held_order(actor, order_id)
    if isinstance(found, LineOutcome):
        return found
    order, rows = found.order, found.rows
    if round_id is None and order.deadline <= clock.now():
        return LineOutcome(order_id, SKIPPED_DEADLINE_PASSED)  # the schedule came late: too late to remind
    round_id = round_id or automatic_round(order)
    if order.reminder_round == round_id:
        return LineOutcome(order_id, SKIPPED_ALREADY)
    request = hold_mail(actor, order, rows, template="options_reminder",
                        idempotency_key=f"order:{order.id}:remind:{round_id}")
    if request is None:
        return LineOutcome(order_id, SKIPPED_NO_ADDRESS)
    notification = sending.send_mail(actor, request)
    if notification.status not in DELIVERED:
        detail = notification.timeline[-1].detail if notification.timeline else None
        return LineOutcome(order_id, FAILED, f"mail {notification.status}: {detail or ''}"[:300])
    _record(actor, order_id, round_id, notification.id)
    return LineOutcome(order_id, DONE)


def _record(actor: Actor, order_id: str, round_id: str, notification_id: str) -> None:
    for _ in range(ATTEMPTS):
        order = orders.get_order(actor, order_id)
        if order.reminder_round == round_id or not follow_up.is_open_hold(order):
            return
        before = orders.copy_of(order)
        order.reminders = int(order.reminders or 0) + 1
        order.reminded_at, order.reminded_for, order.reminder_round = clock.now(), order.deadline, round_id
        try:
            orders.save_change(actor, order, before, action="remind",
                               details={"round": round_id, "notification_id": notification_id})
            return
        except ConcurrentChange:
            continue
    raise ConcurrentChange(f"order {order_id} kept changing; its reminder was sent but not recorded")


def remind_by_ids(actor: Actor, line_ids: list[str]) -> list[LineOutcome]:
    """Remind the orders of the lines shown, each once for this request (its own round)."""
    from chalicelib.adapters import ids
    from chalicelib.services.options.listing import lines_by_order

    round_id = f"request:{ids.new_id()}"
    return [remind_order(actor, order_id, round_id) for order_id in lines_by_order(actor, line_ids)]
