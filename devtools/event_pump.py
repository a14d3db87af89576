"""The local event pump: feeds the app's SQS, SNS and schedule handlers as AWS would.

In AWS, Lambda's event source mappings poll SQS, SNS pushes to Lambda and EventBridge
fires schedules. Locally, ``chalice local`` serves HTTP only, so this pump plays those parts
against moto server. It reads the sources from ``app.event_sources`` (what the
``@app.on_sqs_message``, ``@app.on_sns_message`` and ``@app.schedule`` decorators, on the
app or on a registered Blueprint, recorded), so it can never drift from the code:

- **SQS**: each queue is created if missing, long-polled, and its messages handed to the
  handler in a Lambda-shaped event (``Records[]`` with ``messageId``, ``receiptHandle``,
  ``body``, ``attributes``, ``messageAttributes``, ``eventSourceARN`` ...), up to the
  source's ``batch_size``. As with Lambda, the batch is deleted only if the handler returns;
  if it raises, the messages come back after the queue's visibility timeout. A
  ``{"batchItemFailures": [{"itemIdentifier": <messageId>}]}`` answer deletes all but the
  failed ones (an unknown identifier fails the whole batch, as Lambda does).
- **SNS**: each topic is created if missing and an internal queue ``event-pump-<function>``
  is subscribed to it (moto delivers publishes to SQS subscriptions). Each delivery
  becomes a one-record SNS event (``Records[].Sns`` with ``Message``, ``MessageId``,
  ``TopicArn``, ``Subject``, ``Timestamp``, ``MessageAttributes`` ...). A raising handler
  gets the message again after :data:`SNS_RETRY_DELAY_SECONDS`, and it is dropped after
  :data:`SNS_ATTEMPTS` attempts, like Lambda's asynchronous invocation (two retries).
- **Schedules**: ``rate(...)`` and ``cron(...)`` (UTC) from :mod:`devtools.schedules`; a rate
  counts its periods from the pump's first tick, as a rule counts from its creation. A
  missed firing (a sleeping laptop) fires once, not once per missed period, as EventBridge.
  The event is EventBridge's ``Scheduled Event``, its ``time`` the scheduled minute.

The handler called is the one Lambda would call: ``app.handler_map[name]`` (Chalice's
wrapper, middleware included), else the ``handler_string`` imported. It gets the raw event
and a :class:`LambdaContext`. Other sources (S3, Kinesis, DynamoDB streams, event patterns)
are listed at start as not fed.

In-process (tests)::

    pump = EventPump(app, endpoint=os.environ["AWS_ENDPOINT"])
    pump.run_once()            # one poll of every queue and topic, then tick(now)
    pump.tick(datetime(...))   # fire the schedules due at that moment
    pump.start(); ...; pump.stop()  # background threads, as `make dev` runs it

Stand-alone (``devtools.dev`` runs it so, with the stack's environment)::

    python -m devtools.event_pump --app app:app
"""
from __future__ import annotations

import argparse
import base64
import importlib
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import traceback
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Callable

from chalice.app import BaseEventSourceConfig, ScheduledEventConfig, SNSEventConfig, SQSEventConfig

from devtools.schedules import CronSchedule, RateSchedule, expression_text, parse_schedule

log = logging.getLogger("devtools.event_pump")

MOTO_ACCOUNT = "123456789012"  # moto's default account: the ARNs it hands out carry it
SQS_RECEIVE_MAX = 10  # SQS returns at most 10 messages per ReceiveMessage
SNS_ATTEMPTS = 3  # Lambda's asynchronous invocation: the first try and two retries
SNS_RETRY_DELAY_SECONDS = 60  # Lambda waits about a minute before the first retry
DEFAULT_TIMEOUT_SECONDS = 60  # Chalice's default lambda_timeout


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def _iso_millis(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


# -- what a handler receives ---------------------------------------------------------------


class LambdaContext:
    """The parts of Lambda's context object handlers and Powertools read."""

    def __init__(self, function_name: str, region: str, timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS,
                 memory_limit_in_mb: int = 128) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{MOTO_ACCOUNT}:function:{function_name}"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.aws_request_id = str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"local/[$LATEST]{uuid.uuid4().hex}"
        self._deadline = time.monotonic() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _sqs_message_attributes(attributes: dict[str, dict]) -> dict[str, dict]:
    """SQS API attribute shape (``StringValue``, bytes) to Lambda's (``stringValue``, base64)."""
    converted = {}
    for name, value in attributes.items():
        binary = value.get("BinaryValue")
        converted[name] = {
            "stringValue": value.get("StringValue"),
            "binaryValue": base64.b64encode(binary).decode() if binary is not None else None,
            "stringListValues": [], "binaryListValues": [],
            "dataType": value["DataType"],
        }
        converted[name] = {key: item for key, item in converted[name].items() if item is not None}
    return converted


def sqs_record(message: dict, queue_arn: str, region: str) -> dict:
    record = {
        "messageId": message["MessageId"],
        "receiptHandle": message["ReceiptHandle"],
        "body": message["Body"],
        "attributes": message.get("Attributes", {}),
        "messageAttributes": _sqs_message_attributes(message.get("MessageAttributes", {})),
        "md5OfBody": message.get("MD5OfBody"),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": region,
    }
    if "MD5OfMessageAttributes" in message:
        record["md5OfMessageAttributes"] = message["MD5OfMessageAttributes"]
    return record


def sns_event(notification: dict, subscription_arn: str) -> dict:
    """Lambda's SNS event for one notification as SNS posts it to an SQS subscription."""
    return {"Records": [{
        "EventSource": "aws:sns",
        "EventVersion": "1.0",
        "EventSubscriptionArn": subscription_arn,
        "Sns": {
            "Type": notification.get("Type", "Notification"),
            "MessageId": notification["MessageId"],
            "TopicArn": notification["TopicArn"],
            "Subject": notification.get("Subject"),  # Lambda sends null when there is none
            "Message": notification["Message"],
            "Timestamp": notification["Timestamp"],
            "SignatureVersion": notification.get("SignatureVersion", "1"),
            "Signature": notification.get("Signature", ""),
            # Lambda spells these ...Url where the SQS envelope says ...URL.
            "SigningCertUrl": notification.get("SigningCertURL", ""),
            "UnsubscribeUrl": notification.get("UnsubscribeURL", ""),
            "MessageAttributes": notification.get("MessageAttributes", {}),
        },
    }]}


def scheduled_event(rule_arn: str, region: str, scheduled_at: datetime) -> dict:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": MOTO_ACCOUNT,
        "time": scheduled_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


# -- handlers ------------------------------------------------------------------------------


def resolve_handler(app, source: BaseEventSourceConfig) -> Callable[[dict, Any], Any]:
    """What Lambda would invoke for ``source``: Chalice's wrapped handler, middleware included."""
    registered = app.handler_map.get(source.name)
    if registered is not None:
        return registered
    module_name, _, attribute = source.handler_string.rpartition(".")
    return getattr(importlib.import_module(module_name), attribute)


@dataclass
class Invocation:
    """One handler call the pump made, for logs and tests."""

    source: str
    kind: str
    ok: bool
    records: int = 1
    error: str | None = None
    failed_ids: list[str] = field(default_factory=list)


class _Target:
    """A handler as a Lambda function: its name and the way to call it."""

    def __init__(self, app, source: BaseEventSourceConfig, stage: str, region: str, timeout_seconds: int) -> None:
        self.source = source
        self.function_name = f"{app.app_name}-{stage}-{source.name}"
        self.region = region
        self.timeout_seconds = timeout_seconds
        self._handler = resolve_handler(app, source)

    def invoke(self, event: dict) -> Any:
        return self._handler(event, LambdaContext(self.function_name, self.region, self.timeout_seconds))


def _failure(target: _Target, kind: str, records: int) -> Invocation:
    error = traceback.format_exc()
    log.error("%s %s raised:\n%s", kind, target.function_name, error)
    return Invocation(target.source.name, kind, ok=False, records=records, error=error.strip().splitlines()[-1])


# -- feeds: one per event source -----------------------------------------------------------


def _queue_name(text: str) -> str:
    """A queue name from a name or an ARN (``arn:aws:sqs:region:account:name``)."""
    return text.rsplit(":", 1)[-1]


def _ensure_queue(sqs, name: str, attributes: dict[str, str] | None = None) -> tuple[str, str]:
    """URL and ARN of queue ``name``, created if missing (an existing queue is left as it is)."""
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        wanted = dict(attributes or {})
        if name.endswith(".fifo"):
            wanted["FifoQueue"] = "true"
        url = sqs.create_queue(QueueName=name, Attributes=wanted)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, arn


def _receive(sqs, url: str, wanted: int, wait_seconds: int) -> list[dict]:
    """Up to ``wanted`` messages: one (long) poll, then immediate polls while the queue gives."""
    messages: list[dict] = []
    while len(messages) < wanted:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=min(SQS_RECEIVE_MAX, wanted - len(messages)),
                                    WaitTimeSeconds=wait_seconds if not messages else 0,
                                    AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
        if not batch:
            break
        messages.extend(batch)
    return messages


def _delete(sqs, url: str, messages: list[dict]) -> None:
    for start in range(0, len(messages), SQS_RECEIVE_MAX):
        chunk = messages[start:start + SQS_RECEIVE_MAX]
        sqs.delete_message_batch(QueueUrl=url, Entries=[
            {"Id": str(index), "ReceiptHandle": message["ReceiptHandle"]} for index, message in enumerate(chunk)])


def _batch_item_failures(result: Any, message_ids: set[str]) -> set[str] | None:
    """Failed message ids from a partial batch response; ``None`` means "all failed"."""
    if not isinstance(result, dict) or "batchItemFailures" not in result:
        return set()
    failed = {item.get("itemIdentifier") if isinstance(item, dict) else None for item in result["batchItemFailures"]}
    return failed if failed <= message_ids else None


class QueueFeed:
    """An SQS queue feeding its handler, as a Lambda event source mapping does."""

    kind = "sqs"

    def __init__(self, target: _Target, sqs) -> None:
        self.target = target
        self.sqs = sqs
        self.queue_name = _queue_name(target.source.queue or target.source.queue_arn)
        self.batch_size = max(1, target.source.batch_size)
        self.url = self.arn = None

    def prepare(self) -> None:
        self.url, self.arn = _ensure_queue(self.sqs, self.queue_name)

    def poll(self, wait_seconds: int) -> list[Invocation]:
        messages = _receive(self.sqs, self.url, self.batch_size, wait_seconds)
        if not messages:
            return []
        event = {"Records": [sqs_record(message, self.arn, self.target.region) for message in messages]}
        try:
            result = self.target.invoke(event)
        except Exception:  # noqa: BLE001 - like Lambda: the batch stays for redelivery
            return [_failure(self.target, self.kind, len(messages))]
        failed = _batch_item_failures(result, {message["MessageId"] for message in messages})
        if failed is None:
            log.error("sqs %s: batchItemFailures names unknown ids; the whole batch fails",
                      self.target.function_name)
            return [Invocation(self.target.source.name, self.kind, ok=False, records=len(messages),
                               error="invalid batchItemFailures")]
        _delete(self.sqs, self.url, [message for message in messages if message["MessageId"] not in failed])
        log.info("sqs %s <- %s: %d message(s), %d failed", self.target.function_name, self.queue_name,
                 len(messages), len(failed))
        return [Invocation(self.target.source.name, self.kind, ok=not failed, records=len(messages),
                           failed_ids=sorted(failed))]


def _internal_queue_name(function_name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", f"event-pump-{function_name}")[:80]


class TopicFeed:
    """An SNS topic feeding its handler through an internal SQS subscription."""

    kind = "sns"

    def __init__(self, target: _Target, sqs, sns) -> None:
        self.target = target
        self.sqs = sqs
        self.sns = sns
        self.topic_name = _queue_name(target.source.topic)
        self.topic_arn = self.subscription_arn = self.url = None

    def prepare(self) -> None:
        self.topic_arn = self.sns.create_topic(Name=self.topic_name)["TopicArn"]
        # The retry delay of Lambda's asynchronous invocations is this queue's visibility timeout.
        self.url, queue_arn = _ensure_queue(self.sqs, _internal_queue_name(self.target.function_name),
                                            {"VisibilityTimeout": str(SNS_RETRY_DELAY_SECONDS)})
        self.subscription_arn = self.sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn,
                                                   ReturnSubscriptionArn=True)["SubscriptionArn"]

    def poll(self, wait_seconds: int) -> list[Invocation]:
        messages = _receive(self.sqs, self.url, SQS_RECEIVE_MAX, wait_seconds)
        return [self._deliver(message) for message in messages]

    def _deliver(self, message: dict) -> Invocation:
        try:
            self.target.invoke(sns_event(json.loads(message["Body"]), self.subscription_arn))
        except Exception:  # noqa: BLE001 - like Lambda's async invocation: retried, then dropped
            invocation = _failure(self.target, self.kind, 1)
            attempts = int(message.get("Attributes", {}).get("ApproximateReceiveCount", "1"))
            if attempts >= SNS_ATTEMPTS:
                log.error("sns %s: dropping message %s after %d attempts", self.target.function_name,
                          message["MessageId"], attempts)
                _delete(self.sqs, self.url, [message])
            return invocation
        _delete(self.sqs, self.url, [message])
        log.info("sns %s <- %s: 1 message", self.target.function_name, self.topic_name)
        return Invocation(self.target.source.name, self.kind, ok=True)


class ScheduleFeed:
    """A schedule firing its handler, as an EventBridge rule does."""

    kind = "schedule"

    def __init__(self, target: _Target) -> None:
        self.target = target
        self.schedule: RateSchedule | CronSchedule = parse_schedule(target.source.schedule_expression)
        self.rule_arn = f"arn:aws:events:{target.region}:{MOTO_ACCOUNT}:rule/{target.function_name}"
        self.anchor: datetime | None = None
        self.next_due: datetime | None = None

    def _next_after(self, moment: datetime) -> datetime | None:
        return self.schedule.next_after(moment, anchor=self.anchor)

    def tick(self, now: datetime) -> Invocation | None:
        if self.anchor is None:  # the rule is "created" at the first tick
            self.anchor = now
            self.next_due = self._next_after(now)
            return None
        if self.next_due is None or now < self.next_due:
            return None
        scheduled_at, self.next_due = self.next_due, self._next_after(now)
        try:
            self.target.invoke(scheduled_event(self.rule_arn, self.target.region, scheduled_at))
        except Exception:  # noqa: BLE001 - a failed run is logged; the schedule goes on
            return _failure(self.target, self.kind, 1)
        log.info("schedule %s fired (%s, due %s)", self.target.function_name, self.schedule.text,
                 _iso_millis(scheduled_at))
        return Invocation(self.target.source.name, self.kind, ok=True)


# -- the pump ------------------------------------------------------------------------------


def _aws_client(service: str, endpoint: str | None, region: str):
    import boto3

    credentials = {}
    if endpoint:  # moto accepts any key; do not depend on the caller's AWS profile
        credentials = {"aws_access_key_id": os.environ.get("AWS_ACCESS_KEY_ID", "local"),
                       "aws_secret_access_key": os.environ.get("AWS_SECRET_ACCESS_KEY", "local")}
    return boto3.client(service, endpoint_url=endpoint, region_name=region, **credentials)


class EventPump:
    """Every event source of ``app`` fed from moto (``endpoint``) and a local clock."""

    def __init__(self, app, endpoint: str | None = None, *, region: str | None = None, stage: str | None = None,
                 wait_seconds: int = 5, timeout_seconds: int = DEFAULT_TIMEOUT_SECONDS,
                 clock: Callable[[], datetime] = utc_now) -> None:
        self.app = app
        self.endpoint = endpoint or os.environ.get("AWS_ENDPOINT") or None
        if not self.endpoint:  # it creates queues and topics: never against a real account
            raise ValueError("the event pump needs a local endpoint (moto): pass endpoint or set AWS_ENDPOINT")
        self.region = region or os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION", "eu-west-3")
        self.stage = stage or os.environ.get("STAGE", "dev")
        self.wait_seconds = wait_seconds
        self.clock = clock
        self.queues: list[QueueFeed] = []
        self.topics: list[TopicFeed] = []
        self.schedules: list[ScheduleFeed] = []
        self.ignored: list[BaseEventSourceConfig] = []
        self._prepared = False
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self._discover(timeout_seconds)

    def _discover(self, timeout_seconds: int) -> None:
        sqs = _aws_client("sqs", self.endpoint, self.region)
        sns = _aws_client("sns", self.endpoint, self.region)
        for source in self.app.event_sources:
            target = _Target(self.app, source, self.stage, self.region, timeout_seconds)
            if isinstance(source, SQSEventConfig):
                self.queues.append(QueueFeed(target, sqs))
            elif isinstance(source, SNSEventConfig):
                self.topics.append(TopicFeed(target, sqs, sns))
            elif isinstance(source, ScheduledEventConfig):
                self.schedules.append(ScheduleFeed(target))
            else:
                self.ignored.append(source)

    def describe(self) -> list[str]:
        """One line per event source, for the start-up banner."""
        lines = [f"sqs      {feed.queue_name} -> {feed.target.source.name} (batch {feed.batch_size})"
                 for feed in self.queues]
        lines += [f"sns      {feed.topic_name} -> {feed.target.source.name}" for feed in self.topics]
        lines += [f"schedule {expression_text(feed.target.source.schedule_expression)} -> {feed.target.source.name}"
                  for feed in self.schedules]
        lines += [f"not fed  {type(source).__name__} -> {source.name}" for source in self.ignored]
        return lines

    def prepare(self) -> None:
        """Create the queues, topics and subscriptions the sources need (idempotent)."""
        for feed in [*self.queues, *self.topics]:
            feed.prepare()
        self._prepared = True

    def tick(self, now: datetime | None = None) -> list[Invocation]:
        """Fire every schedule due at ``now`` (the first tick only starts the clocks)."""
        moment = now or self.clock()
        return [fired for feed in self.schedules if (fired := feed.tick(moment)) is not None]

    def run_once(self, now: datetime | None = None, wait_seconds: int = 0) -> list[Invocation]:
        """One poll of every queue and topic, then :meth:`tick`; what was invoked."""
        if not self._prepared:
            self.prepare()
        invocations: list[Invocation] = []
        for feed in [*self.queues, *self.topics]:
            invocations += feed.poll(wait_seconds)
        return invocations + self.tick(now)

    def start(self) -> "EventPump":
        """Poll every queue and topic on its own thread, and tick the schedules every second."""
        self.prepare()
        self._stopping.clear()
        for feed in [*self.queues, *self.topics]:
            self._spawn(f"pump-{feed.kind}-{feed.target.source.name}", self._poll_forever, feed)
        if self.schedules:
            self._spawn("pump-schedules", self._tick_forever)
        return self

    def _spawn(self, name: str, loop: Callable, *args) -> None:
        thread = threading.Thread(target=loop, args=args, name=name, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _poll_forever(self, feed: QueueFeed | TopicFeed) -> None:
        while not self._stopping.is_set():
            try:
                feed.poll(self.wait_seconds)
            except Exception:  # noqa: BLE001 - moto restarting, a network blip: retry, never die
                log.exception("polling %s %s failed; retrying", feed.kind, feed.target.source.name)
                self._stopping.wait(1)

    def _tick_forever(self) -> None:
        self.tick()
        while not self._stopping.wait(1):
            self.tick()

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=self.wait_seconds + 5)
        self._threads.clear()

    def __enter__(self) -> "EventPump":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()


def load_app(spec: str):
    """``module:attribute`` (default ``app:app``) imported from the current directory."""
    module_name, _, attribute = spec.partition(":")
    sys.path.insert(0, os.getcwd())
    return getattr(importlib.import_module(module_name), attribute or "app")


def main() -> None:
    parser = argparse.ArgumentParser(description="Feed the Chalice app's SQS, SNS and schedule handlers locally")
    parser.add_argument("--app", default="app:app", help="module:attribute of the Chalice app")
    parser.add_argument("--endpoint", default=os.environ.get("AWS_ENDPOINT"), help="moto server URL")
    parser.add_argument("--wait-seconds", type=int, default=5, help="SQS long-poll wait")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    if not args.endpoint:
        parser.error("no moto endpoint: pass --endpoint or set AWS_ENDPOINT (the pump never talks to real AWS)")
    stopping = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stopping.set())
    pump = EventPump(load_app(args.app), args.endpoint, wait_seconds=args.wait_seconds)
    for line in pump.describe() or ["(the app registers no event source)"]:
        log.info("%s", line)
    with pump:
        stopping.wait()
    log.info("event pump stopped")


if __name__ == "__main__":
    main()
