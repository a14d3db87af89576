"""A site's card printers: registered and changed by staff (audited), and shown with what their
agent last reported (state, the printer's reasons, ribbon remaining, last contact) and their
queue length: the printer's ``queued`` and ``taken`` jobs, two counted Queries on the
``print_jobs_by_printer`` index (``state#id`` sorts a printer's jobs by state)."""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.adapters import clock
from chalicelib.errors import InvalidInput
from chalicelib.models.base import starting_with, tenant_key
from chalicelib.models.cards import OPEN_STATES, CardPrinter, CardSite, PrintJob
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.paging import Page
from chalicelib.services.shared.records import RecordKind, by_ids, check_reference, get_record


def _site_must_exist(actor: Actor, printer: CardPrinter, before: dict | None) -> None:
    if before is not None and before.get("site_id") != printer.site_id:
        raise InvalidInput.on("site_id", "a printer cannot move to another site; register it there")
    check_reference(actor, printer, before, "site_id", CardSite)


printers = RecordKind(CardPrinter, rules=_site_must_exist, filters={"site_id": (CardPrinter.by_site, CardSite)})


@dataclass(frozen=True)
class PrinterView:
    """A printer as staff see it: the record, and its queue length (counted, not stored)."""

    printer: CardPrinter
    queue_length: int

    def __getattr__(self, name: str):
        return getattr(self.printer, name)

    @property
    def silent(self) -> bool:
        """Its agent has said nothing for as long as the operator's alarm counts it silent (one
        that never reported is not: its agent is not installed yet)."""
        from chalicelib.services.cards.silence import SILENT_AFTER

        heard = self.printer.last_contact_at
        return bool(self.printer.active and heard is not None and heard < clock.now() - SILENT_AFTER)


def queue_length(tenant_id: str, printer_id: str) -> int:
    key = tenant_key(tenant_id, printer_id)
    return sum(PrintJob.by_printer.count(key, starting_with(PrintJob.printer_order, f"{state}#"))
               for state in OPEN_STATES)


def register_printer(actor: Actor, fields: dict) -> PrinterView:
    return PrinterView(printers.create(actor, {**fields, "active": True}), 0)


def change_printer(actor: Actor, printer_id: str, changes: dict) -> PrinterView:
    printer = printers.update(actor, printer_id, changes)
    return PrinterView(printer, queue_length(actor.tenant_id, printer.id))


def get_printer(actor: Actor, printer_id: str) -> PrinterView:
    printer = get_record(actor, CardPrinter, printer_id)
    return PrinterView(printer, queue_length(actor.tenant_id, printer.id))


def list_printers(actor: Actor, *, site_id: str | None, limit: int, cursor: str | None) -> Page[PrinterView]:
    page = printers.list(actor, site_id=site_id, limit=limit, cursor=cursor)
    if site_id is not None:  # keys only in the index: read the printers themselves
        found = by_ids(actor, CardPrinter, [entry.id for entry in page.items])
        rows = [found[entry.id] for entry in page.items if entry.id in found]
    else:
        rows = page.items
    return Page(items=[PrinterView(printer, queue_length(actor.tenant_id, printer.id)) for printer in rows],
                next_cursor=page.next_cursor)

