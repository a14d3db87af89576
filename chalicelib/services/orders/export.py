"""Export the orders list as a CSV file that Excel in French opens as is, as a background job.

What staff get
--------------
Every column of the staff list (the :class:`~chalicelib.models.orders.OrderListing` entries)
for the selected orders, or for every order matching the list's filters, with no row limit,
in a file Excel in French opens correctly with a double click:

- UTF-8 with a BOM, once, at the very start of the file (without it Excel reads the bytes as
  Windows-1252 and "Lefèvre" becomes "LefÃ¨vre"); ``;`` as separator (Excel's list separator
  in French, where the comma is the decimal mark); CRLF line ends; quoting by :mod:`csv`;
- a header row in French: N° de commande; Date; Client; E-mail; Statut; Type de paiement;
  Code promo; Montant; Devise; Billets; Type; Date limite;
- amounts as French decimals, ``42,50`` (no thousands separator and no symbol, so Excel
  reads a number), the currency in its own column (Devise); dates ``22/11/2026 14:05`` on
  the clock of ``settings.default_timezone`` (Europe/Paris), fixed in the job's params when
  it starts; statuses, payment types and order types (vente, option, réservation) in French;
- formula injection neutralised: a text cell that comes from people (buyer name, e-mail,
  promo code) and starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) gets a
  leading apostrophe, so Excel shows ``=HYPERLINK(...)`` instead of running it.

How the file is written
-----------------------
The job kind ``orders.export_csv`` (params: the selection as :mod:`~chalicelib.services.orders.selection` keeps it,
``{"order_ids": [...]}`` or ``{"filters": {...}}``, plus ``file_name`` and ``timezone``)
writes ``{tenant}/exports/{job_id}/commandes-{date}.csv`` in ``EXPORTS_BUCKET`` as **one S3
multipart upload spanning the job's chunks**:

- the first chunk starts the upload; each chunk reads listing entries by pages of
  :data:`PAGE` (or the selected orders, :data:`BATCH` per BatchGetItem), formats rows into a
  buffer and uploads it as part *n* as soon as it holds :data:`PART_SIZE` bytes (5 MiB, S3's
  minimum for every part but the last);
- the cursor carries the upload id, the ETags of the parts uploaded so far (their numbers
  are their positions: 1..n), the position of the first row not yet uploaded (the listing's
  page cursor and the offset in that page, or the index in the selected ids) and the row
  count (plus, rarely, a pending object: below);
- when the rows run out the chunk uploads what is left as the last part (the only one
  allowed under 5 MiB), completes the upload and finishes the job. ``done`` counts the rows
  written, ``skipped`` the selected ids that name no order; ``total`` is the number of
  selected ids (for filters, the row count once finished).

**Rows buffered but not uploaded are never consumed.** Two ways were possible at the end of
a chunk: upload the buffer as a part (only allowed if it reached 5 MiB, which is just what the
loop does; a buffer under 5 MiB would be lost, or be uploaded as a too-small part that makes
S3 refuse the whole file at completion), or leave the rows unconsumed. The second is the
correct one: the position in the cursor only moves when a part is uploaded, to the row after
that part's last row. To make it cost nothing, **the budget's item is a part**:
``budget.take()`` is asked before filling each part, so a chunk only ends at a part boundary,
with an empty buffer, and no row is read twice. A chunk that crashes mid-part loses its
buffer, not its rows: the retry starts from the recorded position, and re-sends the same part
numbers.

One case needs more: a chunk whose *time* runs out before it could fill even one part. With
filters that match few of many entries (``payment_type=cash`` narrowed by
``status=refunded`` over years of orders: the Query reads the whole facet), 5 MiB of rows may
take longer to find than a chunk has; not consuming them would then re-read the same entries
in every chunk, forever. So before each Query (or BatchGetItem) but the chunk's first, the
chunk checks its time (``budget.seconds_left``, which keeps the framework's 60 s margin); when
it is up, the rows buffered so far are written whole to a small scratch object
``{key}.pending-{seq}`` (PutObject), the cursor records ``pending: [seq, ETag]`` and the
position after those rows, and the next chunk starts its part from that object (GetObject
``If-Match`` the ETag: a duplicate run that rewrote it with other rows fails the job rather
than mixing them). The rows are then durable, so they count as done. Scratch objects are left
to the bucket's 7-day expiry.

Idempotency: a part is keyed by its number, and uploading a number again replaces it, so a
chunk run again from the same cursor (after a crash, or twice from a duplicated message)
writes the same part numbers with the same rows; the framework counts one run. Parts are
encrypted with SSE-S3, so a part's ETag is the MD5 of its bytes: the same rows give the same
ETag, whichever run's upload landed last. If the rows changed between two runs of one chunk
(an order edited meanwhile) and the uncounted run's part landed last, its ETag is not the
recorded one: S3 refuses to assemble the file (rather than mix two versions of a part) and
the job fails, asking for a new export.

Cursor size (the framework keeps params and cursor under 16 000 characters of JSON): each
ETag is stored as the 22 base64 characters of its MD5's 16 bytes, all in one string, instead
of a list of 34-character quoted hex strings. :data:`MAX_PARTS` (600) parts fit with room to
spare; the part size grows by 5 MiB every :data:`PARTS_PER_SIZE_STEP` (250) parts, so 600
parts hold over 5 GiB (some 30 million rows) before the job fails as too large.

Cleaning up: a job that ends unfinished (failed, cancelled) aborts its upload (the kind's
``on_end``, best effort); a first chunk that crashes aborts the upload it started (its retry
starts another). What is left anyway (a duplicate first chunk whose run was not counted) is
aborted by the bucket's lifecycle after a day; finished exports expire after 7 days.

Paging "all matching" keeps the listing's page cursor and an offset in the page, as
:mod:`~chalicelib.services.orders.bulk` does: an order entering or leaving the filtered list between two chunks,
inside the page being read, may shift a row at that chunk's boundary (the export is not a
snapshot of one instant).

Downloading
-----------
:func:`download` (``GET /jobs/{job_id}/download``) answers a presigned GET URL valid 15
minutes (the object carries ``text/csv; charset=utf-8`` and ``Content-Disposition:
attachment; filename="commandes-<date>.csv"``), its expiry and the row count: 409 while
the job is queued or running (or once it failed or was cancelled), 404 for a job that is
not an export (or not the tenant's), 410 once the file has expired.
"""
from __future__ import annotations

import base64
import csv
import io
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Callable

from chalicelib.adapters import clock, storage
from chalicelib.config import settings
from chalicelib.errors import Conflict, DomainError, NotFound
from chalicelib.models.base import tenant_key
from chalicelib.models.jobs import QUEUED, RUNNING, SUCCEEDED, Job
from chalicelib.models.orders import Order, OrderListing
from chalicelib.observability import logger
from chalicelib.services.jobs.framework import ChunkBudget, ChunkResult, JobFailed, get_job, job_kind, start_job
from chalicelib.services.orders import listing as order_listing
from chalicelib.services.orders.selection import filters_of, selection_params
from chalicelib.services.orders.status import LABELS_FR
from chalicelib.services.shared.actors import Actor
from chalicelib.values.formatting import MINOR_DIGITS

EXPORT_CSV = "orders.export_csv"
PAGE = 500  # listing entries per Query
BATCH = 100  # selected orders per BatchGetItem (its maximum)
PART_SIZE = 5 * 1024 * 1024  # S3's minimum size of every part but the last (tests lower it)
PARTS_PER_SIZE_STEP = 250  # the part size grows by PART_SIZE every this many parts
MAX_PARTS = 600  # their ETags fit in the job's cursor
PARTS_PER_CHUNK = 40  # the budget's items are parts; the Lambda's time usually ends a chunk first
ETAG_CHARS = 22  # an MD5 (16 bytes) in base64 without padding
RETENTION = timedelta(days=7)  # the bucket's lifecycle expires exports after this

BOM = "\ufeff"
HEADER = ("N° de commande", "Date", "Client", "E-mail", "Statut", "Type de paiement", "Code promo", "Montant",
          "Devise", "Billets", "Type", "Date limite")
STATUS_FR = {**LABELS_FR, "partially_complete": "Partiellement complète"}  # the list's label needs ticket counts
PAYMENT_FR = {"card": "Carte bancaire", "cheque": "Chèque", "invoice": "Facture", "cash": "Espèces",
              "sepa": "Prélèvement SEPA"}
KIND_FR = {"sale": "vente", "option": "option", "reservation": "réservation"}
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_HEX_ETAG = re.compile(r'^"?([0-9a-fA-F]{32})"?$')


class ExportNotReady(Conflict):
    kind = "export-not-ready"
    title = "The export has no file to download"


class ExportExpired(DomainError):
    status = 410
    kind = "export-expired"
    title = "The export's file has expired; export again"


# -- starting and downloading ----------------------------------------------------------------


def start_export(actor: Actor, *, order_ids: list[str] | None, filters: dict | None) -> Job:
    """A job exporting ``order_ids``, or every order matching ``filters``, as CSV (422 as
    :func:`order_selection.selection_params`)."""
    from zoneinfo import ZoneInfo

    params = selection_params(actor, order_ids=order_ids, filters=filters)
    zone = settings.default_timezone
    today = clock.now().astimezone(ZoneInfo(zone)).date()
    params.update(file_name=f"commandes-{today.isoformat()}.csv", timezone=zone)
    return start_job(actor, EXPORT_CSV, params)


def object_key(tenant_id: str, job_id: str, file_name: str) -> str:
    return f"{tenant_id}/exports/{job_id}/{file_name}"


@dataclass(frozen=True)
class Download:
    url: str
    expires_at: datetime
    rows: int
    file_name: str


def download(actor: Actor, job_id: str) -> Download:
    """A presigned URL of a finished export of the tenant's: 404 for another kind of job (or
    another tenant's), 409 while it runs or when it did not succeed, 410 once expired."""
    job = get_job(actor, job_id)
    if job.kind != EXPORT_CSV:
        raise NotFound(f"No export with id {job_id!r}.")
    if job.status in (QUEUED, RUNNING):
        raise ExportNotReady(f"The export is still {job.status} ({int(job.done)} rows so far); "
                             "download it once it has succeeded.")
    if job.status != SUCCEEDED:
        raise ExportNotReady(f"The export {job.status}; it has no file. Start a new export.")
    now = clock.now()
    if job.finished_at is not None and job.finished_at + RETENTION <= now:
        raise ExportExpired(f"Exports are kept {RETENTION.days} days; this one finished on "
                            f"{job.finished_at:%Y-%m-%d}. Start a new export.")
    file_name = job.params["file_name"]
    url = storage.download_url(settings.exports_bucket, object_key(job.tenant_id, job.id, file_name))
    return Download(url=url, expires_at=now + timedelta(seconds=storage.DOWNLOAD_SECONDS), rows=int(job.done),
                    file_name=file_name)


# -- rows ------------------------------------------------------------------------------------


def neutralised(text: str | None) -> str:
    """A cell Excel shows as text: a leading apostrophe before what would start a formula."""
    text = text or ""
    return "'" + text if text.startswith(FORMULA_START) else text


def french_amount(cents: int, currency: str) -> str:
    """``4250`` -> ``"42,50"``: a decimal comma, no grouping, no symbol (Excel reads a number)."""
    digits = MINOR_DIGITS.get((currency or "EUR").upper(), 2)
    units, minor = divmod(abs(cents), 10 ** digits)
    return ("-" if cents < 0 else "") + str(units) + (f",{minor:0{digits}d}" if digits else "")


def local_time(moment: datetime | None, zone: str) -> str:
    """``"22/11/2026 14:05"`` on the clock of ``zone``; empty for no date."""
    from zoneinfo import ZoneInfo

    return "" if moment is None else moment.astimezone(ZoneInfo(zone)).strftime("%d/%m/%Y %H:%M")


REFUND_PENDING_FR = "remboursement en cours"
REFUNDED_STATUSES = ("refunded", "refunded_cancelled", "partially_complete")


def row(entry: OrderListing, zone: str, *, refund_pending: bool = False) -> list[str]:
    """The cells of one order, in :data:`HEADER`'s order. Only an option or a reservation has a
    deadline (a card checkout's hold is not one); a refund not paid yet says so."""
    status = STATUS_FR.get(entry.status, entry.status)
    if refund_pending:  # "Remboursée" would say the money went back; it has not yet
        status = f"{status} ({REFUND_PENDING_FR})"
    return [str(int(entry.number)), local_time(entry.created_at, zone), neutralised(entry.buyer_name),
            neutralised(entry.buyer_email), status,
            PAYMENT_FR.get(entry.payment_type, entry.payment_type), neutralised(entry.promo_code),
            french_amount(int(entry.total_cents), entry.currency), entry.currency, str(int(entry.ticket_count)),
            KIND_FR.get(entry.kind, entry.kind), local_time(entry.deadline, zone) if entry.kind != "sale" else ""]


def refund_pending(entry: OrderListing) -> bool:
    """Whether a refund of this order has not gone out yet (offline to pay, card awaiting Stripe):
    one Query of the order's refunds, only for orders whose status says refunded."""
    from chalicelib.models.money import Refund

    if entry.status not in REFUNDED_STATUSES:
        return False
    return any(refund.state in ("requested", "pending")
               for refund in Refund.query(tenant_key(entry.tenant_id, entry.order_id)))


class CsvEncoder:
    """One CSV line at a time as UTF-8 bytes: ``;``, CRLF, quoted where needed."""

    def __init__(self) -> None:
        self._text = io.StringIO()
        self._writer = csv.writer(self._text, delimiter=";", lineterminator="\r\n")

    def line(self, cells) -> bytes:
        self._text.seek(0)
        self._text.truncate()
        self._writer.writerow(cells)
        return self._text.getvalue().encode("utf-8")


def file_start(encoder: CsvEncoder) -> bytes:
    """What part 1 starts with: the BOM and the header row."""
    return BOM.encode("utf-8") + encoder.line(HEADER)


def part_size(number: int) -> int:
    """The size at which part ``number`` is uploaded: 5 MiB, growing every 250 parts."""
    return PART_SIZE * (1 + (number - 1) // PARTS_PER_SIZE_STEP)


# -- where the rows come from ----------------------------------------------------------------


PAUSE = object()  # what a source answers instead of a row when the chunk's time is up


class MatchingRows:
    """The listing entries matching ``filters``, newest first, from a page cursor and offset.
    ``next()`` answers an entry, ``None`` at the end, or :data:`PAUSE` when ``pause()`` says
    so before a Query (never before the chunk's first, so the position always moves)."""

    def __init__(self, actor: Actor, filters: order_listing.OrderFilters, position: dict,
                 pause: Callable[[], bool]) -> None:
        self._actor, self._filters, self._pause = actor, filters, pause
        self.page_start: str | None = position.get("page")
        self.offset: int = position.get("offset", 0)
        self._page = None
        self._queried = False
        self.skipped = 0

    def next(self):
        while True:
            if self._page is None:
                if self._queried and self._pause():
                    return PAUSE
                self._page = order_listing.find_orders(self._actor, self._filters, limit=PAGE, cursor=self.page_start)
                self._queried = True
            if self.offset < len(self._page.items):
                self.offset += 1
                return self._page.items[self.offset - 1]
            if not self._page.next_cursor:
                return None
            self.page_start, self.offset, self._page = self._page.next_cursor, 0, None

    def position(self) -> dict:
        """Where the next row is: the page's cursor and the offset in it."""
        return {"page": self.page_start, "offset": self.offset}


class SelectedRows:
    """The selected orders in the order given; ids that name no order are counted as skipped.
    ``next()`` as :class:`MatchingRows` (a pause comes before a BatchGetItem)."""

    def __init__(self, actor: Actor, order_ids: list[str], position: dict, pause: Callable[[], bool]) -> None:
        self._actor, self._ids, self._pause = actor, order_ids, pause
        self.index: int = position.get("next", 0)
        self._fetched: dict[str, OrderListing | None] = {}
        self._read = False
        self.skipped = 0

    def next(self):
        while self.index < len(self._ids):
            order_id = self._ids[self.index]
            if order_id not in self._fetched:
                if self._read and self._pause():
                    return PAUSE
                self._fetch(self._ids[self.index:self.index + BATCH])
                self._read = True
            self.index += 1
            entry = self._fetched.pop(order_id)
            if entry is not None:
                return entry
            self.skipped += 1
        return None

    def _fetch(self, order_ids: list[str]) -> None:
        found = {order.id: order for order in Order.batch_get([(self._actor.tenant_id, i) for i in order_ids])}
        # An order's first listing entry is its "all" entry: the list's columns as the list shows them.
        self._fetched = {i: order_listing.entries_for(found[i])[0] if i in found else None for i in order_ids}

    def position(self) -> dict:
        return {"next": self.index}


# -- the job kind ----------------------------------------------------------------------------


def compact_etag(etag: str) -> str:
    """An ETag (``"<32 hex>"``, an MD5 with SSE-S3) as 22 base64 characters."""
    match = _HEX_ETAG.match(etag)
    if match is None:
        raise JobFailed(f"S3 answered an ETag that is not an MD5: {etag!r}")
    return base64.urlsafe_b64encode(bytes.fromhex(match.group(1))).decode("ascii").rstrip("=")


def etags_of(compact: str) -> list[str]:
    """The quoted ETags of the string of compact ones, in part order."""
    return ['"' + base64.urlsafe_b64decode(compact[start:start + ETAG_CHARS] + "==").hex() + '"'
            for start in range(0, len(compact), ETAG_CHARS)]


def pending_key(key: str, seq: int) -> str:
    """Where chunk ``seq`` keeps the start of a part it could not fill in its time."""
    return f"{key}.pending-{seq}"


@dataclass
class ExportState:
    """The cursor: the upload, its parts so far, the first row not yet uploaded (or read), the
    row count, and the pending object (``[chunk seq, ETag]``) of a chunk that paused mid-part."""

    upload_id: str
    etags: str = ""
    rows: int = 0
    position: dict = field(default_factory=dict)
    pending: list | None = None

    @classmethod
    def of(cls, cursor: dict) -> "ExportState":
        position = {name: cursor[name] for name in ("page", "offset", "next") if name in cursor}
        return cls(upload_id=cursor["upload_id"], etags=cursor["etags"], rows=cursor["rows"], position=position,
                   pending=cursor.get("pending"))

    @property
    def parts(self) -> int:
        return len(self.etags) // ETAG_CHARS

    def cursor(self) -> dict:
        pending = {"pending": self.pending} if self.pending else {}
        return {"upload_id": self.upload_id, "etags": self.etags, "rows": self.rows, **self.position, **pending}


def _abort(job: Job) -> None:
    """``on_end``: throw away the upload of an export that will not finish."""
    upload_id = (job.cursor or {}).get("upload_id")
    if upload_id:
        storage.abort_upload(settings.exports_bucket, object_key(job.tenant_id, job.id, job.params["file_name"]),
                             upload_id)


@job_kind(EXPORT_CSV, max_items=PARTS_PER_CHUNK, on_end=_abort)
def export_csv(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    key = object_key(actor.tenant_id, budget.job_id, params["file_name"])
    if cursor is not None:
        return _export(actor, params, key, ExportState.of(cursor), budget)
    state = ExportState(upload_id=storage.start_upload(settings.exports_bucket, key,
                                                       content_type=storage.CSV_CONTENT_TYPE,
                                                       file_name=params["file_name"]))
    try:
        return _export(actor, params, key, state, budget)
    except BaseException:
        try:  # the upload this run started is recorded nowhere: its retry starts another
            storage.abort_upload(settings.exports_bucket, key, state.upload_id)
        except Exception:  # noqa: BLE001 - the lifecycle rule aborts it after a day anyway
            logger.warning("export %s: could not abort upload after a failed first chunk", budget.job_id,
                           exc_info=True)
        raise


def _export(actor: Actor, params: dict, key: str, state: ExportState, budget: ChunkBudget) -> ChunkResult:
    def out_of_time() -> bool:
        return budget.seconds_left <= 0

    if "order_ids" in params:
        source = SelectedRows(actor, params["order_ids"], state.position, out_of_time)
        total = len(params["order_ids"])
    else:
        source = MatchingRows(actor, filters_of(params["filters"]), state.position, out_of_time)
        total = None
    encoder, zone = CsvEncoder(), params["timezone"]
    done = skipped = 0
    while budget.take():  # one part per item: a chunk normally ends between parts, nothing buffered
        number = state.parts + 1
        buffer = bytearray(_pending(key, state) if state.pending else file_start(encoder) if number == 1 else b"")
        rows, ended = 0, "full"
        while len(buffer) < part_size(number):
            entry = source.next()
            if entry is None or entry is PAUSE:
                ended = "rows" if entry is None else "time"
                break
            buffer += encoder.line(row(entry, zone, refund_pending=refund_pending(entry)))
            rows += 1
        done, skipped = done + rows, skipped + source.skipped
        source.skipped = 0
        if ended == "time":  # the time is up in the middle of a part (sparse matches): keep its start
            kept = [budget.seq, compact_etag(storage.put_object(settings.exports_bucket, pending_key(key, budget.seq),
                                                                bytes(buffer)))] if buffer else None
            state = replace(state, rows=state.rows + rows, position=source.position(), pending=kept)
            return ChunkResult(done=done, skipped=skipped, total=total, cursor=state.cursor())
        if number > MAX_PARTS and buffer:
            raise JobFailed(f"The export exceeds {MAX_PARTS} parts; export fewer orders (narrow the filters).")
        etags = etags_of(state.etags)
        if buffer:
            etags.append(storage.upload_part(settings.exports_bucket, key, state.upload_id, number, bytes(buffer)))
        if ended == "rows":  # no more rows: that was the last part
            _complete(key, state.upload_id, etags)
            rows_total = state.rows + rows
            return ChunkResult(done=done, skipped=skipped, cursor=None, total=total if total is not None else rows_total,
                               note=f"export complete: {rows_total} rows in {len(etags)} parts")
        state = ExportState(upload_id=state.upload_id, etags=state.etags + compact_etag(etags[-1]),
                            rows=state.rows + rows, position=source.position())
    return ChunkResult(done=done, skipped=skipped, total=total, cursor=state.cursor())


def _pending(key: str, state: ExportState) -> bytes:
    """The start of the next part, kept by the chunk that paused in it."""
    seq, etag = state.pending[0], state.pending[1]
    try:
        return storage.get_object(settings.exports_bucket, pending_key(key, seq), if_match=etags_of(etag)[0])
    except storage.PreconditionFailed as error:
        raise JobFailed("The start of a part was rewritten by a repeated run while orders changed; start the "
                        "export again.") from error


def _complete(key: str, upload_id: str, etags: list[str]) -> None:
    try:
        storage.complete_upload(settings.exports_bucket, key, upload_id, etags)
    except storage.PartRejected as error:
        raise JobFailed("A part of the file was rewritten by a repeated run while orders changed, so the file "
                        f"cannot be assembled consistently; start the export again ({error}).") from error
