"""The customer record: a contact's sections read together, the first page of each history.

Sections: the contact's details (names, language, addresses, phones, e-mails with consent and
delivery facts); other information (the fields the system fills, apart from staff's criteria);
the mailing lists it is or was on, each with the history of its consent; the segments it
belongs to now (:mod:`.segments`, computed from their rules);
bookings (:mod:`chalicelib.services.orders.history`, newest first); credit (balance, then its
entries: a refund page's credit lands here with its campaign) and donations
(:mod:`chalicelib.services.money.customer_money`); and the changes made to the contact (the
audit trail: who, when, what). Each history pages on through its own route.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.models.contacts import Contact
from chalicelib.models.money import CreditAccount
from chalicelib.services.contacts import contacts, mailing_lists
from chalicelib.services.customers.segments import segments_of
from chalicelib.services.money import customer_money
from chalicelib.services.orders import history
from chalicelib.services.shared import audit
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.paging import Page

FIRST_PAGE = 10


@dataclass
class CustomerRecord:
    contact: Contact
    credit: CreditAccount
    credit_entries: Page
    donations: Page
    bookings: Page
    changes: Page
    mailing_lists: list
    segments: list


def customer_record(actor: Actor, contact_id: str) -> CustomerRecord:
    """The record of ``contact_id`` (404 for a contact the venue does not have)."""
    contact = contacts.get_contact(actor, contact_id)
    return CustomerRecord(
        contact=contact,
        credit=customer_money.credit_account(actor, contact_id),
        credit_entries=customer_money.credit_history(actor, contact_id, limit=FIRST_PAGE, cursor=None),
        donations=customer_money.donation_history(actor, contact_id, limit=FIRST_PAGE, cursor=None),
        bookings=history.bookings(actor, contact_id, limit=FIRST_PAGE, cursor=None),
        changes=audit.history(actor, Contact.entity_type, contact_id, limit=FIRST_PAGE, cursor=None),
        mailing_lists=mailing_lists.memberships(actor, contact_id),
        segments=segments_of(actor, contact))


def bookings(actor: Actor, contact_id: str, *, sort: str, descending: bool, limit: int,
             cursor: str | None) -> Page:
    """The contact's bookings sorted by ``sort`` (404 for a contact the venue does not have)."""
    contacts.get_contact(actor, contact_id)
    return history.bookings(actor, contact_id, sort=sort, descending=descending, limit=limit, cursor=cursor)
