"""The agent's two queues: the site's FIFO print queue (receive, keep invisible while held,
delete once reported) and the results queue (signed results and heartbeats, sent until SQS
answers)."""

from __future__ import annotations

import json
import logging
import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from edge_agent import protocol

log = logging.getLogger(__name__)

RECEIVE_BATCH = 10
# With wait_time_seconds = 0 (short polling: for a local stack whose long poll does not wake
# when a FIFO group is freed, as moto's), the pause between two empty answers.
SHORT_POLL_PAUSE = 0.05


class ReportFailed(Exception):
    """The results queue could not be reached before the agent was asked to stop."""


@dataclass
class Delivery:
    """One received print message, held by the agent until deleted or released."""

    message_id: str
    receipt_handle: str
    body: str
    job: protocol.PrintJob | None = None
    faces: Future | None = None  # the faces, fetched while the job waits its turn


class PrintQueue:
    """The site's print queue. Messages it hands out are held: their visibility is extended
    every `extend_seconds` until they are deleted or released."""

    def __init__(self, sqs: Any, url: str, *, wait_seconds: int, visibility_seconds: int, extend_seconds: float):
        self._sqs = sqs
        self._url = url
        self._wait = wait_seconds
        self._visibility = visibility_seconds
        self._extend_every = extend_seconds
        self._held: dict[str, Delivery] = {}
        self._lock = threading.Lock()

    def receive(self) -> list[Delivery]:
        """The next messages, in each printer's order (a FIFO queue hands out a printer's next
        messages only once none of its earlier ones is in flight)."""
        answer = self._sqs.receive_message(
            QueueUrl=self._url, MaxNumberOfMessages=RECEIVE_BATCH, WaitTimeSeconds=self._wait,
            VisibilityTimeout=self._visibility,
        )
        deliveries = [Delivery(m["MessageId"], m["ReceiptHandle"], m["Body"]) for m in answer.get("Messages", [])]
        if not deliveries and self._wait == 0:
            time.sleep(SHORT_POLL_PAUSE)
        with self._lock:
            for delivery in deliveries:
                self._held[delivery.receipt_handle] = delivery
        return deliveries

    def delete(self, delivery: Delivery) -> None:
        """Forget the message for good (its result is on the results queue and journalled)."""
        with self._lock:
            self._held.pop(delivery.receipt_handle, None)
        try:
            self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=delivery.receipt_handle)
        except (BotoCoreError, ClientError) as exc:
            # It comes back later; the journal then answers with the same result.
            log.warning("could not delete message %s: %s", delivery.message_id, exc)

    def release(self, delivery: Delivery) -> None:
        """Give a message back at once (the agent stops before starting it)."""
        with self._lock:
            self._held.pop(delivery.receipt_handle, None)
        try:
            self._sqs.change_message_visibility(
                QueueUrl=self._url, ReceiptHandle=delivery.receipt_handle, VisibilityTimeout=0
            )
        except (BotoCoreError, ClientError) as exc:
            log.warning("could not release message %s: %s", delivery.message_id, exc)

    def keep_invisible(self, stop: threading.Event) -> None:
        """Extend every held message's visibility until `stop` (the visibility thread)."""
        while not stop.wait(self._extend_every):
            with self._lock:
                held = list(self._held.values())
            for delivery in held:
                try:
                    self._sqs.change_message_visibility(
                        QueueUrl=self._url, ReceiptHandle=delivery.receipt_handle,
                        VisibilityTimeout=self._visibility,
                    )
                except (BotoCoreError, ClientError) as exc:
                    log.warning("could not extend message %s: %s", delivery.message_id, exc)


class ResultsQueue:
    """The results queue: every body is signed with the site's agent key."""

    def __init__(self, sqs: Any, url: str, agent_key: bytes, stop: threading.Event, *, max_backoff: float = 30.0):
        self._sqs = sqs
        self._url = url
        self._key = agent_key
        self._stop = stop
        self._max_backoff = max_backoff

    def send(self, body: dict[str, Any], *, retry: bool = True) -> None:
        """Send until SQS answers (retrying with backoff); ReportFailed if the agent stops first."""
        message = json.dumps(protocol.sign(body, self._key), separators=(",", ":"))
        backoff = 0.5
        while True:
            try:
                self._sqs.send_message(QueueUrl=self._url, MessageBody=message)
                return
            except (BotoCoreError, ClientError) as exc:
                log.warning("results queue: %s (retrying in %.1f s)", exc, backoff)
                if not retry or self._stop.wait(backoff):
                    raise ReportFailed(str(exc)) from exc
                backoff = min(backoff * 2, self._max_backoff)


class Outbox:
    """What need not hold up a printer, done in order by one thread: `taken` results (the app
    takes results in any order) and deletes of messages whose result is reported."""

    def __init__(self) -> None:
        self._work: queue.Queue[Callable[[], None]] = queue.Queue()

    def put(self, work: Callable[[], None]) -> None:
        self._work.put(work)

    def run(self, drained: threading.Event) -> None:
        """Until `drained` is set (after the workers ended) and nothing is left."""
        while not (drained.is_set() and self._work.empty()):
            try:
                work = self._work.get(timeout=0.2)
            except queue.Empty:
                continue
            try:
                work()
            except ReportFailed as exc:
                log.warning("outbox: %s", exc)
