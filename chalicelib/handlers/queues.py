"""What every SQS handler shares: a batch handled message by message, its failures reported.

Lambda's SQS event source deletes a batch's messages when the function returns. With
``FunctionResponseTypes: [ReportBatchItemFailures]`` on the event source mapping (the
template sets it), the function answers ``{"batchItemFailures": [{"itemIdentifier": id}]}``
and only the messages named there come back: one bad message no longer replays its whole
batch, nor blocks it. :func:`each_message` is that loop, for every SQS handler of the app.

On a FIFO queue, order matters: after the first failure the rest of the batch is not handled
and is reported failed too, so the messages come back in their order.

Each message's log lines carry the invocation's keys plus its ``message_id`` and, when the
sender was traced, ``origin_trace`` (its X-Ray header, the message's ``AWSTraceHeader``); the
keys a handler adds for one message (tenant, job) are gone before the next one.
"""
from __future__ import annotations

from typing import Any, Callable

from chalicelib.observability import logger


def each_message(event: Any, handle: Callable[[dict], Any]) -> dict:
    """``handle(record)`` for each record of the Chalice SQS ``event``; the partial batch answer."""
    invocation_keys = logger.get_current_keys()
    failures: list[dict[str, str]] = []
    for record in (record.to_dict() for record in event):
        message_id = record["messageId"]
        if failures and record.get("eventSourceARN", "").endswith(".fifo"):
            failures.append({"itemIdentifier": message_id})  # not handled: after the failed one, in order
            continue
        logger.clear_state()
        logger.append_keys(**invocation_keys, message_id=message_id,
                           origin_trace=(record.get("attributes") or {}).get("AWSTraceHeader"))
        try:
            handle(record)
        except Exception:  # noqa: BLE001 - reported to SQS, which delivers this message again
            logger.exception("sqs: message %s failed; it will be delivered again", message_id)
            failures.append({"itemIdentifier": message_id})
    logger.clear_state()
    logger.append_keys(**invocation_keys)
    return {"batchItemFailures": failures}
