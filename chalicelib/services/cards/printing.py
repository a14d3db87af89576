"""Printing a season card: the print job, its faces and its message, in a crash-safe order.

1. **The job record** (``queued``, audited), its id the card's id to be.
2. **The faces**, rendered (:mod:`.faces`) and written to the card-images bucket under
   ``{tenant}/{site}/{job}/front.png`` and ``back.png`` (the same keys again on a retry).
3. **The message** on the site's FIFO print queue: group = the printer (one printer prints its
   jobs in order), deduplication id = the job's id, faces as presigned GET URLs.
4. ``sent_at`` on the job.

A crash after 1 leaves a job without ``sent_at``; sending it again (:func:`send_job`: a second
print of the same subscription, or the mass print's re-run chunk) renders and sends the same
job: SQS drops a second message of the same job within five minutes, and the agent's journal,
keyed by job id, never prints a job twice after that. So one job, one card, whatever crashed.

Also here: cancelling a queued job (a marker object the agent looks for before it inserts a
card, ``{tenant}/{site}/cancelled/{job}``) and staff's decision on an **uncertain** job (the
agent stopped while printing): mark it printed with the UID read, or print a new card.
"""
from __future__ import annotations

from collections.abc import Iterable

from pynamodb.exceptions import DoesNotExist

from chalicelib.adapters import clock, fifo_queues, ids, signing, storage
from chalicelib.config import settings
from chalicelib.errors import ConcurrentChange, Conflict, Duplicate, InvalidInput
from chalicelib.models.base import starting_with, tenant_key
from chalicelib.models.cards import OPEN_STATES, CardPrinter, CardSite, PrintJob
from chalicelib.models.catalog import Product, Season, Venue
from chalicelib.models.contacts import Contact
from chalicelib.models.subscriptions import Subscription
from chalicelib.observability import logger
from chalicelib.services.cards import protocol
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import snapshot, write_audited
from chalicelib.services.shared.paging import Page, paged
from chalicelib.services.shared.records import by_ids, get_record, require_reference

CARD_CODE_PURPOSE = "card"
# A face's presigned URL: long enough for a queue that waits hours for a ribbon, never longer
# than the Lambda's role credentials that sign it; past it the agent reads the object itself.
FACE_URL_SECONDS = 12 * 60 * 60
PNG = "image/png"


class PrintRefused(Conflict):
    kind = "print-refused"
    title = "This card cannot be printed now"
    title_fr = "Cette carte ne peut pas être imprimée maintenant"


def card_code(tenant_id: str, card_id: str) -> str:
    """The signed code printed on a card (its QR code): admits like the card's UID."""
    return signing.sign(CARD_CODE_PURPOSE, {"t": tenant_id, "c": card_id})


def jobs_of_subscription(actor: Actor, subscription_id: str) -> list[PrintJob]:
    """A subscription's print jobs, oldest first."""
    keys = [entry.id for entry in PrintJob.by_subscription.query(tenant_key(actor.tenant_id, subscription_id))]
    found = by_ids(actor, PrintJob, keys)
    return [found[key] for key in keys if key in found]


def open_job_of(jobs: list[PrintJob]) -> PrintJob | None:
    """A subscription's job still open (queued or taken), if any: one card at a time. Once sent it
    holds back a new print; never sent (a crash), printing again sends it."""
    return next((job for job in jobs if job.state in OPEN_STATES), None)


def print_card(actor: Actor, subscription_id: str, printer_id: str, *, batch_job_id: str | None = None,
               job_id: str | None = None) -> PrintJob:
    """Print a card for the subscription on the printer. A job of the subscription still open is
    sent again if it was never sent, else refused (409): one card at a time per subscription.
    ``job_id`` (the mass print's, derived from its item) makes a retry find its own job."""
    subscription = get_record(actor, Subscription, subscription_id)
    printer = require_reference(actor, CardPrinter, printer_id, "printer_id")
    if not printer.active:
        raise InvalidInput.on("printer_id", "this printer is out of service")
    if subscription.state not in ("active", "in_arrears"):
        raise PrintRefused(f"Subscription {subscription.id} is {subscription.state}: no card is printed for it.")
    job = _existing(actor, job_id) if job_id else None
    if job is None:
        open_job = open_job_of(jobs_of_subscription(actor, subscription.id))
        if open_job is not None and open_job.sent_at is not None:
            raise PrintRefused(f"A card of this subscription is already being printed (job {open_job.id}).")
        job = open_job or _record(actor, subscription, printer, batch_job_id, job_id)
    if job.sent_at is None and job.state == "queued":
        send_job(actor, job)
    return job


def _existing(actor: Actor, job_id: str) -> PrintJob | None:
    try:
        return PrintJob.get(actor.tenant_id, job_id, consistent_read=True)
    except DoesNotExist:
        return None


def _record(actor: Actor, subscription: Subscription, printer: CardPrinter, batch_job_id: str | None,
            job_id: str | None) -> PrintJob:
    job = PrintJob(tenant_id=actor.tenant_id, id=job_id or ids.new_id(), site_id=printer.site_id, printer_id=printer.id,
                   subscription_id=subscription.id, holder_contact_id=subscription.holder_contact_id,
                   batch_job_id=batch_job_id, encode=bool(printer.encoder), state="queued", created_by=actor.subject)
    job.front_key = f"{actor.tenant_id}/{printer.site_id}/{job.id}/front.png"
    job.back_key = f"{actor.tenant_id}/{printer.site_id}/{job.id}/back.png"
    job.set_index_keys()
    try:
        write_audited(actor, job, action="create", before=None, condition=PrintJob.id.does_not_exist())
    except (ConcurrentChange, Duplicate):
        if job_id is None:
            raise
        return PrintJob.get(actor.tenant_id, job_id, consistent_read=True)  # a concurrent run recorded it first
    return job


def send_job(actor: Actor, job: PrintJob) -> None:
    """Steps 2 to 4 for a recorded job (again after a crash: same keys, same deduplication id)."""
    from chalicelib.services.cards import faces

    site = CardSite.get(actor.tenant_id, job.site_id)
    subscription = Subscription.get(actor.tenant_id, job.subscription_id)
    face = _face(actor, site, subscription, job.id)
    front, back = faces.render(face)
    bucket = settings.card_images_bucket
    storage.put_file(bucket, job.front_key, front, content_type=PNG)
    storage.put_file(bucket, job.back_key, back, content_type=PNG)
    message = protocol.print_message(
        tenant_id=job.tenant_id, site_id=job.site_id, printer_id=job.printer_id, job_id=job.id, encode=bool(job.encode),
        front=_face_ref(job.front_key), back=_face_ref(job.back_key),
        card={"holder": face.holder, "subscription_id": subscription.id, "season": face.season},
        sent_at=clock.now().strftime("%Y-%m-%dT%H:%M:%SZ"))
    fifo_queues.send_fifo(site.queue_name, message, group_id=job.printer_id, deduplication_id=job.id)
    job.update(actions=[PrintJob.sent_at.set(clock.now())], add_version_condition=False)


def _face_ref(key: str) -> dict:
    bucket = settings.card_images_bucket
    return {"url": storage.download_url(bucket, key, seconds=FACE_URL_SECONDS), "bucket": bucket, "key": key}


def _face(actor: Actor, site: CardSite, subscription: Subscription, card_id: str):
    from chalicelib.services.cards.faces import CardFace

    holder = get_record(actor, Contact, subscription.holder_contact_id)
    product = get_record(actor, Product, subscription.product_id)
    season = get_record(actor, Season, subscription.season_id)
    venue = by_ids(actor, Venue, [site.venue_id]).get(site.venue_id) if site.venue_id else None
    logo = storage.get_object(settings.card_images_bucket, site.logo_key) if site.logo_key else None
    return CardFace(venue=venue.name if venue else site.name, holder=holder_name(holder),
                    subscription=product.name, season=season.name, checkin_code=card_code(actor.tenant_id, card_id),
                    logo=logo)


# -- cancelling ------------------------------------------------------------------------------


def cancel_marker_key(job: PrintJob) -> str:
    return f"{job.tenant_id}/{job.site_id}/cancelled/{job.id}"


def cancel_print_job(actor: Actor, job_id: str) -> PrintJob:
    """Ask the agent not to print a queued job (audited). A job never sent is cancelled at once;
    a sent one when the agent answers ``cancelled`` (or shows printed: the cancel came too late).
    Asking again writes the marker again; a job already taken or ended answers 409."""
    job = get_record(actor, PrintJob, job_id)
    if job.state != "queued":
        raise Conflict(f"Print job {job.id} is {job.state}: only a queued job can be cancelled.")
    if job.cancel_requested_at is None or job.sent_at is None:
        before = snapshot(job)
        job.cancel_requested_at = job.cancel_requested_at or clock.now()
        if job.sent_at is None:  # no message may ever come back for it: the app ends it itself
            job.state, job.reason = "cancelled", None
        job.updated_at = clock.now()
        job.set_index_keys()
        write_audited(actor, job, action="cancel", before=before)
    # After the record: a crash here leaves a cancel asked for, and asking again writes the marker.
    storage.put_file(settings.card_images_bucket, cancel_marker_key(job), b"", content_type="application/octet-stream")
    return job


def cancel_queued_of_batch(actor: Actor, batch_job_id: str) -> int:
    """Cancel every still-queued print job a mass print made; how many were asked to stop."""
    cancelled = 0
    keys = [entry.id for entry in PrintJob.by_batch.query(tenant_key(actor.tenant_id, batch_job_id))]
    for start in range(0, len(keys), 100):
        for job in by_ids(actor, PrintJob, keys[start:start + 100]).values():
            if job.state == "queued":
                try:
                    cancel_print_job(actor, job.id)
                    cancelled += 1
                except (Conflict, ConcurrentChange):
                    logger.info("cards: job %s moved on while its batch was cancelled", job.id)
    return cancelled


# -- staff's decision on an uncertain job ----------------------------------------------------


def check_undecided(job: PrintJob) -> PrintJob:
    """The job, if it still waits for staff's decision (uncertain, not printed again); else 409."""
    if job.state != "uncertain":
        raise Conflict(f"Print job {job.id} is {job.state}, not uncertain.")
    if job.replaced_by:
        raise Conflict(f"Print job {job.id} was already printed again as {job.replaced_by}.")
    return job


def resolve_uncertain(actor: Actor, job_id: str, *, decision: str, uid: str | None = None,
                      printer_id: str | None = None) -> PrintJob:
    """``decision`` ``printed``: the card came out printed; bind it (with ``uid``, else the UID the
    agent read; hexadecimal in either case, kept upper-case as the agents write UIDs). ``reprint``:
    print a new card (on ``printer_id``, else the same printer); the uncertain job names its
    replacement. Asking twice gives the same answer."""
    from chalicelib.services.cards import binding

    job = check_undecided(get_record(actor, PrintJob, job_id))
    if decision == "printed":
        chosen = uid.upper() if uid else job.uid
        if job.encode and not chosen:
            raise InvalidInput.on("uid", "the agent read no UID: give the UID printed on the card's chip")
        binding.bind_printed(actor, job, chosen, clock.now(), flags=("resolved_by_staff",))
        return get_record(actor, PrintJob, job.id)
    new_id = ids.derived_id(ids.made_at(job.id), "reprint", job.id)
    replacement = print_card(actor, job.subscription_id, printer_id or job.printer_id, job_id=new_id,
                             batch_job_id=job.batch_job_id)
    before = snapshot(job)
    job.replaced_by, job.updated_at = replacement.id, clock.now()
    write_audited(actor, job, action="reprint", before=before)
    return job


# -- reading ---------------------------------------------------------------------------------


def holder_name(holder: Contact) -> str:
    """The holder's name as the card prints it (first name, last name)."""
    return " ".join(part for part in (holder.first_name, holder.last_name) if part)


def holder_names(actor: Actor, contact_ids: Iterable[str]) -> dict[str, str]:
    """The holders' names by contact id (of print jobs, of subscriptions), read in one batch (an
    erased holder has none)."""
    found = by_ids(actor, Contact, contact_ids)
    return {contact_id: holder_name(contact) for contact_id, contact in found.items()}


def get_job(actor: Actor, job_id: str) -> PrintJob:
    return get_record(actor, PrintJob, job_id)


def list_jobs(actor: Actor, *, printer_id: str | None, state: str | None, limit: int,
              cursor: str | None) -> Page[PrintJob]:
    """A printer's jobs (by state, then oldest first; only ``state`` if given), or every job in ``state``."""
    if printer_id is not None:
        require_reference(actor, CardPrinter, printer_id, "printer_id")
        index, key = PrintJob.by_printer, tenant_key(actor.tenant_id, printer_id)
        condition = starting_with(PrintJob.printer_order, f"{state}#") if state else None
    else:
        index, key, condition = PrintJob.by_state, tenant_key(actor.tenant_id, state), None
    page = paged(f"{index.Meta.index_name}:{key}:{state}", cursor, lambda start: index.query(
        key, condition, limit=limit, last_evaluated_key=start))
    found = by_ids(actor, PrintJob, [entry.id for entry in page.items])
    return Page(items=[found[entry.id] for entry in page.items if entry.id in found], next_cursor=page.next_cursor)
