"""Season cards on RFID printers (DOMAIN §4, ``docs/cards.md``): the venue's sites and printers,
the print jobs sent to them, and the cards printed.

- :class:`CardSite` (table ``card_sites``; hash tenant, range ULID): a place with card printers
  and one edge agent, and the name of its SQS FIFO print queue.
- :class:`CardPrinter` (table ``card_printers``; hash tenant, range ULID): a printer of a site,
  with what its agent last reported (state, the printer's reasons, ribbon remaining, the time
  of the last heartbeat). Index ``card_printers_by_site``.
- :class:`PrintJob` (table ``print_jobs``; hash tenant, range ULID): one card to print for one
  subscription, and its state (queued → taken → printed | failed | uncertain | cancelled).
  Indexes (keys only; listings read the items in one batch):
  ``print_jobs_by_printer`` (``tenant#printer``, ``state#id``: a printer's jobs by state, and
  its queue length as two counted Queries), ``print_jobs_by_state`` (``tenant#state``),
  ``print_jobs_by_subscription`` and ``print_jobs_by_batch`` (the mass print that made it;
  sparse).
- :class:`Card` (table ``cards``; hash tenant, range ULID = the print job's id): a printed card,
  its UID, its holder and the subscriptions it carries; active or revoked. A UID is claimed
  through ``unique_keys`` (``tenant#card#uid#<UID>``) by the card that holds it, and stays
  claimed when the card is revoked, so a lost card's UID is recognised (and refused) at the
  door and never bound again. Index ``cards_by_holder``.
"""
from __future__ import annotations

from pynamodb.attributes import BooleanAttribute, ListAttribute, NumberAttribute, UnicodeAttribute, UTCDateTimeAttribute
from pynamodb.indexes import GlobalSecondaryIndex, KeysOnlyProjection

from chalicelib.models.base import TenantEntity, index_meta, table_meta, tenant_key

JOB_STATES = ("queued", "taken", "printed", "failed", "uncertain", "cancelled")
FINAL_STATES = ("printed", "failed", "uncertain", "cancelled")
OPEN_STATES = ("queued", "taken")
PRINTER_STATES = ("unknown", "ready", "warning", "error", "offline")
CARD_STATES = ("active", "revoked")


def state_rank(state: str) -> int:
    """Results are applied in this order only: a state never moves back to a lower rank."""
    return 0 if state == "queued" else 1 if state == "taken" else 2


class CardSite(TenantEntity):
    entity_type = "card_site"
    Meta = table_meta("card_sites")

    name = UnicodeAttribute()
    venue_id = UnicodeAttribute(null=True)  # the venue whose name the cards printed here show
    queue_name = UnicodeAttribute()  # {print_queue_prefix}{site_id}.fifo
    key_id = UnicodeAttribute(null=True)  # the signing key its agent key is derived from (kept across rotations)
    logo_key = UnicodeAttribute(null=True)  # the venue's logo for the cards printed here, in the card-images bucket
    created_by = UnicodeAttribute()

    @property
    def has_logo(self) -> bool:
        return bool(self.logo_key)


WATCHED = "active"


class PrintersBySite(GlobalSecondaryIndex):
    Meta = index_meta("card_printers_by_site", KeysOnlyProjection())

    site_key = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class PrintersByContact(GlobalSecondaryIndex):
    """Every venue's active printers by their last contact: the silent ones are a range of it.
    Across venues by design, like the due-action days: read by the operator's alarm only."""

    Meta = index_meta("card_printers_by_contact", KeysOnlyProjection())

    watched = UnicodeAttribute(hash_key=True)
    last_contact_at = UTCDateTimeAttribute(range_key=True)


class CardPrinter(TenantEntity):
    entity_type = "card_printer"
    Meta = table_meta("card_printers")

    site_id = UnicodeAttribute()
    name = UnicodeAttribute()
    model = UnicodeAttribute()
    encoder = BooleanAttribute(default=False)  # a contactless encoder reads each card's UID
    active = BooleanAttribute(default=True)
    # What the agent last reported (heartbeats are not audited: they change no staff decision).
    state = UnicodeAttribute(default="unknown")
    reasons = ListAttribute(of=UnicodeAttribute, null=True)
    ribbon_remaining = NumberAttribute(null=True)
    current_job_id = UnicodeAttribute(null=True)
    agent_version = UnicodeAttribute(null=True)
    reported_at = UTCDateTimeAttribute(null=True)  # the ``at`` of the heartbeat shown (older ones are ignored)
    last_contact_at = UTCDateTimeAttribute(null=True)  # when the app last heard of this printer
    site_key = UnicodeAttribute()
    watched = UnicodeAttribute(null=True)  # WATCHED while active: in the silence watch (printers_by_contact)

    by_site = PrintersBySite()
    by_contact = PrintersByContact()

    def set_index_keys(self) -> None:
        self.site_key = tenant_key(self.tenant_id, self.site_id)
        self.watched = WATCHED if self.active else None


class PrintJobsByPrinter(GlobalSecondaryIndex):
    Meta = index_meta("print_jobs_by_printer", KeysOnlyProjection())

    printer_key = UnicodeAttribute(hash_key=True)
    printer_order = UnicodeAttribute(range_key=True)  # state#id


class PrintJobsByState(GlobalSecondaryIndex):
    Meta = index_meta("print_jobs_by_state", KeysOnlyProjection())

    state_key = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class PrintJobsBySubscription(GlobalSecondaryIndex):
    Meta = index_meta("print_jobs_by_subscription", KeysOnlyProjection())

    subscription_key = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class PrintJobsByBatch(GlobalSecondaryIndex):
    Meta = index_meta("print_jobs_by_batch", KeysOnlyProjection())

    batch_key = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class PrintJob(TenantEntity):
    entity_type = "print_job"
    Meta = table_meta("print_jobs")

    site_id = UnicodeAttribute()
    printer_id = UnicodeAttribute()
    subscription_id = UnicodeAttribute()
    holder_contact_id = UnicodeAttribute()
    batch_job_id = UnicodeAttribute(null=True)  # the mass print (a job of the jobs framework) that made it
    encode = BooleanAttribute(default=True)
    state = UnicodeAttribute(default="queued")
    reason = UnicodeAttribute(null=True)
    detail = UnicodeAttribute(null=True)
    uid = UnicodeAttribute(null=True)
    flags = ListAttribute(of=UnicodeAttribute, null=True)  # uid_conflict, cancel_too_late, resolved_by_staff
    card_id = UnicodeAttribute(null=True)
    front_key = UnicodeAttribute(null=True)
    back_key = UnicodeAttribute(null=True)
    sent_at = UTCDateTimeAttribute(null=True)  # the print message was accepted by SQS
    state_at = UTCDateTimeAttribute(null=True)  # the agent's time of the result applied last
    cancel_requested_at = UTCDateTimeAttribute(null=True)
    replaced_by = UnicodeAttribute(null=True)  # an uncertain job staff chose to print again: the new job
    created_by = UnicodeAttribute()
    printer_key = UnicodeAttribute()
    printer_order = UnicodeAttribute()
    state_key = UnicodeAttribute()
    subscription_key = UnicodeAttribute()
    batch_key = UnicodeAttribute(null=True)

    by_printer = PrintJobsByPrinter()
    by_state = PrintJobsByState()
    by_subscription = PrintJobsBySubscription()
    by_batch = PrintJobsByBatch()

    def set_index_keys(self) -> None:
        self.printer_key = tenant_key(self.tenant_id, self.printer_id)
        self.printer_order = f"{self.state}#{self.id}"
        self.state_key = tenant_key(self.tenant_id, self.state)
        self.subscription_key = tenant_key(self.tenant_id, self.subscription_id)
        self.batch_key = tenant_key(self.tenant_id, self.batch_job_id) if self.batch_job_id else None


class CardsByHolder(GlobalSecondaryIndex):
    Meta = index_meta("cards_by_holder", KeysOnlyProjection())

    holder_key = UnicodeAttribute(hash_key=True)
    id = UnicodeAttribute(range_key=True)


class Card(TenantEntity):
    entity_type = "card"
    Meta = table_meta("cards")

    uid = UnicodeAttribute(null=True)  # None: printed without an encoder (its signed code identifies it)
    holder_contact_id = UnicodeAttribute()
    subscription_ids = ListAttribute(of=UnicodeAttribute)  # the first printed on it, then those reloaded onto it
    state = UnicodeAttribute(default="active")
    site_id = UnicodeAttribute()
    printer_id = UnicodeAttribute()
    revoked_at = UTCDateTimeAttribute(null=True)
    revoked_reason = UnicodeAttribute(null=True)
    holder_key = UnicodeAttribute()

    by_holder = CardsByHolder()

    def set_index_keys(self) -> None:
        self.holder_key = tenant_key(self.tenant_id, self.holder_contact_id)

    def unique_values(self) -> dict[str, tuple[str, ...]]:
        # Kept when revoked: the UID of a lost card stays known (refused at the door, never bound again).
        return {"uid": (self.uid,)} if self.uid else {}
