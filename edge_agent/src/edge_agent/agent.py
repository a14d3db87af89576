"""The agent: one worker per configured printer, a receiver that long-polls the site's print
queue and hands each job to its printer's worker, a thread that keeps held messages
invisible, and one that sends every printer's heartbeat."""

from __future__ import annotations

import logging
import threading
from typing import Any

import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

from edge_agent import protocol
from edge_agent.card_images import CardImages
from edge_agent.config import AgentConfig
from edge_agent.drivers import driver_for
from edge_agent.drivers.base import PrinterDriver
from edge_agent.journal import Journal
from edge_agent.queues import Delivery, Outbox, PrintQueue, ReportFailed, ResultsQueue
from edge_agent.worker import PrinterWorker, Site

log = logging.getLogger(__name__)

JOURNAL_DAYS = 30


def aws_clients(config: AgentConfig) -> tuple[Any, Any]:
    """SQS and S3 clients for the agent's own identity (profile, or the environment's)."""
    session = boto3.Session(profile_name=config.profile, region_name=config.region)
    botocfg = BotoConfig(
        retries={"mode": "standard", "max_attempts": 5}, connect_timeout=10,
        read_timeout=config.wait_time_seconds + 20,
    )
    sqs = session.client("sqs", endpoint_url=config.endpoint_url, config=botocfg)
    s3 = session.client("s3", endpoint_url=config.endpoint_url, config=botocfg)
    return sqs, s3


class Agent:
    def __init__(self, config: AgentConfig, drivers: dict[str, PrinterDriver] | None = None):
        self.config = config
        self.stop_event = threading.Event()
        self._drained = threading.Event()
        sqs, s3 = aws_clients(config)
        self.journal = Journal(config.journal_path)
        self.print_queue = PrintQueue(
            sqs, config.print_queue_url, wait_seconds=config.wait_time_seconds,
            visibility_seconds=config.visibility_timeout_seconds, extend_seconds=config.visibility_extend_seconds,
        )
        self.site = Site(
            config=config, journal=self.journal, print_queue=self.print_queue,
            results=ResultsQueue(sqs, config.results_queue_url, config.agent_key, self.stop_event),
            images=CardImages(s3, config.tenant_id, config.site_id), outbox=Outbox(), stop=self.stop_event,
        )
        drivers = drivers or {p.printer_id: driver_for(p) for p in config.printers}
        self.workers = {p.printer_id: PrinterWorker(p, drivers[p.printer_id], self.site) for p in config.printers}
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        """Start every driver (DriverUnavailable stops the agent here, before any message is
        taken), then the threads."""
        for worker in self.workers.values():
            worker.driver.start()
        forgotten = self.journal.forget_before(JOURNAL_DAYS)
        if forgotten:
            log.info("journal: forgot %d steps older than %d days", forgotten, JOURNAL_DAYS)
        self._threads = [
            *self.workers.values(),
            threading.Thread(target=self._receive, name="receiver", daemon=True),
            threading.Thread(target=self.print_queue.keep_invisible, args=(self.stop_event,),
                             name="visibility", daemon=True),
            threading.Thread(target=self._heartbeats, name="heartbeats", daemon=True),
        ]
        self._outbox_thread = threading.Thread(target=self.site.outbox.run, args=(self._drained,),
                                               name="outbox", daemon=True)
        self._outbox_thread.start()
        for thread in self._threads:
            thread.start()
        log.info("agent for site %s started: printers %s", self.config.site_id, ", ".join(self.workers))

    def stop(self) -> None:
        self.stop_event.set()

    def wait(self, timeout: float | None = None) -> None:
        """Until every thread ended (a worker first finishes the card it is printing)."""
        for thread in self._threads:
            thread.join(timeout)
        self._drained.set()  # the workers ended: what they left in the outbox is the last
        self._outbox_thread.join(timeout)
        self.journal.close()

    # Receiving ---------------------------------------------------------------------------

    def _receive(self) -> None:
        backoff = 1.0
        while not self.stop_event.is_set():
            try:
                deliveries = self.print_queue.receive()
                backoff = 1.0
            except (BotoCoreError, ClientError) as exc:
                log.warning("print queue: %s (retrying in %.0f s)", exc, backoff)
                self.stop_event.wait(backoff)
                backoff = min(backoff * 2, 60.0)
                continue
            for delivery in deliveries:
                if self.stop_event.is_set():
                    self.print_queue.release(delivery)
                    continue
                try:
                    self._dispatch(delivery)
                except Exception:  # a bug must not stop the receiving: the message comes back
                    log.exception("message %s: unexpected error while dispatching", delivery.message_id)
                    self.print_queue.release(delivery)

    def _dispatch(self, delivery: Delivery) -> None:
        """Hand the job to its printer's worker, or answer at once what no printer can do."""
        try:
            job = protocol.parse_print_message(delivery.body)
        except protocol.UnsupportedMessage as exc:
            body = exc.body
            job_id = body.get("job_id") if isinstance(body.get("job_id"), str) else None
            printer_id = body.get("printer_id") if isinstance(body.get("printer_id"), str) else None
            self._answer(delivery, printer_id, job_id, protocol.UNSUPPORTED_MESSAGE, exc.detail)
            return
        if (job.tenant_id, job.site_id) != (self.config.tenant_id, self.config.site_id):
            self._answer(delivery, job.printer_id, job.job_id, protocol.UNSUPPORTED_MESSAGE,
                         f"the job is for {job.tenant_id}/{job.site_id}, this agent serves "
                         f"{self.config.tenant_id}/{self.config.site_id}")
            return
        worker = self.workers.get(job.printer_id)
        if worker is None:
            self._answer(delivery, job.printer_id, job.job_id, protocol.PRINTER_NOT_CONFIGURED,
                         f"this agent drives {', '.join(self.workers)}")
            return
        delivery.job = job
        worker.submit(delivery)

    def _answer(self, delivery: Delivery, printer_id: str | None, job_id: str | None, reason: str, detail: str) -> None:
        log.warning("message %s refused: %s (%s)", delivery.message_id, reason, detail)
        try:
            self.site.results.send(self.site.result(printer_id, job_id, protocol.FAILED, reason=reason, detail=detail))
        except ReportFailed:
            return
        self.print_queue.delete(delivery)

    # Heartbeats --------------------------------------------------------------------------

    def _heartbeats(self) -> None:
        while not self.stop_event.wait(self.config.heartbeat_seconds):
            for worker in self.workers.values():
                worker.send_heartbeat()
