"""Every SQS handler answers a partial batch response: in a batch with one failing message,
only that message is reported (``batchItemFailures``) and comes back; the others are done
and deleted. Also what each message's log lines carry: the invocation's request id, the
message's tenant, job and trace, none of them leaking into the next message.

The jobs handler is called as Lambda calls it (``app.handler_map``, middleware included) with
a Lambda-shaped batch of three chunk messages; the jobs are real (DynamoDB Local).
"""
from __future__ import annotations

import pytest

from chalicelib.handlers.queues import each_message
from chalicelib.services.jobs import framework as jobs
from chalicelib.services.jobs.framework import ChunkResult, job_kind
from devtools.event_pump import LambdaContext
from tests.job_helpers import ensure_jobs_queue, stored
from tests.log_capture import captured_logs

QUEUE_ARN = "arn:aws:sqs:eu-west-3:123456789012:ticketing-test-jobs"
TRACE = "Root=1-67891233-abcdef012345678912345678;Parent=53995c3f42cd8ad8;Sampled=1"


@job_kind("test.batch_one_chunk")
def one_chunk(actor, params, cursor, budget):
    budget.take()
    return ChunkResult(done=1, total=1, cursor=None)


@job_kind("test.batch_always_fails")
def always_fails(actor, params, cursor, budget):
    raise RuntimeError("this chunk always fails")


def _record(job, message_id: str, *, trace: str | None = None, queue_arn: str = QUEUE_ARN) -> dict:
    import json

    attributes = {"ApproximateReceiveCount": "1", **({"AWSTraceHeader": trace} if trace else {})}
    return {"messageId": message_id, "receiptHandle": f"handle-{message_id}", "eventSource": "aws:sqs",
            "body": json.dumps(jobs.chunk_message(job, 0)), "attributes": attributes, "messageAttributes": {},
            "eventSourceARN": queue_arn, "awsRegion": "eu-west-3", "md5OfBody": ""}


@pytest.fixture
def jobs_handler(app, monkeypatch):
    ensure_jobs_queue()  # starting a job queues its first chunk (left there: a stale copy, acknowledged later)
    monkeypatch.setattr(jobs, "_retry_soon", lambda chunk: None)  # these messages were never on a queue
    context = LambdaContext("ticketing-test-jobs", "eu-west-3")
    return lambda records: (app.handler_map["jobs"]({"Records": records}, context), context)


def test_one_failing_message_is_reported_alone_and_the_rest_of_its_batch_is_done(actor, jobs_handler):
    first = jobs.start_job(actor, "test.batch_one_chunk", {})
    failing = jobs.start_job(actor, "test.batch_always_fails", {})
    last = jobs.start_job(actor, "test.batch_one_chunk", {})

    answer, _ = jobs_handler([_record(first, "m-1"), _record(failing, "m-2"), _record(last, "m-3")])

    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    assert stored(actor.tenant_id, first.id).status == stored(actor.tenant_id, last.id).status == "succeeded"
    failed = stored(actor.tenant_id, failing.id)
    assert failed.attempts == 1 and failed.last_error == "RuntimeError: this chunk always fails"


def test_a_batch_without_failure_answers_an_empty_list(actor, jobs_handler):
    job = jobs.start_job(actor, "test.batch_one_chunk", {})
    assert jobs_handler([_record(job, "m-1")])[0] == {"batchItemFailures": []}


def test_each_message_logs_with_its_own_tenant_job_and_trace(actor, jobs_handler):
    failing = jobs.start_job(actor, "test.batch_always_fails", {})
    with captured_logs() as lines:
        _, context = jobs_handler([_record(failing, "m-1", trace=TRACE), {**_record(failing, "m-2"), "body": "{}"}])
    by_message = {}
    for line in lines:
        by_message.setdefault(line.get("message_id"), []).append(line)
    assert set(by_message) == {"m-1", "m-2"}
    for line in by_message["m-1"]:
        assert (line["request_id"], line["tenant"], line["job_id"]) == (context.aws_request_id, actor.tenant_id,
                                                                         failing.id)
        assert line["origin_trace"] == TRACE
    for line in by_message["m-2"]:  # malformed: nothing of the previous message's keys
        assert line["request_id"] == context.aws_request_id
        assert not {"tenant", "job_id", "origin_trace"} & set(line)


class _Record:
    def __init__(self, raw: dict) -> None:
        self.raw = raw

    def to_dict(self) -> dict:
        return self.raw


def test_on_a_fifo_queue_the_messages_after_a_failure_are_reported_unhandled_in_order():
    """Order matters on a FIFO queue (a site's print queue): after the first failure nothing more
    of the batch is handled, and all of it from there comes back in order."""
    handled = []

    def handle(record):
        handled.append(record["messageId"])
        if record["messageId"] == "m-2":
            raise RuntimeError("printer jammed")

    fifo = "arn:aws:sqs:eu-west-3:123456789012:ticketing-test-print-site.fifo"
    batch = [_Record({"messageId": f"m-{n}", "eventSourceARN": fifo}) for n in (1, 2, 3, 4)]
    assert each_message(batch, handle) == {"batchItemFailures": [{"itemIdentifier": "m-2"}, {"itemIdentifier": "m-3"},
                                                                 {"itemIdentifier": "m-4"}]}
    assert handled == ["m-1", "m-2"]
    handled.clear()
    standard = [_Record({**record.raw, "eventSourceARN": QUEUE_ARN}) for record in batch]
    assert each_message(standard, handle) == {"batchItemFailures": [{"itemIdentifier": "m-2"}]}
    assert handled == ["m-1", "m-2", "m-3", "m-4"]
