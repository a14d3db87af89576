"""SQS FIFO queues the app creates itself (a venue site's print queue) and sends to.

A FIFO queue is created with content-based deduplication off: every message names its own
``MessageDeduplicationId`` (SQS drops a message whose id it saw in the last five minutes) and
its ``MessageGroupId`` (messages of one group are delivered in order, one group at a time).
``CreateQueue`` answers the existing queue's URL when the attributes are the same, so creating
twice is harmless.
"""
from __future__ import annotations

import json

from chalicelib.adapters.aws import client
from chalicelib.adapters.queue import queue_url


def ensure_fifo_queue(name: str, *, visibility_seconds: int) -> str:
    """Create the FIFO queue ``name`` (ending ``.fifo``) if it does not exist; its URL."""
    if not name.endswith(".fifo"):
        raise ValueError(f"a FIFO queue's name ends with .fifo: {name!r}")
    answer = client("sqs").create_queue(QueueName=name, Attributes={
        "FifoQueue": "true", "ContentBasedDeduplication": "false",
        "VisibilityTimeout": str(visibility_seconds)})
    return answer["QueueUrl"]


def send_fifo(name: str, payload: dict, *, group_id: str, deduplication_id: str) -> str:
    """Send ``payload`` as JSON to the FIFO queue ``name``; the SQS message id."""
    answer = client("sqs").send_message(QueueUrl=queue_url(name), MessageBody=json.dumps(payload, sort_keys=True),
                                        MessageGroupId=group_id, MessageDeduplicationId=deduplication_id)
    return answer["MessageId"]
