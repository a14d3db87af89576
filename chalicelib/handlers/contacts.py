"""Contact routes (staff): create, read, edit, list and find by name."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.http import RecordRoutes, staff_route

bp = Blueprint(__name__)


@staff_route(bp, "/contacts", method="POST", body="contacts:ContactIn", response="contacts:ContactOut",
             status=201, summary="Create a contact", tag="contacts")
def create_contact(actor, body):
    from chalicelib.services.contacts import contacts

    return contacts.create_contact(actor, body.model_dump())


@staff_route(bp, "/contacts", query="contacts:ContactSearch", response="contacts:ContactOut", many=True,
             summary="List contacts, find them by anything in their record (q), or by name prefix (name)",
             tag="contacts")
def list_contacts(actor, query):
    from chalicelib.services.contacts import contacts

    if query.q:
        from chalicelib.services.contacts import search

        return search.search_contacts(actor, query.q, limit=query.limit, cursor=query.cursor)
    return contacts.list_contacts(actor, name_prefix=query.name, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/contacts/{contact_id}", response="contacts:ContactOut", summary="Read a contact", tag="contacts")
def get_contact(actor, contact_id):
    from chalicelib.services.contacts import contacts

    return contacts.get_contact(actor, contact_id)


@staff_route(bp, "/contacts/{contact_id}", method="PATCH", body="contacts:ContactPatch",
             response="contacts:ContactOut", summary="Edit a contact (system-filled fields are kept)", tag="contacts")
def update_contact(actor, contact_id, body):
    from chalicelib.services.contacts import contacts

    return contacts.update_contact(actor, contact_id, body.model_dump(exclude_unset=True))


@staff_route(bp, "/contacts/reindex", method="POST", role="admin", response="jobs:JobOut", status=202,
             summary="Re-index every contact of the venue for search (a job; contacts already indexed are "
                     "left as they are)", tag="contacts")
def reindex_contacts(actor):
    from chalicelib.services.contacts import reindex

    return reindex.start_reindex(actor)


RecordRoutes("/mailing-lists", "list_id", "contacts.mailing_lists:lists", "mailing list", "contacts:MailingList").register(
    bp, "contacts")


@staff_route(bp, "/mailing-lists/{list_id}/members", query="common:PageQuery", response="contacts:MembershipOut",
             many=True, summary="A mailing list's people, members now or not, with each one's history",
             tag="contacts")
def list_members(actor, list_id, query):
    from chalicelib.services.contacts import mailing_lists

    return mailing_lists.members(actor, list_id, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/contacts/{contact_id}/mailing-lists", response="contacts:MembershipOut", many=True,
             summary="The lists a contact is or was on, each with the history of its consent", tag="contacts")
def contact_memberships(actor, contact_id):
    from chalicelib.services.contacts import mailing_lists
    from chalicelib.services.shared.paging import Page

    return Page(items=mailing_lists.memberships(actor, contact_id), next_cursor=None)


@staff_route(bp, "/contacts/{contact_id}/mailing-lists/{list_id}/join", method="POST",
             body="contacts:MembershipChangeIn", response="contacts:MembershipOut",
             summary="Put a contact on a list, recording how they consented (audited)", tag="contacts")
def join_list(actor, contact_id, list_id, body):
    from chalicelib.services.contacts import mailing_lists

    return mailing_lists.join(actor, contact_id, list_id, how=body.how)


@staff_route(bp, "/contacts/{contact_id}/mailing-lists/{list_id}/leave", method="POST",
             body="contacts:MembershipChangeIn", response="contacts:MembershipOut",
             summary="Take a contact off a list (the history of the consent is kept; audited)", tag="contacts")
def leave_list(actor, contact_id, list_id, body):
    from chalicelib.services.contacts import mailing_lists

    return mailing_lists.leave(actor, contact_id, list_id, how=body.how)
