"""Privacy requests (RGPD): everything held on one person, and erasing them.

**Right of access** (:func:`personal_data`): the contact as stored, its mailing lists with each
consent's history, its credit (account and every entry) and donations, the orders it bought
(each with its buyer as written on it and its tickets' attendees), the mails sent to it (subject,
address, delivery timeline), and the changes made to its record (the audit trail). Read from
each feature's own records; each part capped at :data:`MAX_PART` items (a person's records are
few; the cap says so when reached).

**Right to erasure** (:func:`start_erasure`, a job): the person's data is removed or
pseudonymised wherever it lies, while the accounting stays as French law requires (orders with
their amounts, invoices and credit notes as issued, refunds, the ledger, credit and donation
amounts: kept, keyed by ids, not names). In steps, each safe to run again:

1. the record is marked: it refuses edits, new orders and new list memberships;
2. each order it bought: the buyer's name, e-mail, address and phone, and its tickets' attendee
   names and e-mails, become ``Client effacé`` / nothing (an audited order write: the orders
   list and exports follow), and the order's past audit events lose their buyer's personal fields;
3. each mail sent to it: the address, subject and rendered words go (the delivery timeline and
   status stay, without the address); the address's standing record goes;
4. its rows in postponement or cancellation campaigns are pseudonymised the same way;
5. the record itself: names, e-mails (their claims given back), phones, addresses, criteria and
   the system's fields are cleared, its mailing lists (and the consents' proofs) deleted, it
   leaves search, its past audit events keep only who did what and when; ``erased_at`` is set,
   and one last audit event says who erased it and why, naming nothing personal.

An erased record stays as an id (so the accounting's references hold) and cannot be undone.
Invoices and credit notes keep the buyer's name as issued: they are legal documents, kept ten
years (Code de commerce L123-22); that is said in the answer.
"""
from __future__ import annotations

import json
from typing import Any

from chalicelib.models.audit import AuditEvent
from chalicelib.models.base import tenant_key
from chalicelib.models.mail import Notification
from chalicelib.models.mailing_lists import ListMembership
from chalicelib.models.money import CreditEntry, Donation
from chalicelib.models.orders import OrderListing
from chalicelib.services.campaigns import affected_customers
from chalicelib.services.contacts import contacts
from chalicelib.services.jobs.framework import ChunkBudget, ChunkResult, job_kind, start_job
from chalicelib.services.mail import notifications
from chalicelib.services.money import customer_money
from chalicelib.services.orders import orders
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import snapshot

MAX_PART = 5000
KEPT_BY_LAW = ("Invoices and credit notes keep the buyer's name as issued: they are accounting documents kept "
               "ten years (Code de commerce, art. L123-22).")


def _walk(query, cap: int = MAX_PART) -> tuple[list, bool]:
    items = []
    for item in query:
        if len(items) == cap:
            return items, True
        items.append(item)
    return items, False


def personal_data(actor: Actor, contact_id: str) -> dict[str, Any]:
    """Everything held on the person ``contact_id`` (404 for a contact the venue does not have)."""
    contact = contacts.get_contact(actor, contact_id)
    key = tenant_key(actor.tenant_id, "contact", contact_id)  # its credit, donations, orders and changes
    capped = []

    def whole(part: str, query) -> list:
        items, cut = _walk(query)
        if cut:
            capped.append(part)
        return items

    listed = whole("orders", OrderListing.query(key))
    mails = whole("mails", _mails_to(actor, contact_id))
    entries = whole("credit", CreditEntry.query(key))
    donations = whole("donations", Donation.query(key))
    changes = whole("changes", AuditEvent.query(key))
    bought = []
    for entry in listed:
        order = orders.get_order(actor, entry.order_id)
        bought.append({"order": _plain(order), "tickets": [_plain(ticket) for ticket in orders.tickets_of(order)]})
    return {
        "contact": _plain(contact),
        "mailing_lists": [_plain(membership) for membership in
                          ListMembership.query(tenant_key(actor.tenant_id, contact_id))],
        "credit": {"account": _balance(customer_money.credit_account(actor, contact_id)),
                   "entries": [_plain(entry) for entry in entries]},
        "donations": [_plain(donation) for donation in donations],
        "orders": bought,
        "mails": [_mail(mail) for mail in mails],
        "changes": [_plain(event) for event in changes],
        "capped": capped,
        "kept_by_law": KEPT_BY_LAW,
    }


def _mails_to(actor: Actor, contact_id: str):
    """The mails sent to the contact, in full, page after page (each page one batch)."""
    cursor = None
    while True:
        page = notifications.of_contact(actor, contact_id, limit=100, cursor=cursor)
        yield from page.items
        if not page.next_cursor:
            return
        cursor = page.next_cursor


def _balance(account) -> dict:
    return {name: getattr(account, name) for name in ("balance_cents", "issued_cents", "used_cents", "currency")}


def _plain(item) -> dict:
    return snapshot(item) or {}


def _mail(notification: Notification) -> dict:
    return {"id": notification.id, "sent_to": notification.recipient, "template": notification.template,
            "subject": notification.subject, "status": notification.status,
            "timeline": [{"status": event.status, "at": event.at.isoformat(), "detail": event.detail}
                         for event in notification.timeline or []]}


ERASE = "customers.erase"
PAGE = 25


def start_erasure(actor: Actor, contact_id: str, *, reason: str):
    """Erase the person ``contact_id`` (see the module's docstring): marked now, the rest a job."""
    contacts.start_erasure(actor, contact_id)
    return start_job(actor, ERASE, {"contact_id": contact_id, "reason": reason})


@job_kind(ERASE, max_items=40)
def erase_chunk(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    contact_id = params["contact_id"]
    contacts.start_erasure(actor, contact_id)
    facet = tenant_key(actor.tenant_id, "contact", contact_id)
    start = json.loads(cursor["k"]) if cursor and cursor.get("k") else None
    erased = 0
    if not (cursor or {}).get("orders_done"):
        while budget.take():
            results = OrderListing.query(facet, limit=PAGE, last_evaluated_key=start, consistent_read=True)
            erased += sum(orders.erase_buyer(actor, entry.order_id, contact_id) for entry in results)
            start = results.last_evaluated_key
            if not start:
                break
        else:
            return ChunkResult(cursor={"k": json.dumps(start, sort_keys=True)}, done=erased,
                               outcomes={"orders_erased": erased})
    contact = contacts.get_contact(actor, contact_id)
    order_ids = [entry.order_id for entry in OrderListing.query(facet)]
    mails = notifications.forget_person(actor.tenant_id, contact_id, [email.address for email in contact.emails])
    rows = affected_customers.forget_buyer(actor, order_ids)
    contacts.erase_record(actor, contact_id, reason=params.get("reason") or "asked by the person")
    return ChunkResult(cursor=None, done=erased, outcomes={"orders_erased": erased, "mails_forgotten": mails,
                                                           "campaign_rows_forgotten": rows})
