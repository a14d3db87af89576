"""Contacts as staff maintain them, and the rule that system-filled facts survive edits.

Staff create and edit names, language, emails, phones, addresses and criteria. The system
owns ``system_fields`` (subscriber number, ...) and each address's delivery facts
(``undeliverable``, ``complained``, set by the mail pipeline): an edit that keeps an
address keeps its facts; nothing a staff request carries can write them.

**A new contact is prepared, then written** (:func:`prepare_contact`): the contact with its
index keys and its audit event, as :class:`NewContact`. :func:`create_contact` writes it in
its own transaction; a settlement that makes the buyer's record (credit, donation) puts the
same items in the settlement's transaction (:func:`prepare_buyer_contact`), so a failed or
lost settlement leaves no contact behind.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.expressions.condition import Condition
from pynamodb.models import Model
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock, ids
from chalicelib.errors import ConcurrentChange, Conflict, Duplicate, FieldError, InvalidInput, NotFound
from chalicelib.models.audit import AuditEvent
from chalicelib.models.base import connection, starting_with, tenant_key
from chalicelib.models.contacts import AddressEntry, Contact, EmailEntry, PhoneEntry
from chalicelib.models.orders import Buyer
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event, plain, scrub, snapshot, write_audited
from chalicelib.services.shared.paging import Page, paged
from chalicelib.services.shared.records import get_record, list_records, refuse_if_changed
from chalicelib.values.text import fold

SYSTEM_EMAIL_FACTS = ("undeliverable", "complained", "delivery_note", "delivery_noted_at")


def search_name(last_name: str | None, first_name: str | None) -> str:
    return f"{fold(last_name)} {fold(first_name)}".strip()


def _emails(entries: list[dict], kept: list[EmailEntry]) -> list[EmailEntry]:
    known = {entry.address.lower(): entry for entry in kept}
    result = []
    for entry in entries:
        email = EmailEntry(address=entry["address"], newsletter_consent=entry.get("newsletter_consent", False))
        previous = known.get(entry["address"].lower())
        for fact in SYSTEM_EMAIL_FACTS:
            if previous is not None:
                setattr(email, fact, getattr(previous, fact))
        result.append(email)
    return result


def _as_attributes(fields: dict[str, Any], current: Contact | None) -> dict[str, Any]:
    """Request fields as model attribute values (lists as entries, criteria merged)."""
    values = dict(fields)
    if "emails" in values:
        values["emails"] = _emails(values["emails"], current.emails if current else [])
    if "phones" in values:
        values["phones"] = [PhoneEntry(**phone) for phone in values["phones"]]
    if "addresses" in values:
        values["addresses"] = [AddressEntry(**address) for address in values["addresses"]]
    if "criteria" in values:
        merged = current.criteria.as_dict() if current else {}
        merged.update(values["criteria"])
        values["criteria"] = {name: value for name, value in merged.items() if value is not None}
    return values


@dataclass
class NewContact:
    """A contact not yet written, with everything written with it: its audit event, its
    search-index entries and newsletter memberships, the claims on its e-mails. :attr:`items` go
    in one transaction, the caller's or :func:`create_contact`'s."""

    contact: Contact
    audit: AuditEvent
    entries: list[tuple[Model, Condition | None]] = field(default_factory=list)
    claims: list[UniqueKey] = field(default_factory=list)

    @property
    def items(self) -> list[tuple[Model, Condition | None]]:
        """``(item, condition)`` pairs to save; the contact only if its id is new, each of its
        e-mails only if no other contact of the venue has it."""
        return [(self.contact, Contact.id.does_not_exist()), (self.audit, None), *self.entries,
                *((claim, UniqueKey.key.does_not_exist()) for claim in self.claims)]


def prepare_contact(actor: Actor, fields: dict[str, Any]) -> NewContact:
    """A new contact from request-shaped ``fields`` (see :func:`_as_attributes`), not written:
    the contact, its audit event, its search-index entries, and its newsletter memberships if an
    e-mail's newsletter consent is ticked. Its criterion names are registered now, before any
    write of it (:mod:`.criteria`)."""
    from chalicelib.services.contacts import criteria
    from chalicelib.services.contacts.mailing_lists import newsletter_changes
    from chalicelib.services.contacts.search import index_changes

    values = _as_attributes(fields, None)
    criteria.register(actor.tenant_id, values.get("criteria") or {})
    values["search_name"] = search_name(values.get("last_name"), values.get("first_name"))
    contact = Contact(tenant_id=actor.tenant_id, id=ids.new_id(), **values)
    contact.set_index_keys()
    puts, _ = index_changes(contact)
    lists = newsletter_changes(actor, contact, set())
    return NewContact(contact, audit_event(actor, Contact.entity_type, contact.id, "create", None,
                                           _audited(contact)), [(entry, None) for entry in [*puts, *lists]],
                      [email_claim(actor.tenant_id, email.address, contact.id) for email in contact.emails])


class DuplicateContact(Duplicate):
    kind = "duplicate-contact"
    title = "Another contact of the venue already has this e-mail"
    title_fr = "Un autre contact de la salle a déjà cette adresse e-mail"


def email_claim(tenant_id: str, address: str, contact_id: str) -> UniqueKey:
    """The claim that makes an e-mail one contact's within a venue (its normalised form)."""
    value = address.strip().lower().replace("#", "%23")
    return UniqueKey(key=tenant_key(tenant_id, "contact", "email", value), entity_type=Contact.entity_type,
                     entity_id=contact_id, label="emails")


def contact_with_email(tenant_id: str, address: str) -> str | None:
    """The id of the venue's contact whose e-mail ``address`` is, if any."""
    try:
        return UniqueKey.get(email_claim(tenant_id, address, "").key, consistent_read=True).entity_id
    except UniqueKey.DoesNotExist:
        return None


def _duplicate_of(contact: Contact, claimed: set[str]) -> DuplicateContact | None:
    """The ``claimed`` e-mails another contact holds, named with that contact (``None`` if none does)."""
    errors, holders = [], []
    for position, email in enumerate(contact.emails):
        if email.address.lower() not in claimed:
            continue
        holder = contact_with_email(contact.tenant_id, email.address)
        if holder and holder != contact.id:
            errors.append(FieldError(f"emails.{position}", f"already the e-mail of contact {holder}"))
            holders.append(holder)
    if not errors:
        return None
    return DuplicateContact(f"Contact {', '.join(dict.fromkeys(holders))} already has this e-mail: open that record, "
                            "or merge the two.", errors=errors)


def _audited(contact: Contact) -> dict | None:
    """The contact as the audit trail keeps it (its search tokens are derived: left out)."""
    values = snapshot(contact)
    if values:
        values.pop("search_tokens", None)
    return values


def prepare_buyer_contact(actor: Actor, buyer: Buyer) -> NewContact:
    """A new contact made from an order's buyer (names, language, e-mail), not written: the
    settlement that needs it writes it in its own transaction."""
    return prepare_contact(actor, {
        "title": buyer.title, "first_name": buyer.first_name, "last_name": buyer.last_name,
        "language": buyer.language or "fr", "emails": [{"address": buyer.email}] if buyer.email else []})


def create_contact(actor: Actor, fields: dict[str, Any]) -> Contact:
    """Create a contact (409 ``duplicate-contact`` naming the contact that has one of its e-mails)."""
    new = prepare_contact(actor, fields)
    try:
        with TransactWrite(connection=connection()) as transaction:
            for item, condition in new.items:
                transaction.save(item, condition=condition)
    except TransactWriteError as error:
        claimed = {email.address.lower() for email in new.contact.emails}
        raise (_duplicate_of(new.contact, claimed) or ConcurrentChange("Please try again.")) from error
    return new.contact


def update_contact(actor: Actor, contact_id: str, changes: dict[str, Any], *, read_at_version: int | None = None
                   ) -> Contact:
    """Apply staff's ``changes`` (already validated) under the contact's version, with its audit
    event and its search-index entries in one transaction. ``read_at_version``: the version the
    changes were made from (a form shown earlier); if the record changed since, 409 and nothing
    written, rather than the whole lists of a stale form replacing what someone else wrote."""
    from chalicelib.services.contacts.mailing_lists import newsletter_changes

    contact = get_contact(actor, contact_id)
    refuse_closed(contact)
    refuse_if_changed(contact, read_at_version, f"Contact {contact_id}")
    before = _audited(contact)
    values = _as_attributes(changes, contact)
    if {"last_name", "first_name"} & values.keys():
        values["search_name"] = search_name(values.get("last_name", contact.last_name),
                                            values.get("first_name", contact.first_name))
    previous_emails = [email.address for email in contact.emails]
    consented = {email.address.lower() for email in contact.emails if email.newsletter_consent}
    for name, value in values.items():
        setattr(contact, name, value)
    contact.updated_at = clock.now()
    contact.set_index_keys()
    write_contact(actor, contact, action="update", before=before, previous_emails=previous_emails,
                  also=newsletter_changes(actor, contact, consented))
    return contact


def record_system_fields(actor: Actor, contact_id: str, fields: dict[str, str]) -> Contact:
    """The system fills facts on the contact (a subscriber number when a subscription is sold,
    a customer number...): merged over those it holds, audited, searchable at once. Staff edits
    never reach this; a closed record takes nothing (409)."""
    contact = get_contact(actor, contact_id)
    refuse_closed(contact)
    before = _audited(contact)
    contact.system_fields = {**(plain(contact.system_fields) or {}), **fields}
    contact.updated_at = clock.now()
    write_contact(actor, contact, action="system-fields", before=before,
                  previous_emails=[email.address for email in contact.emails])
    return contact


def write_contact(actor: Actor, contact: Contact, *, action: str, before: dict | None,
                  previous_emails: list[str] | None = None, also: list = (), details: dict | None = None) -> None:
    """Save a changed contact (version checked) with its audit event (``details`` added to what it
    says after), its index entries and the claims on its e-mails (those it gained taken, those it
    lost given back; ``previous_emails`` ``None``: every e-mail of it claimed, as after a
    re-index), in one transaction. Its criterion names are registered first (:mod:`.criteria`)."""
    from chalicelib.services.contacts import criteria
    from chalicelib.services.contacts.search import index_changes

    criteria.register(contact.tenant_id, plain(contact.criteria) or {})
    puts, deletes = index_changes(contact)
    now = {email.address.lower() for email in contact.emails}
    was = {address.lower() for address in previous_emails} if previous_emails is not None else set()
    claims = [email_claim(contact.tenant_id, address, contact.id) for address in sorted(now - was)]
    releases = [email_claim(contact.tenant_id, address, contact.id) for address in sorted(was - now)]
    mine = UniqueKey.key.does_not_exist() | (UniqueKey.entity_id == contact.id)
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(contact)
            transaction.save(audit_event(actor, Contact.entity_type, contact.id, action, before,
                                         {**(_audited(contact) or {}), **(details or {})}))
            for entry in puts:
                transaction.save(entry)
            for entry in deletes:
                transaction.delete(entry)
            for claim in claims:
                transaction.save(claim, condition=mine)
            for released in releases:
                transaction.delete(released, condition=mine)
            for item in also:  # newsletter memberships the edit changes (versioned)
                transaction.save(item)
    except TransactWriteError as error:
        duplicate = _duplicate_of(contact, now - was)
        raise (duplicate or ConcurrentChange(f"Contact {contact.id} changed meanwhile; reload it and try again.")) \
            from error


def get_contact(actor: Actor, contact_id: str) -> Contact:
    return get_record(actor, Contact, contact_id)


def list_contacts(actor: Actor, *, name_prefix: str | None, limit: int, cursor: str | None) -> Page[Contact]:
    """All contacts in creation order, or those whose "last first" name starts with ``name_prefix``."""
    if not name_prefix:
        return list_records(actor, Contact, limit=limit, cursor=cursor)
    prefix = fold(name_prefix)
    return paged(
        f"contacts-by-name:{actor.tenant_id}:{prefix}",
        cursor,
        lambda start: Contact.by_name.query(actor.tenant_id, starting_with(Contact.search_name, prefix),
                                            limit=limit, last_evaluated_key=start),
    )


def note_delivery_fact(tenant_id: str, contact_id: str, address: str, *, undeliverable: bool, complained: bool,
                       note: str, at) -> Contact | None:
    """What the mail system learned about one of the contact's addresses (system change, audited).

    Facts only accumulate here: a later good delivery does not clear ``undeliverable``;
    staff clear it by correcting the address. The note is the newest event's: an older event
    arriving late adds its fact but does not replace a newer note."""
    actor = Actor.system(tenant_id, "mail-events")
    for _ in range(5):  # a staff edit may land in between: read again and reapply
        try:
            contact = get_contact(actor, contact_id)
        except NotFound:
            return None
        entry = next((email for email in contact.emails if email.address.lower() == address.lower()), None)
        if entry is None:
            return contact
        before = snapshot(contact)
        entry.undeliverable = entry.undeliverable or undeliverable
        entry.complained = entry.complained or complained
        if entry.delivery_noted_at is None or at >= entry.delivery_noted_at:  # events arrive out of order
            entry.delivery_note, entry.delivery_noted_at = note[:500], at
        try:
            write_audited(actor, contact, action="delivery-fact", before=before)
            return contact
        except ConcurrentChange:
            continue
    raise ConcurrentChange(f"contact {contact_id} kept changing; delivery fact not recorded")


class MergedRecord(Conflict):
    kind = "merged-record"
    title = "This customer record was merged into another; use that one"
    title_fr = "Cette fiche client a été fusionnée dans une autre : utilisez celle-là"


class ErasedRecord(Conflict):
    kind = "erased-record"
    title = "This customer record was erased at the person's request"
    title_fr = "Cette fiche client a été effacée à la demande de la personne"


def refuse_closed(contact: Contact) -> None:
    """A record merged into another, or erased, takes no change (409)."""
    if contact.merged_into:
        raise MergedRecord(f"Contact {contact.id} was merged into {contact.merged_into}; edit that record.")
    if contact.erasure_started_at:
        raise ErasedRecord(f"Contact {contact.id} was erased at the person's request.")


def mergeable(actor: Actor, kept_id: str, other_id: str) -> tuple[Contact, Contact]:
    """The two records of a merge, read; refused as :func:`mark_merging` refuses (422 merging a
    record into itself, 409 into a closed record, a record merged into another one already, or a
    record being erased: the person asked to be forgotten, so nothing of theirs may join another)."""
    if kept_id == other_id:
        raise InvalidInput("A record cannot be merged into itself.", errors=[FieldError("other_id", "the same")])
    kept, other = get_contact(actor, kept_id), get_contact(actor, other_id)
    refuse_closed(kept)
    if other.merged_into and other.merged_into != kept_id:
        raise MergedRecord(f"Contact {other_id} was merged into {other.merged_into} already.")
    if other.erasure_started_at:
        raise ErasedRecord(f"Contact {other_id} is erased at the person's request; nothing of it can be merged.")
    return kept, other


@dataclass
class Absorbed:
    """What of another record joins the kept one in a merge: the e-mails (with their consent and
    delivery facts), phones and addresses it lacks, and the criteria and system fields it has no
    value for (the kept record's values win)."""

    emails: list[EmailEntry]
    phones: list[PhoneEntry]
    addresses: list[AddressEntry]
    criteria: dict[str, str]
    system_fields: dict[str, str]


def absorbed(kept: Contact, other: Contact) -> Absorbed:
    known = {email.address.lower() for email in kept.emails}
    phones = {phone.number for phone in kept.phones}
    places = {(a.line1, a.postcode, a.city) for a in kept.addresses}
    kept_criteria, kept_fields = plain(kept.criteria) or {}, plain(kept.system_fields) or {}
    return Absorbed(
        emails=[email for email in other.emails if email.address.lower() not in known],
        phones=[phone for phone in other.phones if phone.number not in phones],
        addresses=[a for a in other.addresses if (a.line1, a.postcode, a.city) not in places],
        criteria={name: value for name, value in (plain(other.criteria) or {}).items() if name not in kept_criteria},
        system_fields={name: value for name, value in (plain(other.system_fields) or {}).items()
                       if name not in kept_fields})


def mark_merging(actor: Actor, kept_id: str, other_id: str) -> tuple[Contact, Contact]:
    """Start merging ``other_id`` into ``kept_id``: the other record is marked (it refuses edits
    and new orders from now on). Asking again for the same merge is harmless; for another, 409."""
    kept, other = mergeable(actor, kept_id, other_id)
    if not other.merged_into:
        before = _audited(other)
        other.merged_into = kept_id
        write_contact(actor, other, action="merge-started", before=before,
                      previous_emails=[email.address for email in other.emails])
    return kept, other


def absorb(actor: Actor, kept_id: str, other_id: str) -> Contact:
    """End a merge: ``other_id``'s e-mails (with their consent and delivery facts), phones and
    addresses join ``kept_id``'s, its criteria and system fields fill what the kept record lacks,
    and the other becomes a redirect with nothing personal left, out of search. One transaction:
    both records (versions checked), the e-mails' claims handed over, both records' index
    entries, both audit events. Done already: nothing more."""
    for _ in range(5):
        kept, other = get_contact(actor, kept_id), get_contact(actor, other_id)
        if other.merged_at:
            return kept
        kept_before, other_before = _audited(kept), _audited(other)
        joining = absorbed(kept, other)
        moved = joining.emails
        kept.emails = list(kept.emails) + moved
        kept.phones = list(kept.phones) + joining.phones
        kept.addresses = list(kept.addresses) + joining.addresses
        kept.criteria = {**(plain(kept.criteria) or {}), **joining.criteria}
        kept.system_fields = {**(plain(kept.system_fields) or {}), **joining.system_fields}
        other.emails, other.phones, other.addresses = [], [], []
        other.merged_at = kept.updated_at = other.updated_at = clock.now()
        try:
            _write_merge(actor, kept, other, moved, kept_before, other_before)
            return kept
        except TransactWriteError:
            continue
    raise ConcurrentChange(f"Contacts {kept_id} and {other_id} kept changing; the merge will try again.")


def _write_merge(actor: Actor, kept: Contact, other: Contact, moved, kept_before: dict, other_before: dict) -> None:
    from chalicelib.services.contacts.search import index_changes

    kept_puts, kept_deletes = index_changes(kept)
    other_puts, other_deletes = index_changes(other)
    with TransactWrite(connection=connection()) as transaction:
        transaction.save(kept)
        transaction.save(other)
        for email in moved:  # the claim changes hands: still one contact per e-mail at every moment
            claim = email_claim(kept.tenant_id, email.address, other.id)
            transaction.update(claim, actions=[UniqueKey.entity_id.set(kept.id),
                                               UniqueKey.entity_type.set(Contact.entity_type),
                                               UniqueKey.label.set("emails")],
                               condition=UniqueKey.key.does_not_exist() | (UniqueKey.entity_id == other.id))
        for entry in kept_puts + other_puts:
            transaction.save(entry)
        for entry in kept_deletes + other_deletes:
            transaction.delete(entry)
        transaction.save(audit_event(actor, Contact.entity_type, kept.id, "merge-absorbed", kept_before,
                                     {**_audited(kept), "from_contact_id": other.id}))
        transaction.save(audit_event(actor, Contact.entity_type, other.id, "merged", other_before,
                                     _audited(other)))


def start_erasure(actor: Actor, contact_id: str) -> Contact:
    """Mark the record as being erased: from now on it refuses edits, new orders and lists, and
    leaves search. Asking again is harmless."""
    contact = get_contact(actor, contact_id)
    if contact.merged_into:
        raise MergedRecord(f"Contact {contact_id} was merged into {contact.merged_into}; erase that record.")
    if not contact.erasure_started_at:
        contact.erasure_started_at = clock.now()
        write_contact(actor, contact, action="erasure-started", before=None,
                      previous_emails=[email.address for email in contact.emails])
    return contact


def erase_record(actor: Actor, contact_id: str, *, reason: str) -> Contact:
    """The last step of an erasure: the record keeps its id and nothing personal; its e-mails'
    claims are given back, its index entries deleted, its mailing lists (and the consents'
    proofs) deleted, its past audit events reduced to who did what and when; the erasure's own
    event says who erased it and why. Done already: nothing more."""
    from chalicelib.models.mailing_lists import ListMembership

    contact = get_contact(actor, contact_id)
    if contact.erased_at:
        return contact
    emails = [email.address for email in contact.emails]
    for membership in ListMembership.query(tenant_key(actor.tenant_id, contact_id), consistent_read=True):
        membership.delete()
    scrub(actor.tenant_id, Contact.entity_type, contact_id, lambda values: None)
    contact.title = contact.first_name = None
    contact.last_name, contact.search_name = "Effacé", "efface"
    contact.emails, contact.phones, contact.addresses = [], [], []
    contact.criteria, contact.system_fields, contact.contact_type = {}, {}, None
    contact.erased_at = contact.updated_at = clock.now()
    write_contact(actor, contact, action="erased", before=None, previous_emails=emails,
                  details={"reason": reason[:300]})
    return contact