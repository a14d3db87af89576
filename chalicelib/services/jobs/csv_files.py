"""CSV files a job writes for staff (orders, a segment's members), that Excel in French opens as is.

What staff get
--------------
A file Excel in French opens correctly with a double click, whatever the number of rows:

- UTF-8 with a BOM, once, at the very start of the file (without it Excel reads the bytes as
  Windows-1252 and "Lefèvre" becomes "LefÃ¨vre"); ``;`` as separator (Excel's list separator
  in French, where the comma is the decimal mark); CRLF line ends; quoting by :mod:`csv`;
- amounts as French decimals, ``42,50`` (:func:`french_amount`: no thousands separator and
  no symbol, so Excel reads a number), dates ``22/11/2026 14:05`` on the job's clock
  (:func:`local_time`);
- formula injection neutralised (:func:`neutralised`): a text cell that comes from people
  and starts with ``=``, ``+``, ``-``, ``@`` (or a tab or carriage return) gets a leading
  apostrophe, so Excel shows ``=HYPERLINK(...)`` instead of running it.

How the file is written
-----------------------
A kind that writes a file is declared with :func:`file_job_kind` (its rows come from a
*source*, its cells from a *row* function, its first line is a header) and writes
``{tenant}/exports/{job_id}/{file_name}`` in ``EXPORTS_BUCKET`` as **one S3 multipart upload
spanning the job's chunks**:

- the first chunk starts the upload; the source reads its rows by pages, the chunk formats
  them into a buffer and uploads it as part *n* as soon as it holds :data:`PART_SIZE` bytes
  (5 MiB, S3's minimum for every part but the last);
- the cursor carries the upload id, the ETags of the parts uploaded so far (their numbers
  are their positions: 1..n), the source's position of the first row not yet uploaded and
  the row count (plus, rarely, a pending object: below);
- when the rows run out the chunk uploads what is left as the last part (the only one
  allowed under 5 MiB), completes the upload and finishes the job. ``done`` counts the rows
  written, ``skipped`` what the source passed over (ids that name nothing).

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

One case needs more: a chunk whose *time* runs out before it could fill even one part (a
source whose rows are sparse among what it reads: filters matching few of many orders, a
segment few contacts belong to). Not consuming them would re-read the same items in every
chunk, forever. So before each read but the chunk's first, a source checks the chunk's time
(``budget.seconds_left``, which keeps the framework's 60 s margin) and answers
:data:`PAUSE`; the rows buffered so far are then written whole to a small scratch object
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
(a record edited meanwhile) and the uncounted run's part landed last, its ETag is not the
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

Downloading
-----------
:func:`download` (``GET /jobs/{job_id}/download``) answers a presigned GET URL valid 15
minutes (the object carries ``text/csv; charset=utf-8`` and ``Content-Disposition:
attachment; filename="<file name>"``), its expiry and the row count: 409 while the job is
queued or running (or once it failed or was cancelled), 404 for a job that writes no file
(or not the tenant's), 410 once the file has expired.
"""
from __future__ import annotations

import base64
import csv
import io
import re
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Callable, Protocol

from chalicelib.adapters import clock, storage
from chalicelib.config import settings
from chalicelib.errors import Conflict, DomainError, NotFound
from chalicelib.models.jobs import QUEUED, RUNNING, SUCCEEDED, Job
from chalicelib.observability import logger
from chalicelib.services.jobs.framework import ChunkBudget, ChunkResult, JobFailed, get_job, job_kind, kind_named
from chalicelib.services.shared.actors import Actor
from chalicelib.values.formatting import MINOR_DIGITS

PART_SIZE = 5 * 1024 * 1024  # S3's minimum size of every part but the last (tests lower it)
PARTS_PER_SIZE_STEP = 250  # the part size grows by PART_SIZE every this many parts
MAX_PARTS = 600  # their ETags fit in the job's cursor
PARTS_PER_CHUNK = 40  # the budget's items are parts; the Lambda's time usually ends a chunk first
ETAG_CHARS = 22  # an MD5 (16 bytes) in base64 without padding
RETENTION = timedelta(days=7)  # the bucket's lifecycle expires exports after this

BOM = "\ufeff"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_HEX_ETAG = re.compile(r'^"?([0-9a-fA-F]{32})"?$')
FILE_KINDS: set[str] = set()  # the job kinds that write a file staff download

PAUSE = object()  # what a source answers instead of a row when the chunk's time is up


class ExportNotReady(Conflict):
    kind = "export-not-ready"
    title = "The export has no file to download"
    title_fr = "L'export n'a pas encore de fichier à télécharger"


class ExportExpired(DomainError):
    status = 410
    kind = "export-expired"
    title = "The export's file has expired; export again"
    title_fr = "Le fichier de l'export a expiré ; exportez de nouveau"


# -- cells -----------------------------------------------------------------------------------


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


def file_start(encoder: CsvEncoder, header: tuple[str, ...]) -> bytes:
    """What part 1 starts with: the BOM and the header row."""
    return BOM.encode("utf-8") + encoder.line(header)


def part_size(number: int) -> int:
    """The size at which part ``number`` is uploaded: 5 MiB, growing every 250 parts."""
    return PART_SIZE * (1 + (number - 1) // PARTS_PER_SIZE_STEP)


# -- the file across chunks ------------------------------------------------------------------


class RowSource(Protocol):
    """Where a file's rows come from, from a position kept in the cursor. ``next()`` answers a
    row's item, ``None`` at the end, or :data:`PAUSE` when ``pause()`` says so before a read
    (never before the chunk's first, so the position always moves); ``skipped`` counts what
    it passed over since last reset."""

    skipped: int

    def next(self) -> Any: ...

    def position(self) -> dict: ...


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


def object_key(tenant_id: str, job_id: str, file_name: str) -> str:
    return f"{tenant_id}/exports/{job_id}/{file_name}"


@dataclass
class FileState:
    """The cursor: the upload, its parts so far, the source's position of the first row not yet
    uploaded (or read), the row count, and the pending object (``[chunk seq, ETag]``) of a chunk
    that paused mid-part."""

    upload_id: str
    etags: str = ""
    rows: int = 0
    position: dict = field(default_factory=dict)
    pending: list | None = None

    @classmethod
    def of(cls, cursor: dict) -> "FileState":
        return cls(upload_id=cursor["upload_id"], etags=cursor["etags"], rows=cursor["rows"],
                   position=cursor.get("at", {}), pending=cursor.get("pending"))

    @property
    def parts(self) -> int:
        return len(self.etags) // ETAG_CHARS

    def cursor(self) -> dict:
        pending = {"pending": self.pending} if self.pending else {}
        return {"upload_id": self.upload_id, "etags": self.etags, "rows": self.rows, "at": self.position, **pending}


@dataclass(frozen=True)
class FileKind:
    """What a file job writes: its header, the source of its rows for a chunk, and a row's cells."""

    header: tuple[str, ...]
    source: Callable[[Actor, dict, dict, Callable[[], bool]], RowSource]  # (actor, params, position, pause)
    cells: Callable[[Any, dict], list[str]]  # (item, params)
    total: Callable[[dict], int | None] = lambda params: None  # known at the start, if it is


def file_job_kind(name: str, kind: FileKind) -> None:
    """Register the job kind ``name`` writing ``params["file_name"]`` as :class:`FileKind` says."""

    def abort(job: Job) -> None:
        """``on_end``: throw away the upload of an export that will not finish."""
        upload_id = (job.cursor or {}).get("upload_id")
        if upload_id:
            storage.abort_upload(settings.exports_bucket, object_key(job.tenant_id, job.id, job.params["file_name"]),
                                 upload_id)

    @job_kind(name, max_items=PARTS_PER_CHUNK, on_end=abort)
    def write_file(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
        key = object_key(actor.tenant_id, budget.job_id, params["file_name"])
        if cursor is not None:
            return _write(actor, params, key, FileState.of(cursor), budget, kind)
        state = FileState(upload_id=storage.start_upload(settings.exports_bucket, key,
                                                         content_type=storage.CSV_CONTENT_TYPE,
                                                         file_name=params["file_name"]))
        try:
            return _write(actor, params, key, state, budget, kind)
        except BaseException:
            try:  # the upload this run started is recorded nowhere: its retry starts another
                storage.abort_upload(settings.exports_bucket, key, state.upload_id)
            except Exception:  # noqa: BLE001 - the lifecycle rule aborts it after a day anyway
                logger.warning("export %s: could not abort upload after a failed first chunk", budget.job_id,
                               exc_info=True)
            raise

    FILE_KINDS.add(name)


def _write(actor: Actor, params: dict, key: str, state: FileState, budget: ChunkBudget,
           kind: FileKind) -> ChunkResult:
    def out_of_time() -> bool:
        return budget.seconds_left <= 0

    source = kind.source(actor, params, state.position, out_of_time)
    total = kind.total(params)
    encoder = CsvEncoder()
    done = skipped = 0
    while budget.take():  # one part per item: a chunk normally ends between parts, nothing buffered
        number = state.parts + 1
        buffer = bytearray(_pending(key, state) if state.pending else
                           file_start(encoder, kind.header) if number == 1 else b"")
        rows, ended = 0, "full"
        while len(buffer) < part_size(number):
            item = source.next()
            if item is None or item is PAUSE:
                ended = "rows" if item is None else "time"
                break
            buffer += encoder.line(kind.cells(item, params))
            rows += 1
        done, skipped = done + rows, skipped + source.skipped
        source.skipped = 0
        if ended == "time":  # the time is up in the middle of a part (sparse rows): keep its start
            kept = [budget.seq, compact_etag(storage.put_object(settings.exports_bucket, pending_key(key, budget.seq),
                                                                bytes(buffer)))] if buffer else None
            state = replace(state, rows=state.rows + rows, position=source.position(), pending=kept)
            return ChunkResult(done=done, skipped=skipped, total=total, cursor=state.cursor())
        if number > MAX_PARTS and buffer:
            raise JobFailed(f"The file exceeds {MAX_PARTS} parts; export fewer rows (narrow the selection).")
        etags = etags_of(state.etags)
        if buffer:
            etags.append(storage.upload_part(settings.exports_bucket, key, state.upload_id, number, bytes(buffer)))
        if ended == "rows":  # no more rows: that was the last part
            _complete(key, state.upload_id, etags)
            rows_total = state.rows + rows
            return ChunkResult(done=done, skipped=skipped, cursor=None, total=total if total is not None else rows_total,
                               note=f"export complete: {rows_total} rows in {len(etags)} parts")
        state = FileState(upload_id=state.upload_id, etags=state.etags + compact_etag(etags[-1]),
                          rows=state.rows + rows, position=source.position())
    return ChunkResult(done=done, skipped=skipped, total=total, cursor=state.cursor())


def _pending(key: str, state: FileState) -> bytes:
    """The start of the next part, kept by the chunk that paused in it."""
    seq, etag = state.pending[0], state.pending[1]
    try:
        return storage.get_object(settings.exports_bucket, pending_key(key, seq), if_match=etags_of(etag)[0])
    except storage.PreconditionFailed as error:
        raise JobFailed("The start of a part was rewritten by a repeated run while the records changed; start "
                        "the export again.") from error


def _complete(key: str, upload_id: str, etags: list[str]) -> None:
    try:
        storage.complete_upload(settings.exports_bucket, key, upload_id, etags)
    except storage.PartRejected as error:
        raise JobFailed("A part of the file was rewritten by a repeated run while the records changed, so the file "
                        f"cannot be assembled consistently; start the export again ({error}).") from error


# -- downloading -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    url: str
    expires_at: datetime
    rows: int
    file_name: str


def writes_a_file(kind: str) -> bool:
    """Whether jobs of ``kind`` write a file staff download."""
    kind_named(kind)  # imports the kind modules, which declare the file kinds
    return kind in FILE_KINDS


def download(actor: Actor, job_id: str) -> Download:
    """A presigned URL of a finished file of the tenant's: 404 for a job that writes none (or
    another tenant's), 409 while it runs or when it did not succeed, 410 once expired."""
    job = get_job(actor, job_id)
    if not writes_a_file(job.kind):
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
