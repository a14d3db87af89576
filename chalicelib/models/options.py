"""Options and reservations followed up (DOMAIN §3): their lines, how many match, what is due when.

- :class:`HoldLine` (table ``hold_lines``; hash ``tenant#order``, range the line's number): one
  *order line* (article × performance × tariff, with its quota and seat category) of an open
  option or reservation, as the follow-up list shows it: the deadline, the purchasing contact,
  the places still held (``positions``), the line's release mark and lock, the order's
  reminders. Rows are written in the same transaction as their order (see
  :mod:`chalicelib.services.orders.follow_up`), so the list is never stale; a paid, released or
  cancelled line has no row.
  Four indexes answer the list's mandatory filters (kind, season, product family: the *scope*)
  sorted by deadline: the scope alone, and the scope narrowed by performance, by product or by
  contact (``…_by_scope``, ``…_by_performance``, ``…_by_product``, ``…_by_contact``).
- :class:`HoldLineCount` (table ``hold_line_counts``; hash ``tenant#kind#season#family[#facet#id]``,
  range the deadline's day in the venue's zone): how many lines and places are held per day,
  for the scope and for each performance, product and contact in it. The list's count is the
  sum of the days up to the date asked, so it costs the number of days, not of options.
- :class:`DueAction` (table ``due_actions``; hash the UTC day it falls due, range
  ``tenant#action#due-time#order``): what the schedule must do and when (remind, release, or
  expire a shop checkout's hold), one item per order and action, entered and left with the
  order's own writes. The sweep reads the days that have come, never a Scan.
- :class:`FollowUpPolicy` (table ``follow_up_policies``; hash tenant): the venue's schedule:
  remind N days before the deadline, release M days after it, which kinds, the quiet window.
- :class:`SweepMark` (table ``sweep_marks``; hash the sweep's name): the first day the sweep
  still has to read (every day before it was found empty of due actions).
"""
from __future__ import annotations

from pynamodb.attributes import (
    BooleanAttribute,
    ListAttribute,
    NumberAttribute,
    UnicodeAttribute,
    UnicodeSetAttribute,
    UTCDateTimeAttribute,
    VersionAttribute,
)
from pynamodb.indexes import GlobalSecondaryIndex
from pynamodb.models import Model

from chalicelib.models.base import index_meta, table_meta

HOLD_KINDS = ("option", "reservation")
MARKS = ("release", "keep")
DUE_ACTIONS = ("remind", "release", "expire")


class _ByScope(GlobalSecondaryIndex):
    Meta = index_meta("hold_lines_by_scope")

    scope_key = UnicodeAttribute(hash_key=True)
    due_key = UnicodeAttribute(range_key=True)


class _ByPerformance(GlobalSecondaryIndex):
    Meta = index_meta("hold_lines_by_performance")

    performance_key = UnicodeAttribute(hash_key=True)
    due_key = UnicodeAttribute(range_key=True)


class _ByProduct(GlobalSecondaryIndex):
    Meta = index_meta("hold_lines_by_product")

    product_key = UnicodeAttribute(hash_key=True)
    due_key = UnicodeAttribute(range_key=True)


class _ByContact(GlobalSecondaryIndex):
    Meta = index_meta("hold_lines_by_contact")

    contact_key = UnicodeAttribute(hash_key=True)
    due_key = UnicodeAttribute(range_key=True)


class HoldLine(Model):
    """One held order line; ``line`` is the position of its first ticket, zero-padded (``003``)."""

    Meta = table_meta("hold_lines")

    order_key = UnicodeAttribute(hash_key=True)
    line = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    order_number = NumberAttribute()
    kind = UnicodeAttribute()
    deadline = UTCDateTimeAttribute()
    deadline_day = UnicodeAttribute()  # in the venue's zone: the day the counters count it on
    season_id = UnicodeAttribute()
    family_id = UnicodeAttribute()
    product_id = UnicodeAttribute()
    product_type = UnicodeAttribute(null=True)
    performance_id = UnicodeAttribute()
    tariff_id = UnicodeAttribute()
    tariff_name = UnicodeAttribute()
    quota_id = UnicodeAttribute(null=True)
    seat_category_id = UnicodeAttribute(null=True)
    channel_id = UnicodeAttribute(null=True)
    contact_id = UnicodeAttribute(null=True)
    contact_type = UnicodeAttribute(null=True)
    buyer_name = UnicodeAttribute()
    positions = ListAttribute(of=NumberAttribute)
    position_cents = ListAttribute(of=NumberAttribute)  # what each held place costs the buyer, in order
    quantity = NumberAttribute()
    amount_cents = NumberAttribute()
    currency = UnicodeAttribute()
    mark = UnicodeAttribute(default="release")
    locked = BooleanAttribute(default=False)
    locked_by = UnicodeAttribute(null=True)
    locked_at = UTCDateTimeAttribute(null=True)
    lock_reason = UnicodeAttribute(null=True)
    reminders = NumberAttribute(default=0)
    reminded_at = UTCDateTimeAttribute(null=True)
    scope_key = UnicodeAttribute()
    due_key = UnicodeAttribute()
    performance_key = UnicodeAttribute()
    product_key = UnicodeAttribute()
    contact_key = UnicodeAttribute(null=True)
    version = VersionAttribute(null=True)

    by_scope = _ByScope()
    by_performance = _ByPerformance()
    by_product = _ByProduct()
    by_contact = _ByContact()


class HoldLineCount(Model):
    """Lines and places held on one day (``lines``, ``places``), kept by atomic ADDs."""

    Meta = table_meta("hold_line_counts")

    count_key = UnicodeAttribute(hash_key=True)
    day = UnicodeAttribute(range_key=True)
    lines = NumberAttribute(default=0)
    places = NumberAttribute(default=0)


class DueAction(Model):
    """An action the schedule owes an order at ``due_at`` (``order_id``'s remind, release or expire)."""

    Meta = table_meta("due_actions")

    due_day = UnicodeAttribute(hash_key=True)
    due_key = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    action = UnicodeAttribute()
    order_id = UnicodeAttribute()
    due_at = UTCDateTimeAttribute()


class FollowUpPolicy(Model):
    """A venue's follow-up schedule (0 days = off)."""

    Meta = table_meta("follow_up_policies")

    tenant_id = UnicodeAttribute(hash_key=True)
    remind_days_before = NumberAttribute(default=0)
    release_days_after = NumberAttribute(default=0)
    kinds = UnicodeSetAttribute(default=lambda: set(HOLD_KINDS))
    quiet_from = UnicodeAttribute(default="21:00")
    quiet_until = UnicodeAttribute(default="08:00")
    timezone = UnicodeAttribute(default="Europe/Paris")
    release_mail = BooleanAttribute(default=True)
    version = VersionAttribute(null=True)
    updated_at = UTCDateTimeAttribute(null=True)
    updated_by = UnicodeAttribute(null=True)


class SweepMark(Model):
    Meta = table_meta("sweep_marks")

    sweep = UnicodeAttribute(hash_key=True)
    from_day = UnicodeAttribute()
    swept_at = UTCDateTimeAttribute()
