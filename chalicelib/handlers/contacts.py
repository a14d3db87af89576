"""Contact routes (staff): create, read, edit, list and find by name."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.http import page_out, staff_route
from chalicelib.schemas.common import PageOut
from chalicelib.schemas.contacts import ContactIn, ContactOut, ContactPatch, ContactSearch
from chalicelib.services import contacts

bp = Blueprint(__name__)


@staff_route(bp, "/contacts", method="POST", body=ContactIn, response=ContactOut, status=201,
             summary="Create a contact", tag="contacts")
def create_contact(actor, body):
    return ContactOut.model_validate(contacts.create_contact(actor, body.model_dump()))


@staff_route(bp, "/contacts", query=ContactSearch, response=PageOut[ContactOut],
             summary="List contacts, or find them by name prefix (accents and case ignored)", tag="contacts")
def list_contacts(actor, query):
    return page_out(ContactOut, contacts.list_contacts(actor, name_prefix=query.name, limit=query.limit,
                                                       cursor=query.cursor))


@staff_route(bp, "/contacts/{contact_id}", response=ContactOut, summary="Read a contact", tag="contacts")
def get_contact(actor, contact_id):
    return ContactOut.model_validate(contacts.get_contact(actor, contact_id))


@staff_route(bp, "/contacts/{contact_id}", method="PATCH", body=ContactPatch, response=ContactOut,
             summary="Edit a contact (system-filled fields are kept)", tag="contacts")
def update_contact(actor, contact_id, body):
    return ContactOut.model_validate(contacts.update_contact(actor, contact_id, body.model_dump(exclude_unset=True)))
