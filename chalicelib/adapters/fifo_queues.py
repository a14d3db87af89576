"""SQS FIFO queues the app creates itself (a venue site's print queue) and sends to.

A FIFO queue is created with content-based deduplication off: every message names its own
``MessageDeduplicationId`` (SQS drops a message whose id it saw in the last five minutes) and
its ``MessageGroupId`` (messages of one group are delivered in order, one group at a time).
Ensuring a queue twice is harmless, and brings an older queue up to today's attributes. With a
dead-letter queue (``PRINT_DEAD_LETTERS_QUEUE_ARN``, the stack's), a
message received :data:`MAX_RECEIVES` times without being deleted (an agent failing on it again
and again) moves there, where the stack's alarm on that queue's depth sees it.
"""
from __future__ import annotations

import json

from chalicelib.adapters.aws import client
from chalicelib.adapters.queue import queue_url

# Receptions before a print message goes to the dead letters: an agent receives a message again
# after a restart or when it gives unstarted ones back; a printer waiting for paper extends it.
MAX_RECEIVES = 50


def ensure_fifo_queue(name: str, *, visibility_seconds: int, dead_letters_arn: str | None = None) -> str:
    """The FIFO queue ``name`` (ending ``.fifo``), created if it does not exist, with the
    visibility timeout and the redrive to the FIFO queue ``dead_letters_arn`` (when given) set
    on it whether it is new or not: a queue made before the stack had a dead-letter queue, or
    with another timeout, is brought up to them (``CreateQueue`` refuses other attributes for an
    existing queue, ``SetQueueAttributes`` sets them); its URL."""
    if not name.endswith(".fifo"):
        raise ValueError(f"a FIFO queue's name ends with .fifo: {name!r}")
    settable = {"VisibilityTimeout": str(visibility_seconds)}
    if dead_letters_arn:
        settable["RedrivePolicy"] = json.dumps({"deadLetterTargetArn": dead_letters_arn,
                                                "maxReceiveCount": str(MAX_RECEIVES)})
    sqs = client("sqs")
    try:
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    except sqs.exceptions.QueueDoesNotExist:
        try:
            return sqs.create_queue(QueueName=name, Attributes={"FifoQueue": "true",
                                                                "ContentBasedDeduplication": "false",
                                                                **settable})["QueueUrl"]
        except sqs.exceptions.QueueNameExists:  # made meanwhile by a concurrent request: set below
            url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes=settable)
    return url


def send_fifo(name: str, payload: dict, *, group_id: str, deduplication_id: str) -> str:
    """Send ``payload`` as JSON to the FIFO queue ``name``; the SQS message id."""
    answer = client("sqs").send_message(QueueUrl=queue_url(name), MessageBody=json.dumps(payload, sort_keys=True),
                                        MessageGroupId=group_id, MessageDeduplicationId=deduplication_id)
    return answer["MessageId"]
