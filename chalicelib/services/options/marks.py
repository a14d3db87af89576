"""Release marks and locks of held lines, changed by staff line by line, audited with who and why.

Every line is *release* by default; *do not release* (``keep``) spares it from release runs
(by hand, for all, and the schedule). A **lock** (cadenas) goes further: a locked line is never
released nor cancelled by anyone, by any path, until it is unlocked
(:mod:`chalicelib.services.orders.follow_up` refuses any such write).

A change writes the line's row (version checked: a release or another change that read the
row first fails and reads again) and the order's audit event in one transaction. When a line
becomes releasable again and the schedule's release of its order is already due, the order's
release is put back on the schedule, due now.
"""
from __future__ import annotations

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock
from chalicelib.errors import NotFound
from chalicelib.models.base import connection, tenant_key
from chalicelib.models.options import HoldLine
from chalicelib.models.orders import Order
from chalicelib.services.options.listing import lines_by_order, parse_line_id
from chalicelib.services.options.outcomes import DONE, SKIPPED_GONE, LineOutcome
from chalicelib.services.orders import follow_up
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event

ATTEMPTS = 5


def set_mark(actor: Actor, line_ids: list[str], mark: str) -> list[LineOutcome]:
    """Mark lines ``release`` or ``keep`` (do not release)."""
    def change(row: HoldLine) -> None:
        row.mark = mark

    return [_change_line(actor, line, f"mark-{mark}", change, reason=None) for line in _checked(actor, line_ids)]


def lock(actor: Actor, line_ids: list[str], reason: str | None) -> list[LineOutcome]:
    def change(row: HoldLine) -> None:
        row.locked, row.locked_by, row.locked_at, row.lock_reason = True, actor.subject, clock.now(), reason

    return [_change_line(actor, line, "lock-line", change, reason=reason) for line in _checked(actor, line_ids)]


def unlock(actor: Actor, line_ids: list[str], reason: str | None) -> list[LineOutcome]:
    def change(row: HoldLine) -> None:
        row.locked, row.locked_by, row.locked_at, row.lock_reason = False, None, None, None

    return [_change_line(actor, line, "unlock-line", change, reason=reason) for line in _checked(actor, line_ids)]


def _checked(actor: Actor, line_ids: list[str]) -> list[str]:
    """The line ids, each once, after checking they name the venue's orders (422 otherwise)."""
    lines_by_order(actor, line_ids)
    return list(dict.fromkeys(line_ids))


def get_line(actor: Actor, text: str) -> HoldLine:
    order_id, line = parse_line_id(text)
    try:
        return HoldLine.get(tenant_key(actor.tenant_id, order_id), line, consistent_read=True)
    except DoesNotExist:
        raise NotFound(f"No held line {text}: it was paid, released or cancelled, or never held.") from None


def _change_line(actor: Actor, text: str, action: str, change, *, reason: str | None) -> LineOutcome:
    for _ in range(ATTEMPTS):
        try:
            row = get_line(actor, text)
        except NotFound:
            return LineOutcome(text, SKIPPED_GONE, "no longer held")
        before = _line_facts(row)
        change(row)
        if _line_facts(row) == before:
            return LineOutcome(text, DONE, "unchanged")
        try:
            _write(actor, row, action, before, reason)
            return LineOutcome(text, DONE)
        except TransactWriteError:
            continue  # the row changed (a release, an extension, another mark): read it again
    return LineOutcome(text, SKIPPED_GONE, "kept changing; try again")


def _line_facts(row: HoldLine) -> dict:
    return {"line": row.line, "mark": row.mark, "locked": bool(row.locked), "lock_reason": row.lock_reason}


def _write(actor: Actor, row: HoldLine, action: str, before: dict, reason: str | None) -> None:
    after = {**_line_facts(row), "reason": reason}
    due_again = _release_due_again(row)
    with TransactWrite(connection=connection()) as transaction:
        transaction.save(row)  # version checked
        if due_again is not None:
            transaction.save(due_again)
        transaction.save(audit_event(actor, "order", row.order_id, action, before, after))


def _release_due_again(row: HoldLine):
    """The order's scheduled release, due now, when this line becomes releasable after its time
    passed (the release run that came skipped it and took it off the schedule)."""
    if row.locked or row.mark != "release":
        return None
    try:
        order = Order.get(row.tenant_id, row.order_id, consistent_read=True)
    except DoesNotExist:
        return None
    release = (order.due_actions or {}).get("release")
    now = clock.now()
    if not release or follow_up.parse_stamp(release["for"]) > now:
        return None
    return follow_up.due_item(row.tenant_id, row.order_id, "release", now)
