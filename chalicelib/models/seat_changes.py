"""Seat changes (changement de place, DOMAIN §4): one performance's ticket moved to another
seat, or every future performance of a subscription moved at once.

- :class:`SeatChange` (table ``seat_changes``; hash ``tenant#order``, range the change's id,
  which the client may choose so that a retry is the same change): what was asked (who asked,
  the new seats, the price difference and what staff chose to do with it), the plan fixed when
  it was first asked (one step per performance: the ticket, its old and new seat, its new
  check-in code and price), how far it went (``state``), what blocked it, and the money it
  moved. A subscription's change runs in several writes (see
  :mod:`chalicelib.services.seat_changes.subscription`); this record is what a later attempt
  resumes from.

States: ``claiming`` (the new seats are being claimed) -> ``switching`` (every new seat is
held; the tickets move) -> ``done``; or ``claiming`` -> ``refused`` (a seat was taken: every
claim made was given back, nothing changed). A one-performance change is written ``done`` in
the transaction that makes it.
"""
from __future__ import annotations

from pynamodb.attributes import JSONAttribute, UnicodeAttribute, UTCDateTimeAttribute, VersionAttribute
from pynamodb.models import Model

from chalicelib.models.base import table_meta

SEAT_CHANGE_STATES = ("claiming", "switching", "done", "refused")
REQUESTERS = ("buyer", "institution")


class SeatChange(Model):
    Meta = table_meta("seat_changes")

    order_key = UnicodeAttribute(hash_key=True)  # tenant#order
    change_id = UnicodeAttribute(range_key=True)
    tenant_id = UnicodeAttribute()
    order_id = UnicodeAttribute()
    subscription_id = UnicodeAttribute(null=True)
    kind = UnicodeAttribute()  # "ticket" (one performance) or "subscription" (every future one)
    state = UnicodeAttribute()
    requested_by = UnicodeAttribute()  # "buyer" or "institution"
    note = UnicodeAttribute(null=True)
    request_digest = UnicodeAttribute()  # the request as first asked: the same id with another request is refused
    # [{"performance_id", "starts_at", "position", "old_seat_id", "old_seat_label", "old_category_id",
    #   "new_seat_id", "new_seat_label", "new_category_id", "new_code", "old_price_cents", "new_price_cents",
    #   "state": "planned" | "switched" | "skipped", "reason"}]
    steps = JSONAttribute(default=list)
    untouched = JSONAttribute(null=True)  # [{"performance_id", "starts_at", "position", "reason"}]
    blocking = JSONAttribute(null=True)  # [{"performance_id", "starts_at", "seat_id", "seat_label"}]
    refusal = UnicodeAttribute(null=True)  # why a refused change was refused, when no seat blocked it
    # {"direction", "amount_cents" (per ticket), "waived", "means", "reference", "iban", "holder", "moves"}
    price_difference = JSONAttribute(null=True)
    money = JSONAttribute(null=True)  # {"outcome", "amount_cents", "refund_id", "payment_id", "note"}
    created_by = UnicodeAttribute()
    created_at = UTCDateTimeAttribute()
    updated_at = UTCDateTimeAttribute()
    finished_at = UTCDateTimeAttribute(null=True)
    version = VersionAttribute(null=True)
