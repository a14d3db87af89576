"""Seat change routes (staff): move one performance's ticket of an order to another seat, move a
subscription to other seats for every performance still to come, and read an order's changes.
The services are imported by the views, so a cold start of any other route does not pay for
this area."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.http import staff_route

bp = Blueprint(__name__)
TAG = "seat-changes"


@staff_route(bp, "/orders/{order_id}/tickets/{position}/seat-change", method="POST", body="seat_changes:SeatChangeIn",
             response="seat_changes:SeatChangeOut",
             summary="Change the seat of one performance's ticket, saying who asked: the old seat freed and the new "
                     "one taken in one transaction (409 naming a seat taken or of another venue), a new check-in "
                     "code (the old ticket no longer admits), the price difference collected, refunded, owed with "
                     "the order or waived (audited), the buyer mailed the updated ticket. Idempotent on change_id",
             tag=TAG)
def change_ticket_seat(actor, order_id, position, body):
    from chalicelib.services.seat_changes import ticket

    return ticket.change_ticket_seat(actor, order_id, position, body.model_dump(exclude_none=True))


@staff_route(bp, "/subscriptions/{subscription_id}/seat-change", method="POST",
             body="seat_changes:SubscriptionSeatChangeIn", response="seat_changes:SeatChangeOut",
             summary="Change a subscription's seat for every performance still to come, in one action, all or "
                     "nothing: any new seat taken and nothing changes (409 naming every performance that blocks); "
                     "past performances untouched; the same rules as one performance's change. Idempotent on "
                     "change_id: asking again resumes a change left midway", tag=TAG)
def change_subscription_seats(actor, subscription_id, body):
    from chalicelib.services.seat_changes import subscription

    return subscription.change_subscription_seats(actor, subscription_id, body.model_dump(exclude_none=True))


@staff_route(bp, "/orders/{order_id}/seat-changes", query="common:PageQuery", response="seat_changes:SeatChangeOut",
             many=True, summary="An order's seat changes, newest first: what moved, what was left untouched or "
                                "blocked, and the money of the price difference", tag=TAG)
def order_seat_changes(actor, order_id, query):
    from chalicelib.services.seat_changes import common

    return common.changes_of_order(actor, order_id, limit=query.limit, cursor=query.cursor)
