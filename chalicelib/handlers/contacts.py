"""Contact routes (staff): create, read, edit, list and find by name."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.http import staff_route
from chalicelib.services.contacts import contacts

bp = Blueprint(__name__)


@staff_route(bp, "/contacts", method="POST", body="contacts:ContactIn", response="contacts:ContactOut",
             status=201, summary="Create a contact", tag="contacts")
def create_contact(actor, body):
    return contacts.create_contact(actor, body.model_dump())


@staff_route(bp, "/contacts", query="contacts:ContactSearch", response="contacts:ContactOut", many=True,
             summary="List contacts, find them by anything in their record (q), or by name prefix (name)",
             tag="contacts")
def list_contacts(actor, query):
    if query.q:
        from chalicelib.services.contacts import search

        return search.search_contacts(actor, query.q, limit=query.limit, cursor=query.cursor)
    return contacts.list_contacts(actor, name_prefix=query.name, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/contacts/{contact_id}", response="contacts:ContactOut", summary="Read a contact", tag="contacts")
def get_contact(actor, contact_id):
    return contacts.get_contact(actor, contact_id)


@staff_route(bp, "/contacts/{contact_id}", method="PATCH", body="contacts:ContactPatch",
             response="contacts:ContactOut", summary="Edit a contact (system-filled fields are kept)", tag="contacts")
def update_contact(actor, contact_id, body):
    return contacts.update_contact(actor, contact_id, body.model_dump(exclude_unset=True))


@staff_route(bp, "/contacts/reindex", method="POST", role="admin", response="jobs:JobOut", status=202,
             summary="Re-index every contact of the venue for search (a job; contacts already indexed are "
                     "left as they are)", tag="contacts")
def reindex_contacts(actor):
    from chalicelib.services.contacts import reindex

    return reindex.start_reindex(actor)
