"""SQS queues by name: send a JSON message, or ask for a received message back later.

Queue URLs are resolved once per process (``GetQueueUrl``) and cached: a Lambda container
serves many messages, and the URL of a queue never changes while it exists. Locally the
queues are created by the event pump (``devtools/event_pump.py``) from the app's event
sources; in AWS by the stack.

A message sent during a traced invocation carries its X-Ray trace header as the
``AWSTraceHeader`` system attribute, so the trace of the Lambda that handles it is linked to
the request that queued it (see :mod:`chalicelib.observability`).
"""
from __future__ import annotations

import json
from functools import lru_cache

from chalicelib.adapters.aws import client
from chalicelib.observability import trace_header

MAX_VISIBILITY_SECONDS = 12 * 60 * 60  # SQS refuses a longer visibility timeout


@lru_cache(maxsize=None)
def queue_url(name: str) -> str:
    """The URL of queue ``name`` (failures are not cached: a later call asks again)."""
    return client("sqs").get_queue_url(QueueName=name)["QueueUrl"]


def send(queue: str, payload: dict, *, delay_seconds: int = 0) -> str:
    """Send ``payload`` as a JSON message to ``queue`` (delivered after ``delay_seconds``, at
    most 15 minutes); returns the SQS message id."""
    message = {"QueueUrl": queue_url(queue), "MessageBody": json.dumps(payload, sort_keys=True),
               "DelaySeconds": max(0, min(delay_seconds, 900))}
    traced = trace_header()
    if traced:
        message["MessageSystemAttributes"] = {"AWSTraceHeader": {"DataType": "String", "StringValue": traced}}
    return client("sqs").send_message(**message)["MessageId"]


def retry_later(queue: str, receipt_handle: str, seconds: int) -> None:
    """Make a received message visible again in ``seconds`` (instead of the queue's whole
    visibility timeout): the handler then raises, and SQS delivers the message again."""
    client("sqs").change_message_visibility(QueueUrl=queue_url(queue), ReceiptHandle=receipt_handle,
                                            VisibilityTimeout=max(0, min(seconds, MAX_VISIBILITY_SECONDS)))
