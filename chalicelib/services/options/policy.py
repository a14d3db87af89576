"""A venue's follow-up policy as the rest of the follow-up reads it: the policy itself, whether
its quiet window holds now, and re-timing its open holds after it changed (what each order is
owed is recomputed by the order's own write: :mod:`chalicelib.services.orders.follow_up`)."""
from __future__ import annotations

import json
from datetime import datetime

from chalicelib.errors import ConcurrentChange, FieldError, InvalidInput, NotFound
from chalicelib.models.base import tenant_key
from chalicelib.models.options import HOLD_KINDS, FollowUpPolicy
from chalicelib.models.orders import OrderListing
from chalicelib.services.options.outcomes import DONE, SKIPPED_GONE, LineOutcome
from chalicelib.services.orders import follow_up, orders
from chalicelib.services.shared.actors import Actor
from chalicelib.values.local_time import clock_time, in_quiet_window, zone


def get_policy(actor: Actor) -> FollowUpPolicy:
    """The venue's policy (the defaults, everything off, when never saved)."""
    return follow_up.policy_of(actor.tenant_id) or FollowUpPolicy(tenant_id=actor.tenant_id)


def check_fields(fields: dict) -> None:
    try:
        zone(fields["timezone"])
    except ValueError:
        raise InvalidInput("Unknown time zone.", errors=[FieldError("timezone", "not an IANA time zone")]) from None
    for name in ("quiet_from", "quiet_until"):
        try:
            clock_time(fields[name])
        except ValueError:
            raise InvalidInput("A time of day is written HH:MM.", errors=[FieldError(name, "HH:MM")]) from None


def timing(values: dict | None) -> tuple:
    values = values or {}
    return (values.get("remind_days_before"), values.get("release_days_after"), sorted(values.get("kinds") or ()),
            values.get("timezone"))


def quiet_now(tenant_id: str, moment: datetime) -> bool:
    policy = follow_up.policy_of(tenant_id)
    return policy is not None and in_quiet_window(moment, policy.timezone, policy.quiet_from, policy.quiet_until)


def open_holds_page(actor: Actor, place: dict, *, limit: int) -> tuple[list[str], dict | None]:
    """A page of the venue's unpaid options and reservations (the orders list's unpaid entries)."""
    key = tenant_key(actor.tenant_id, "status", "unpaid")
    start = json.loads(place["k"]) if place.get("k") else None
    results = OrderListing.query(key, filter_condition=OrderListing.kind.is_in(*HOLD_KINDS), limit=limit,
                                 last_evaluated_key=start)
    page = next(results.page_iter, None) or {}
    order_ids = [OrderListing.from_raw_data(raw).order_id for raw in page.get("Items", [])]
    last = results.page_iter.last_evaluated_key
    return order_ids, ({"k": json.dumps(last, sort_keys=True)} if last else None)


def retime_order(actor: Actor, order_id: str) -> LineOutcome:
    """The order's due actions recomputed on the policy of now (an audited write of the order)."""
    for _ in range(5):
        try:
            order = orders.get_order(actor, order_id)
        except NotFound:
            return LineOutcome(order_id, SKIPPED_GONE)
        if not follow_up.is_open_hold(order):
            return LineOutcome(order_id, SKIPPED_GONE, "no longer held")
        try:
            orders.save_change(actor, order, orders.copy_of(order), action="retime",
                               details={"reason": "follow-up policy changed"})
            return LineOutcome(order_id, DONE)
        except ConcurrentChange:
            continue
    return LineOutcome(order_id, SKIPPED_GONE, "kept changing")
