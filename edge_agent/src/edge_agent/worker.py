"""One printer's worker: takes that printer's jobs one at a time, in order, and walks each
through its journalled steps; holds its jobs while the printer is in error or offline.

The restart rules (docs/card-printing-protocol.md) are `_run`: a job whose result is decided
is reported again, a job that was being printed is `uncertain`, any other is printed."""

from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from edge_agent import journal as steps
from edge_agent import protocol
from edge_agent.card_images import CardImages, ImageUnavailable
from edge_agent.config import AgentConfig, PrinterConfig
from edge_agent.drivers.base import PrinterDriver, PrinterFault, PrinterStatus
from edge_agent.journal import Journal
from edge_agent.queues import Delivery, Outbox, PrintQueue, ReportFailed, ResultsQueue

log = logging.getLogger(__name__)

UNKNOWN_STATUS = PrinterStatus(protocol.OFFLINE, (protocol.PRINTER_UNREACHABLE,), None, "not polled yet")


@dataclass(frozen=True)
class Site:
    """What every worker shares: the configuration, journal, queues, images and stop signal."""

    config: AgentConfig
    journal: Journal
    print_queue: PrintQueue
    results: ResultsQueue
    images: CardImages
    outbox: Outbox
    stop: threading.Event

    def result(self, printer_id: str, job_id: str | None, outcome: str, **fields: Any) -> dict[str, Any]:
        return protocol.job_result(
            tenant_id=self.config.tenant_id, site_id=self.config.site_id, printer_id=printer_id,
            job_id=job_id, outcome=outcome, **fields,
        )


class PrinterWorker(threading.Thread):
    def __init__(self, printer: PrinterConfig, driver: PrinterDriver, site: Site):
        super().__init__(name=f"printer-{printer.printer_id}", daemon=True)
        self.printer = printer
        self.driver = driver
        self.site = site
        self.inbox: queue.Queue[Delivery] = queue.Queue()
        self._status = UNKNOWN_STATUS
        self._current_job: str | None = None
        self._next_poll = 0.0
        self._card_path_cleared = False
        self._announced = False  # the first status is always sent (the agent started)
        self._lock = threading.Lock()
        self._prefetch = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"faces-{printer.printer_id}")

    # What the agent sees ---------------------------------------------------------------

    def submit(self, delivery: Delivery) -> None:
        """Queue a job; its faces are fetched at once, while it waits for the printer."""
        delivery.faces = self._prefetch.submit(self._faces, delivery.job)
        self.inbox.put(delivery)

    def _faces(self, job: protocol.PrintJob) -> tuple[bytes, bytes | None]:
        front = self.site.images.face(job.front)
        return front, self.site.images.face(job.back) if job.back else None

    def heartbeat(self) -> dict[str, Any]:
        with self._lock:
            status, job_id = self._status, self._current_job
        c = self.site.config
        return protocol.heartbeat(
            tenant_id=c.tenant_id, site_id=c.site_id, printer_id=self.printer.printer_id,
            state=status.state, reasons=list(status.reasons), ribbon_remaining=status.ribbon_remaining,
            current_job_id=job_id,
        )

    def send_heartbeat(self) -> None:
        try:
            self.site.results.send(self.heartbeat(), retry=False)
        except ReportFailed:
            pass  # the next one goes in heartbeat_seconds

    # The loop ----------------------------------------------------------------------------

    def run(self) -> None:
        stop, poll = self.site.stop, self.site.config.status_poll_seconds
        self.refresh_status()
        while not stop.is_set():
            if not self._status.takes_jobs:
                stop.wait(poll)
                self.refresh_status()
                continue
            if not self._card_path_cleared:
                self._clear_card_path()
            try:
                delivery = self.inbox.get(timeout=min(poll, 1.0))
            except queue.Empty:
                self._poll_when_due()
                continue
            self._take(delivery)
        self._release_held()
        self._prefetch.shutdown(cancel_futures=True)
        self.driver.close()

    def _poll_when_due(self) -> None:
        if time.monotonic() >= self._next_poll:
            self.refresh_status()

    def refresh_status(self) -> PrinterStatus:
        """Ask the printer; a change of state or reasons is sent at once."""
        try:
            status = self.driver.status()
        except Exception as exc:  # a driver's bug must not stop the worker: the printer shows it
            log.exception("printer %s: status failed", self.printer.printer_id)
            status = PrinterStatus(protocol.ERROR, (protocol.UNKNOWN_ERROR,), None, repr(exc)[:protocol.DETAIL_MAX])
        self._next_poll = time.monotonic() + self.site.config.status_poll_seconds
        with self._lock:
            changed = not self._announced or (status.state, status.reasons) != (self._status.state, self._status.reasons)
            self._status, self._announced = status, True
        if changed:
            log.info("printer %s: %s %s (%s)", self.printer.printer_id, status.state,
                     ",".join(status.reasons) or "-", status.detail)
            self.send_heartbeat()
        return status

    def _release_held(self) -> None:
        while True:
            try:
                self.site.print_queue.release(self.inbox.get_nowait())
            except queue.Empty:
                return

    def _take(self, delivery: Delivery) -> None:
        assert delivery.job is not None
        with self._lock:
            self._current_job = delivery.job.job_id
        try:
            self._run(delivery)
        except ReportFailed:
            log.warning("job %s: stopping before its result was sent; it comes back", delivery.job.job_id)
        except Exception:
            # Not a printer fault (those are results): give the message back; when it returns,
            # the journal decides as after a crash.
            log.exception("job %s: unexpected error; its message goes back to the queue", delivery.job.job_id)
            self.site.print_queue.release(delivery)
            self.site.stop.wait(self.site.config.status_poll_seconds)
        finally:
            with self._lock:
                self._current_job = None

    # One job -----------------------------------------------------------------------------

    def _run(self, d: Delivery) -> None:
        job, journal = d.job, self.site.journal
        last = journal.last(job.job_id)
        if last is not None and last.step in (*steps.OUTCOME_STEPS, steps.REPORTED):
            decided = journal.outcome(job.job_id)
            log.info("job %s: already %s, reported again", job.job_id, decided.step)
            self._report(d, decided.step, uid=decided.uid, reason=decided.reason, detail=decided.detail)
            return
        if last is not None and last.step == steps.PRINTING:
            log.warning("job %s: the agent stopped while printing it: uncertain", job.job_id)
            self._conclude(d, protocol.UNCERTAIN, uid=journal.uid(job.job_id),
                           reason=protocol.INTERRUPTED_WHILE_PRINTING,
                           detail="the agent stopped while this card was being printed")
            return
        self._print(d)

    def _print(self, d: Delivery) -> None:
        job, journal, pid = d.job, self.site.journal, self.printer.printer_id
        journal.record(job.job_id, pid, steps.TAKEN)
        taken = self.site.result(pid, job.job_id, protocol.TAKEN)
        self.site.outbox.put(lambda: self.site.results.send(taken))
        if job.encode and not self.printer.encoder:
            self._conclude(d, protocol.FAILED, reason=protocol.PRINTER_NOT_CONFIGURED,
                           detail="the job asks for encoding; this printer has no encoder in the agent's configuration")
            return
        try:
            front, back = d.faces.result() if d.faces is not None else self._faces(job)
        except ImageUnavailable as exc:
            self._conclude(d, protocol.FAILED, reason=protocol.IMAGE_UNAVAILABLE, detail=str(exc))
            return
        if self.site.images.cancelled(job):
            self._conclude(d, protocol.CANCELLED)
            return
        try:
            self.driver.reserve(self.site.config.busy_retry_seconds)
        except PrinterFault as fault:
            self._fail(d, fault, card_inside=False)
            return
        try:
            uid = self._make_card(d, front, back)
        except PrinterFault as fault:
            self._fail(d, fault, card_inside=True)
            return
        finally:
            self.driver.release()
        self._report(d, protocol.PRINTED, uid=uid)
        self._poll_when_due()

    def _make_card(self, d: Delivery, front: bytes, back: bytes | None) -> str | None:
        """Insert, read the UID, print, eject: each step journalled before it is done. The printer
        is reserved; the UID, when the job encodes."""
        job, journal, pid = d.job, self.site.journal, self.printer.printer_id
        journal.record(job.job_id, pid, steps.INSERTING)
        self.driver.insert_card()
        uid = None
        if job.encode:
            uid = self.driver.read_uid()
            journal.record(job.job_id, pid, steps.UID_READ, uid=uid)
        journal.record(job.job_id, pid, steps.PRINTING, uid=uid)
        self.driver.print_card(front, back, self.site.config.print_timeout_seconds)
        journal.record(job.job_id, pid, steps.PRINTED, uid=uid)
        try:
            self.driver.eject_card()
        except PrinterFault as fault:
            # The card is printed: it stays printed; the state tells staff to take it out.
            log.warning("job %s: printed, but eject failed: %s", job.job_id, fault)
        return uid

    def _clear_card_path(self) -> None:
        """Once, when the printer first answers: the card an agent that died left inside goes
        out: to the output hopper when it was printed, else to the reject box."""
        left = self.site.journal.left_in_printer(self.printer.printer_id)
        self._card_path_cleared = True
        if left is None:
            return
        log.warning("job %s: last step %s; taking out the card it may have left inside", left.job_id, left.step)
        if left.step == steps.PRINTED:
            try:
                self.driver.eject_card()
            except PrinterFault as fault:
                log.info("no printed card left inside (%s)", fault)
        else:
            self.driver.reject_card()

    def _fail(self, d: Delivery, fault: PrinterFault, *, card_inside: bool) -> None:
        log.warning("job %s failed: %s", d.job.job_id, fault)
        if card_inside:
            self.driver.reject_card()
        self._conclude(d, protocol.FAILED, reason=fault.reason, detail=fault.detail)
        self.refresh_status()

    def _conclude(self, d: Delivery, outcome: str, *, uid: str | None = None,
                  reason: str | None = None, detail: str | None = None) -> None:
        """Journal a decided result (so it is never decided again), then report it."""
        self.site.journal.record(d.job.job_id, self.printer.printer_id, outcome, uid=uid, reason=reason, detail=detail)
        self._report(d, outcome, uid=uid, reason=reason, detail=detail)

    def _report(self, d: Delivery, outcome: str, *, uid: str | None = None,
                reason: str | None = None, detail: str | None = None) -> None:
        """Send the result; once SQS has it, journal `reported` and delete the message."""
        pid = self.printer.printer_id
        self.site.results.send(self.site.result(pid, d.job.job_id, outcome, uid=uid, reason=reason, detail=detail))
        self.site.journal.record(d.job.job_id, pid, steps.REPORTED)
        self.site.outbox.put(lambda: self.site.print_queue.delete(d))
