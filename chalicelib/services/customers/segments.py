"""Segments (DOMAIN §5): groups of customers staff define as saved rules over the record, and
who belongs to them.

**Rules.** A member meets every rule of the segment; a rule marked ``negated`` is met by those
who do not meet it:

- ``criterion``: staff's criterion ``name`` has ``value`` (accents and case ignored), or any
  value when none is given;
- ``language``: the contact's language;
- ``postcode_prefix``: one of the contact's addresses has a postcode starting so (spaces ignored);
- ``bought_in_season``: the contact bought, as buyer, a show or package of the season (a sale
  still held: complete or partly; a refunded or cancelled order is not a purchase);
- ``subscriber``: the system filled a subscriber number on the contact;
- ``has_credit``: the contact's credit balance is above zero;
- ``donated_more_than``: the contact's donations add up to more than ``amount_cents``.

**Membership is computed, never stored**, so it cannot go stale: when the record is read
(:func:`segments_of`) and by the job that lists a segment's members as a CSV file for Excel
(:func:`start_members_export`, job kind ``customers.segment_members``). The facts a rule
needs are read only when a rule needs them, the contact's own rules first: a contact that
already fails on its language or postcode costs nothing more. The dearer facts cost, per
contact still in: one GetItem (credit), one Query of their donations, one Query of their
order entries (purchases; each season's products are read once per request or chunk).

**The members job** walks the venue's contacts partition by pages (a Query, never a Scan),
skipping merged and erased records, and writes one row per member through
:mod:`~chalicelib.services.jobs.csv_files` (one multipart upload across chunks, safe to run
a chunk twice). The segment's rules are copied into the job when it starts: the file is the
segment as staff asked for it, even if someone edits the rules meanwhile.
"""
from __future__ import annotations

import json
from functools import cached_property
from typing import Any, Callable

from chalicelib.adapters import clock
from chalicelib.config import settings
from chalicelib.errors import Conflict
from chalicelib.models.base import tenant_key
from chalicelib.models.catalog import Product, Season
from chalicelib.models.contacts import Contact
from chalicelib.models.jobs import Job
from chalicelib.models.orders import OrderListing
from chalicelib.models.segments import Segment
from chalicelib.services.jobs.csv_files import PAUSE, FileKind, file_job_kind, neutralised
from chalicelib.services.jobs.framework import start_job
from chalicelib.services.money import customer_money
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import plain
from chalicelib.services.shared.records import RecordKind, get_record, require_reference
from chalicelib.values.text import fold

MEMBERS_EXPORT = "customers.segment_members"
MAX_SEGMENTS = 100  # per venue: the record evaluates them all
PAGE = 200  # contacts per Query in the members job
CONTACT_RULES = frozenset({"criterion", "language", "postcode_prefix", "subscriber"})  # no read beyond the contact
BOUGHT_STATUSES = frozenset({"complete", "partially_complete"})


class TooManySegments(Conflict):
    kind = "too-many-segments"
    title = "The venue has as many segments as it may"
    title_fr = "La salle a déjà autant de segments qu'elle peut en avoir"


def _check(actor: Actor, segment: Segment, before: dict | None) -> None:
    """The seasons the rules name are the venue's (422 on ``rules.<n>.season_id``); a new segment
    fits under :data:`MAX_SEGMENTS`."""
    for position, rule in enumerate(segment.rules):
        if rule["kind"] == "bought_in_season":
            require_reference(actor, Season, rule["season_id"], f"rules.{position}.season_id")
    if before is None and Segment.count(actor.tenant_id, limit=MAX_SEGMENTS) >= MAX_SEGMENTS:
        raise TooManySegments(f"A venue has at most {MAX_SEGMENTS} segments; change or reuse one.")


segments = RecordKind(Segment, rules=_check)


# -- the facts a rule reads ------------------------------------------------------------------


class SeasonProducts:
    """The products of each season named, read once (a Query of the season's products)."""

    def __init__(self, tenant_id: str) -> None:
        self._tenant_id = tenant_id
        self._known: dict[str, frozenset[str]] = {}

    def of(self, season_id: str) -> frozenset[str]:
        if season_id not in self._known:
            self._known[season_id] = frozenset(product.id for product in Product.by_season.query(
                tenant_key(self._tenant_id, season_id)))
        return self._known[season_id]


class Facts:
    """What the rules may ask about one contact; each dear fact is read the first time asked."""

    def __init__(self, actor: Actor, contact: Contact, seasons: SeasonProducts) -> None:
        self._actor, self.contact, self._seasons = actor, contact, seasons

    @cached_property
    def credit_cents(self) -> int:
        return customer_money.credit_balance(self._actor, self.contact.id)

    @cached_property
    def donated_cents(self) -> int:
        return customer_money.donations_total(self._actor, self.contact.id)

    @cached_property
    def bought_products(self) -> frozenset[str]:
        entries = OrderListing.query(tenant_key(self.contact.tenant_id, "contact", self.contact.id))
        return frozenset(product for entry in entries
                         if entry.kind == "sale" and entry.status in BOUGHT_STATUSES
                         for product in entry.product_ids or ())

    def bought_in(self, season_id: str) -> bool:
        return not self.bought_products.isdisjoint(self._seasons.of(season_id))


def _postcodes(contact: Contact) -> list[str]:
    return [address.postcode.replace(" ", "") for address in contact.addresses or [] if address.postcode]


def _criterion_met(contact: Contact, name: str, value: str | None) -> bool:
    held = {fold(key): fold(str(given)) for key, given in (plain(contact.criteria) or {}).items() if given}
    return fold(name) in held and (value is None or held[fold(name)] == fold(value))


_TESTS: dict[str, Callable[[dict, Facts], bool]] = {
    "criterion": lambda rule, facts: _criterion_met(facts.contact, rule["name"], rule.get("value")),
    "language": lambda rule, facts: facts.contact.language == rule["language"],
    "postcode_prefix": lambda rule, facts: any(code.startswith(rule["prefix"].replace(" ", ""))
                                               for code in _postcodes(facts.contact)),
    "subscriber": lambda rule, facts: bool((plain(facts.contact.system_fields) or {}).get("subscriber_number")),
    "bought_in_season": lambda rule, facts: facts.bought_in(rule["season_id"]),
    "has_credit": lambda rule, facts: facts.credit_cents > 0,
    "donated_more_than": lambda rule, facts: facts.donated_cents > int(rule["amount_cents"]),
}


def meets(rules: list[dict], facts: Facts) -> bool:
    """Whether the contact meets every rule; the contact's own rules are tried first, so the
    dearer facts are read only for a contact still in."""
    if facts.contact.closed:
        return False
    ordered = sorted(rules, key=lambda rule: rule["kind"] not in CONTACT_RULES)
    return all(_TESTS[rule["kind"]](rule, facts) != bool(rule.get("negated")) for rule in ordered)


def segments_of(actor: Actor, contact: Contact) -> list[Segment]:
    """The venue's segments the contact belongs to now, by name."""
    seasons = SeasonProducts(actor.tenant_id)
    facts = Facts(actor, contact, seasons)
    found = [segment for segment in Segment.query(actor.tenant_id, limit=MAX_SEGMENTS) if meets(segment.rules, facts)]
    return sorted(found, key=lambda segment: fold(segment.name))


# -- the members, as a file ------------------------------------------------------------------


def start_members_export(actor: Actor, segment_id: str) -> Job:
    """A job writing the segment's members as CSV (download: ``GET /jobs/{job_id}/download``)."""
    from zoneinfo import ZoneInfo

    segment = get_record(actor, Segment, segment_id)
    today = clock.now().astimezone(ZoneInfo(settings.default_timezone)).date()
    return start_job(actor, MEMBERS_EXPORT, {"segment_id": segment.id, "rules": segment.rules,
                                             "file_name": f"segment-{today.isoformat()}.csv"})


class Members:
    """The members among the venue's contacts, from a page's start key and an offset in it
    (a :class:`~chalicelib.services.jobs.csv_files.RowSource`; it pauses before a Query)."""

    def __init__(self, actor: Actor, rules: list[dict], position: dict, pause: Callable[[], bool]) -> None:
        self._actor, self._rules, self._pause = actor, rules, pause
        self._seasons = SeasonProducts(actor.tenant_id)
        self.page_start: str | None = position.get("page")
        self.offset: int = position.get("offset", 0)
        self._page: list[Contact] | None = None
        self._following: str | None = None
        self._queried = False
        self.skipped = 0

    def next(self) -> Any:
        while True:
            if self._page is None:
                if self._queried and self._pause():
                    return PAUSE
                self._read_page()
            while self.offset < len(self._page):
                contact = self._page[self.offset]
                self.offset += 1
                if meets(self._rules, Facts(self._actor, contact, self._seasons)):
                    return contact
            if self._following is None:
                return None
            self.page_start, self.offset, self._page = self._following, 0, None

    def _read_page(self) -> None:
        start = json.loads(self.page_start) if self.page_start else None
        found = Contact.query(self._actor.tenant_id, limit=PAGE, last_evaluated_key=start)
        self._page = list(found)
        last = found.last_evaluated_key
        self._following = json.dumps(last, sort_keys=True) if last else None
        self._queried = True

    def position(self) -> dict:
        return {"page": self.page_start, "offset": self.offset}


HEADER = ("N° client", "Civilité", "Prénom", "Nom", "E-mail", "Accord lettre d'information", "Téléphone",
          "Adresse", "Code postal", "Ville", "Pays", "Langue")


def member_row(contact: Contact) -> list[str]:
    """A member's cells, in :data:`HEADER`'s order: their first e-mail, phone and address."""
    email = (contact.emails or [None])[0]
    phone = (contact.phones or [None])[0]
    address = (contact.addresses or [None])[0]
    street = ", ".join(part for part in (address.line1, address.line2) if part) if address else ""
    return [
        neutralised(str((plain(contact.system_fields) or {}).get("customer_number") or "")),
        neutralised(contact.title), neutralised(contact.first_name), neutralised(contact.last_name),
        neutralised(email.address if email else ""), ("oui" if email.newsletter_consent else "non") if email else "",
        neutralised(phone.number if phone else ""), neutralised(street),
        neutralised(address.postcode if address else ""), neutralised(address.city if address else ""),
        address.country if address else "", contact.language or ""]


file_job_kind(MEMBERS_EXPORT, FileKind(
    header=HEADER, source=lambda actor, params, position, pause: Members(actor, params["rules"], position, pause),
    cells=lambda contact, params: member_row(contact)))
