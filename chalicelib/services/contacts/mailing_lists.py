"""Mailing lists and the people on them: joining records the consent (when, how, by whom),
leaving keeps it as history, and a newsletter consent ticked on a contact's e-mail lands on the
venue's newsletter lists (in the same transaction as the contact's edit).

A membership's ``history`` only grows, and no route edits it: the proof of a consent outlives
the consent. Each change is one write of the membership under its version, audited on the
contact.
"""
from __future__ import annotations

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock
from chalicelib.errors import ConcurrentChange, Conflict
from chalicelib.models.base import connection, tenant_key
from chalicelib.models.contacts import Contact
from chalicelib.models.mailing_lists import ListMembership, MailingList, MembershipEvent
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event
from chalicelib.services.shared.paging import Page, paged
from chalicelib.services.shared.records import RecordKind, get_record

lists = RecordKind(MailingList)
ATTEMPTS = 5


def _membership(tenant_id: str, contact_id: str, list_id: str) -> ListMembership:
    try:
        return ListMembership.get(tenant_key(tenant_id, contact_id), list_id, consistent_read=True)
    except ListMembership.DoesNotExist:
        return ListMembership(contact_key=tenant_key(tenant_id, contact_id), list_id=list_id, tenant_id=tenant_id,
                              contact_id=contact_id, list_key=tenant_key(tenant_id, list_id), member=False, history=[])


def membership_change(actor: Actor, membership: ListMembership, *, joining: bool, how: str) -> bool:
    """Apply a join or a leave to ``membership`` (in memory); ``False`` when it is already so
    (leaving a list one was never on records nothing)."""
    if bool(membership.member) == joining:
        return False
    membership.member = joining
    membership.history = list(membership.history or []) + [MembershipEvent(
        at=clock.now(), action="joined" if joining else "left", how=how[:200], by=actor.subject)]
    return True


def join(actor: Actor, contact_id: str, list_id: str, *, how: str) -> ListMembership:
    return _change(actor, contact_id, list_id, joining=True, how=how)


def leave(actor: Actor, contact_id: str, list_id: str, *, how: str) -> ListMembership:
    return _change(actor, contact_id, list_id, joining=False, how=how)


def _change(actor: Actor, contact_id: str, list_id: str, *, joining: bool, how: str) -> ListMembership:
    if get_record(actor, Contact, contact_id).closed:
        raise Conflict(f"Contact {contact_id} was merged into another record or erased; it joins no list.")
    get_record(actor, MailingList, list_id)
    for _ in range(ATTEMPTS):
        membership = _membership(actor.tenant_id, contact_id, list_id)
        if not membership_change(actor, membership, joining=joining, how=how):
            return membership
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.save(membership)  # version checked
                transaction.save(audit_event(actor, "contact", contact_id, "joined-list" if joining else "left-list",
                                             None, {"list_id": list_id, "how": how}))
            return membership
        except TransactWriteError:
            continue
    raise ConcurrentChange("The membership kept changing; try again.")


def memberships(actor: Actor, contact_id: str) -> list[ListMembership]:
    """Every list the contact is or was on, with its history (a contact's lists are few)."""
    get_record(actor, Contact, contact_id)
    return list(ListMembership.query(tenant_key(actor.tenant_id, contact_id), consistent_read=True))


def members(actor: Actor, list_id: str, *, limit: int, cursor: str | None) -> Page[ListMembership]:
    """A list's people, now members or not (``member`` says), by contact id."""
    get_record(actor, MailingList, list_id)
    key = tenant_key(actor.tenant_id, list_id)
    return paged(f"list-members:{key}", cursor, lambda start: ListMembership.by_list.query(
        key, limit=limit, last_evaluated_key=start))


def newsletter_changes(actor: Actor, contact, consented_before: set[str]) -> list[ListMembership]:
    """The memberships a contact's edit changes on the venue's newsletter lists: joined when an
    e-mail's newsletter consent is newly ticked, left when no e-mail keeps one (for the contact's
    transaction to write)."""
    consenting = {email.address.lower() for email in contact.emails if email.newsletter_consent}
    newly = sorted(consenting - consented_before)
    withdrawn = bool(consented_before) and not consenting
    if not newly and not withdrawn:
        return []
    changed = []
    for mailing_list in _newsletter_lists(actor.tenant_id):
        membership = _membership(actor.tenant_id, contact.id, mailing_list.id)
        how = (f"newsletter consent ticked for {newly[0]}" if newly else "newsletter consent withdrawn on every e-mail")
        if membership_change(actor, membership, joining=bool(newly), how=how):
            changed.append(membership)
    return changed


def _newsletter_lists(tenant_id: str) -> list[MailingList]:
    # A venue has a handful of lists: read them all (a Query of its partition), keep the newsletters.
    return [item for item in MailingList.query(tenant_id) if item.newsletter]


def move_memberships(actor: Actor, from_id: str, to_id: str) -> int:
    """A merge: each list ``from_id`` is or was on passes to ``to_id`` with its whole history
    (joined to the kept record's own history of that list, in time order; a member if either
    was), one transaction each, the moved membership deleted; how many moved."""
    moved = 0
    for source in list(ListMembership.query(tenant_key(actor.tenant_id, from_id), consistent_read=True)):
        target = _membership(actor.tenant_id, to_id, source.list_id)
        target.history = sorted([*(target.history or []), *(source.history or [])], key=lambda event: event.at)
        target.member = bool(target.member) or bool(source.member)
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(target)  # version checked
            transaction.delete(source)  # version checked: a change meanwhile makes the merge retry
        moved += 1
    return moved
