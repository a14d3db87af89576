"""Finding a customer by anything in their record: one box, several words, prefixes, any order.

**The index.** Every word a contact can be found by (``values/search_terms.py``: names, e-mails,
phones in E.164 and the national writing, postcode, city, street words, the customer and
subscriber numbers) is one :class:`~chalicelib.models.contacts.ContactToken`, keyed
``tenant#tok#<first two characters>`` / ``token#kind#contact``. The contact keeps its own tokens
(``search_tokens``); :func:`index_changes` says which entries a write adds and removes, and the
contact's write carries them in **its own transaction**, so the index never shows a stale
record.

Tokens are spread over partitions by their first two characters, or first five digits for a
number (phones and postcodes cluster on a few leading digits), so a number is searched by its
start from five digits on; shorter, it is looked up whole (an order number, a short customer
number).

**A search** reads one page of the entries of its most telling term (a number or an e-mail, else
the longest word) whose token starts with it: one Query of a key range (``models.base.starting_with``), whole words first since
entries sort by token. It reads those contacts (one BatchGetItem) and keeps those whose tokens
also start with every other term, in any field. So a page costs one Query of ``limit`` small
entries and one batch of ``limit`` contacts, whatever the number of contacts; a page may show
fewer than ``limit`` (even none) with a cursor to go on, when other words narrow it.

**The order of a page**: a contact whose number, e-mail or phone is exactly what was typed, or
who bought the order of that number, first; then those found by a name; then the rest; by name
within each. The exact matches come first across pages too: they are looked up before the walk
and kept out of it.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

from chalicelib.errors import FieldError, InvalidInput
from chalicelib.models.base import starting_with, tenant_key
from chalicelib.models.contacts import Contact, ContactToken
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import plain
from chalicelib.services.shared.paging import Page, invalid_cursor, open_place, sign_place
from chalicelib.services.shared.records import by_ids
from chalicelib.values.search_terms import MIN_TERM_CHARS, RANKED_KINDS, Term, contact_tokens, query_terms

EXACT, NAME, OTHER = 0, 1, 2
EXACT_LIMIT = 20  # exact matches read per kind: a number, an e-mail or a phone names few people


def tokens_of(contact: Contact) -> dict[str, str]:
    """The contact's tokens as its record now says (none for a record merged into another, or
    being erased)."""
    if contact.closed:
        return {}
    return contact_tokens(
        last_name=contact.last_name, first_name=contact.first_name,
        emails=[email.address for email in contact.emails], phones=[phone.number for phone in contact.phones],
        addresses=[address.as_dict() for address in contact.addresses],
        numbers=[str(value) for name, value in (plain(contact.system_fields) or {}).items()
                 if name in ("customer_number", "subscriber_number") and value])


DIGIT_BUCKET = 5  # numbers cluster (every French phone starts 33 or 0x, Lyon's postcodes 690): longer buckets


def _bucket(tenant_id: str, token: str) -> str:
    """The partition of a token: its first two characters, or first five digits for a number."""
    head = token[:DIGIT_BUCKET] if token.isdigit() else token[:2]
    return tenant_key(tenant_id, "tok", head.replace("#", "_"))


def _walkable(term: Term) -> bool:
    """Whether a term's prefix can be walked: it names its whole bucket (a number of five digits
    or more, any other term of two characters or more). Shorter numbers are looked up exactly."""
    return len(term.text) >= (DIGIT_BUCKET if term.text.isdigit() else MIN_TERM_CHARS)


def entry(tenant_id: str, contact_id: str, token: str, kind: str) -> ContactToken:
    return ContactToken(bucket=_bucket(tenant_id, token), entry=f"{token}#{kind}#{contact_id}", kind=kind)


def _parsed(found: ContactToken) -> tuple[str, str]:
    """``(token, contact id)`` of an entry (a token may hold ``#``: an e-mail may)."""
    token, _, contact_id = found.entry.rsplit("#", 2)
    return token, contact_id


def index_changes(contact: Contact) -> tuple[list[ContactToken], list[ContactToken]]:
    """``(to_put, to_delete)`` for the contact's write, and its ``search_tokens`` set to match."""
    before = dict(contact.search_tokens or {})
    after = tokens_of(contact)
    contact.search_tokens = after
    puts = [entry(contact.tenant_id, contact.id, token, kind) for token, kind in after.items()
            if before.get(token) != kind]
    deletes = [entry(contact.tenant_id, contact.id, token, kind) for token, kind in before.items()
               if token not in after]
    return puts, deletes


@dataclass
class ContactHit:
    contact: Contact
    rank: int  # 0: exact number, e-mail, phone or order; 1: a name; 2: another field


def search(actor: Actor, query: str, *, limit: int, cursor: str | None) -> Page[ContactHit]:
    """One page of the contacts matching every word of ``query`` (see the module's docstring)."""
    try:
        terms = query_terms(query)
    except ValueError as error:
        raise InvalidInput(f"Search: {error}.", errors=[FieldError("q", str(error))]) from None
    driving = max(terms, key=lambda term: (bool(term.exact_kinds and term.exact_kinds[0] != "number"), len(term.text)))
    scope = f"contacts-search:{actor.tenant_id}:{'|'.join(term.text for term in terms)}"
    place = _opened(scope, cursor)
    hits: list[ContactHit] = []
    if place is None:
        hits = _exact_hits(actor, terms, driving)
        place = {"k": None, "x": [hit.contact.id for hit in hits]}
    entries, last = [], None
    if _walkable(driving):  # a short number (an order's) is looked up exactly, not walked
        results = ContactToken.query(_bucket(actor.tenant_id, driving.text),
                                     starting_with(ContactToken.entry, driving.text), limit=limit,
                                     last_evaluated_key=json.loads(place["k"]) if place["k"] else None)
        page = next(results.page_iter, None) or {}
        entries = [ContactToken.from_raw_data(raw) for raw in page.get("Items", [])]
        last = results.page_iter.last_evaluated_key
    hits += _walked_hits(actor, entries, terms, driving, shown=set(place["x"]))
    hits.sort(key=lambda hit: (hit.rank, hit.contact.search_name))
    next_cursor = sign_place(scope, {"k": json.dumps(last, sort_keys=True), "x": place["x"]}) if last else None
    return Page(items=hits, next_cursor=next_cursor)


def search_contacts(actor: Actor, query: str, *, limit: int, cursor: str | None) -> Page[Contact]:
    """:func:`search`'s page as the contacts themselves, best first."""
    page = search(actor, query, limit=limit, cursor=cursor)
    return Page(items=[hit.contact for hit in page.items], next_cursor=page.next_cursor)


def _opened(scope: str, cursor: str | None) -> dict | None:
    if not cursor:
        return None
    place = open_place(scope, cursor)
    if not isinstance(place.get("k"), str) or not isinstance(place.get("x"), list):
        raise invalid_cursor()
    return place


def _exact_hits(actor: Actor, terms: list[Term], driving: Term) -> list[ContactHit]:
    """Contacts whose number, e-mail or phone is exactly the term, or who bought order number ``term``."""
    if not driving.exact_kinds:
        return []
    ids = [_parsed(found)[1] for kind in driving.exact_kinds for found in ContactToken.query(
        _bucket(actor.tenant_id, driving.text), starting_with(ContactToken.entry, f"{driving.text}#{kind}#"),
        limit=EXACT_LIMIT)]
    buyers = _buyer_of_order_number(actor, driving.text)
    others = [term for term in terms if term != driving]
    contacts = by_ids(actor, Contact, ids + buyers)
    return [ContactHit(contact, EXACT) for contact_id in dict.fromkeys(ids + buyers)
            if (contact := contacts.get(contact_id)) is not None
            and _matches_all(contact, others if contact_id in buyers else terms)]


def _buyer_of_order_number(actor: Actor, text: str) -> list[str]:
    from chalicelib.models.orders import Order, OrderListing
    from chalicelib.values.text import number_in

    number = number_in(text)
    if number is None:
        return []
    listed = next(iter(OrderListing.query(tenant_key(actor.tenant_id, "number", str(number)), limit=1)), None)
    if listed is None:
        return []
    order = Order.get(actor.tenant_id, listed.order_id)
    return [order.buyer.contact_id] if order.buyer.contact_id else []


def _walked_hits(actor: Actor, entries: list[ContactToken], terms: list[Term], driving: Term,
                 *, shown: set[str]) -> list[ContactHit]:
    found = [_parsed(entry_) for entry_ in entries]
    contacts = by_ids(actor, Contact, [contact_id for _, contact_id in found if contact_id not in shown])
    hits, seen = [], set()
    for token, contact_id in found:
        contact = contacts.get(contact_id)
        if contact is None or contact_id in seen or not _matches_all(contact, terms):
            continue
        tokens = contact.search_tokens or {}
        if min(t for t in tokens if t.startswith(driving.text)) != token:
            continue  # shown where its first matching token stands, on this page or another
        seen.add(contact_id)
        hits.append(_ranked(contact, terms))
    return hits


def _matches_all(contact: Contact, terms: list[Term]) -> bool:
    """Every term starts one of the contact's tokens (a short number must be one of them whole)."""
    tokens = contact.search_tokens or {}
    return all(any(token.startswith(term.text) if _walkable(term) else token == term.text for token in tokens)
               for term in terms)


def _ranked(contact: Contact, terms: list[Term]) -> ContactHit:
    tokens = contact.search_tokens or {}
    matched = [kind for term in terms for token, kind in tokens.items() if token.startswith(term.text)]
    if any(tokens.get(term.text) in term.exact_kinds for term in terms if term.exact_kinds):
        return ContactHit(contact, EXACT)
    return ContactHit(contact, NAME if min(matched, key=RANKED_KINDS.index) == "name" else OTHER)
