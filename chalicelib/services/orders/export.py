"""Export the orders list as a CSV file that Excel in French opens as is, as a background job.

What staff get
--------------
Every column of the staff list (the :class:`~chalicelib.models.orders.OrderListing` entries)
for the selected orders, or for every order matching the list's filters, with no row limit,
in the file :mod:`~chalicelib.services.jobs.csv_files` writes for Excel in French (BOM, ``;``,
CRLF, French decimals, formulas neutralised), with:

- a header row in French: N° de commande; Date; Client; E-mail; Statut; Type de paiement;
  Code promo; Montant; Devise; Billets; Type; Date limite;
- the currency in its own column (Devise); dates on the clock of
  ``settings.default_timezone`` (Europe/Paris), fixed in the job's params when it starts;
  statuses, payment types and order types (vente, option, réservation) in French; the buyer
  name, e-mail and promo code neutralised as text.

How the file is written
-----------------------
The job kind ``orders.export_csv`` (params: the selection as :mod:`~chalicelib.services.orders.selection` keeps it,
``{"order_ids": [...]}`` or ``{"filters": {...}}``, plus ``file_name`` and ``timezone``)
writes ``{tenant}/exports/{job_id}/commandes-{date}.csv`` as
:mod:`~chalicelib.services.jobs.csv_files` writes every staff file: one S3 multipart upload
spanning the job's chunks, a part per budget item, rows consumed only once uploaded, a
paused part kept in a scratch object, safe to run a chunk twice. Its rows come from listing
entries read by pages of :data:`PAGE` (or the selected orders, :data:`BATCH` per
BatchGetItem); ``skipped`` counts the selected ids that name no order; ``total`` is the
number of selected ids (for filters, the row count once finished).

Paging "all matching" keeps the listing's page cursor and an offset in the page, as
:mod:`~chalicelib.services.orders.bulk` does: an order entering or leaving the filtered list between two chunks,
inside the page being read, may shift a row at that chunk's boundary (the export is not a
snapshot of one instant).

Downloading: ``GET /jobs/{job_id}/download``, as for every staff file
(:func:`~chalicelib.services.jobs.csv_files.download`).
"""
from __future__ import annotations

from typing import Callable

from chalicelib.adapters import clock
from chalicelib.config import settings
from chalicelib.models.base import tenant_key
from chalicelib.models.jobs import Job
from chalicelib.models.orders import Order, OrderListing
from chalicelib.services.jobs.csv_files import PAUSE, FileKind, file_job_kind, french_amount, local_time, neutralised
from chalicelib.services.jobs.framework import start_job
from chalicelib.services.orders import listing as order_listing
from chalicelib.services.orders.selection import filters_of, selection_params
from chalicelib.services.orders.status import LABELS_FR
from chalicelib.services.shared.actors import Actor

EXPORT_CSV = "orders.export_csv"
PAGE = 500  # listing entries per Query
BATCH = 100  # selected orders per BatchGetItem (its maximum)

HEADER = ("N° de commande", "Date", "Client", "E-mail", "Statut", "Type de paiement", "Code promo", "Montant",
          "Devise", "Billets", "Type", "Date limite")
STATUS_FR = {**LABELS_FR, "partially_complete": "Partiellement complète"}  # the list's label needs ticket counts
PAYMENT_FR = {"card": "Carte bancaire", "cheque": "Chèque", "invoice": "Facture", "cash": "Espèces",
              "sepa": "Prélèvement SEPA"}
KIND_FR = {"sale": "vente", "option": "option", "reservation": "réservation"}


def start_export(actor: Actor, *, order_ids: list[str] | None, filters: dict | None) -> Job:
    """A job exporting ``order_ids``, or every order matching ``filters``, as CSV (422 as
    :func:`order_selection.selection_params`)."""
    from zoneinfo import ZoneInfo

    params = selection_params(actor, order_ids=order_ids, filters=filters)
    zone = settings.default_timezone
    today = clock.now().astimezone(ZoneInfo(zone)).date()
    params.update(file_name=f"commandes-{today.isoformat()}.csv", timezone=zone)
    return start_job(actor, EXPORT_CSV, params)


# -- rows ------------------------------------------------------------------------------------


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



# -- where the rows come from ----------------------------------------------------------------


class MatchingRows:
    """The listing entries matching ``filters``, newest first, from a page cursor and offset
    (a :class:`~chalicelib.services.jobs.csv_files.RowSource`; it pauses before a Query)."""

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


def _source(actor: Actor, params: dict, position: dict, pause: Callable[[], bool]):
    if "order_ids" in params:
        return SelectedRows(actor, params["order_ids"], position, pause)
    return MatchingRows(actor, filters_of(params["filters"]), position, pause)


def _cells(entry: OrderListing, params: dict) -> list[str]:
    return row(entry, params["timezone"], refund_pending=refund_pending(entry))


file_job_kind(EXPORT_CSV, FileKind(header=HEADER, source=_source, cells=_cells,
                                   total=lambda params: len(params["order_ids"]) if "order_ids" in params else None))
