"""The customer record routes (staff): the record's sections, and the booking history sorted by
any column (the other histories page on through their own routes: credit, donations, audit);
merging and privacy requests; segments, and the file of a segment's members."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.http import RecordRoutes, staff_route

bp = Blueprint(__name__)
TAG = "contacts"


def _booking_out(booking) -> dict:
    entry = booking.entry
    return {"order_id": entry.order_id, "number": entry.number, "placed_at": entry.created_at, "show": booking.show,
            "performance_date": booking.performance_date, "total_cents": entry.total_cents,
            "balance_due_cents": booking.balance_due_cents, "currency": entry.currency, "status": entry.status,
            "kind": entry.kind}


@staff_route(bp, "/contacts/{contact_id}/record", response="customers:RecordOut",
             summary="The customer record: details, other information, bookings, credit, donations and changes",
             tag=TAG)
def customer_record(actor, contact_id):
    from chalicelib.services.customers import record

    found = record.customer_record(actor, contact_id)
    contact = found.contact
    return {
        "contact": contact,
        "other_information": {"system_fields": contact.system_fields, "criteria": contact.criteria},
        "mailing_lists": found.mailing_lists,
        "bookings": {"items": [_booking_out(row) for row in found.bookings.items],
                     "next_cursor": found.bookings.next_cursor},
        "credit": {"account": found.credit, "entries": found.credit_entries.items,
                   "next_cursor": found.credit_entries.next_cursor},
        "donations": {"items": found.donations.items, "next_cursor": found.donations.next_cursor},
        "changes": {"items": found.changes.items, "next_cursor": found.changes.next_cursor},
        "segments": found.segments,
    }


@staff_route(bp, "/contacts/{contact_id}/orders", query="customers:BookingQuery", response="customers:BookingOut",
             many=True, summary="A customer's bookings, sorted by date, show, performance date, order number, total, "
                                "balance due or status, either way, paged", tag=TAG)
def customer_bookings(actor, contact_id, query):
    from chalicelib.services.customers import record
    from chalicelib.services.shared.paging import Page

    page = record.bookings(actor, contact_id, sort=query.sort, descending=query.direction == "desc",
                           limit=query.limit, cursor=query.cursor)
    return Page(items=[_booking_out(row) for row in page.items], next_cursor=page.next_cursor)


@staff_route(bp, "/contacts/{contact_id}/merge", method="POST", body="customers:MergeIn", response="jobs:JobOut",
             status=202, summary="Merge another record of the same customer into this one: its orders, credit, "
                                 "donations, e-mails with consents, phones, addresses and criteria move here, and "
                                 "it becomes a redirect (a job; asking again is harmless)", tag=TAG)
def merge_contacts(actor, contact_id, body):
    from chalicelib.services.customers import merge

    return merge.start_merge(actor, contact_id, body.other_id)


@staff_route(bp, "/contacts/{contact_id}/personal-data", role="admin", response="customers:PersonalDataOut",
             summary="Right of access: everything held on this person (record, lists and consents, credit, "
                     "donations, orders bought, mails sent, changes), as JSON", tag=TAG)
def personal_data(actor, contact_id):
    from chalicelib.services.customers import privacy

    return privacy.personal_data(actor, contact_id)


@staff_route(bp, "/contacts/{contact_id}/erase", method="POST", role="admin", body="customers:EraseIn",
             response="jobs:JobOut", status=202,
             summary="Right to erasure: remove or pseudonymise this person's data everywhere while the accounting "
                     "stays (irreversible; a job; asking again is harmless)", tag=TAG)
def erase_person(actor, contact_id, body):
    from chalicelib.services.customers import privacy

    return privacy.start_erasure(actor, contact_id, reason=body.reason)


RecordRoutes("/segments", "segment_id", "customers.segments:segments", "segment", "customers:Segment",
             notes="rules: all must hold; membership is computed when a record is read or members are listed"
             ).register(bp, TAG)


@staff_route(bp, "/segments/{segment_id}/members/export", method="POST", response="jobs:JobOut", status=202,
             summary="List a segment's members as CSV for Excel in French, as its rules stand now (background "
                     "job; download with GET /jobs/{job_id}/download)", tag=TAG)
def export_segment_members(actor, segment_id):
    from chalicelib.services.customers import segments

    return segments.start_members_export(actor, segment_id)
