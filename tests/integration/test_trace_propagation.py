"""A trace crosses from the API to the jobs: a message queued during a traced invocation
carries the invocation's X-Ray header as its ``AWSTraceHeader`` (moto server keeps system
attributes as SQS does), and the event pump hands it to the handler in the record's
attributes, where the job's log lines pick it up (``tests/integration/test_sqs_batches.py``).

Lambda gives each traced invocation its header in ``_X_AMZN_TRACE_ID``; here the test sets it.
"""
from __future__ import annotations

import secrets

from chalicelib.adapters import queue
from chalicelib.adapters.aws import client
from devtools.event_pump import sqs_record

TRACE = "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1"


def _queue() -> tuple[str, str]:
    name = f"trace-test-{secrets.token_hex(4)}"
    url = client("sqs").create_queue(QueueName=name)["QueueUrl"]
    return name, url


def _received(url: str) -> dict:
    [message] = client("sqs").receive_message(QueueUrl=url, AttributeNames=["All"], WaitTimeSeconds=1)["Messages"]
    return message


def test_a_message_sent_in_a_traced_invocation_carries_its_trace_header(monkeypatch):
    name, url = _queue()
    monkeypatch.setenv("_X_AMZN_TRACE_ID", TRACE)
    queue.send(name, {"job": "A"})
    record = sqs_record(_received(url), "arn:aws:sqs:eu-west-3:123456789012:" + name, "eu-west-3")
    assert record["attributes"]["AWSTraceHeader"] == TRACE


def test_a_message_sent_without_a_trace_carries_none(monkeypatch):
    name, url = _queue()
    monkeypatch.delenv("_X_AMZN_TRACE_ID", raising=False)
    queue.send(name, {"job": "A"})
    assert "AWSTraceHeader" not in _received(url).get("Attributes", {})

