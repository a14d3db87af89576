"""The local event pump (devtools.event_pump) against moto server: SQS, SNS and schedules.

The Chalice app under test is built here (one SQS handler, one SNS handler registered
through a Blueprint, a rate and a cron schedule) with queue and topic names unique to
each test, so tests sharing the run's moto server never see each other's messages.
"""
from __future__ import annotations

import json
import os
import secrets
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone

import boto3
import pytest
from chalice import Blueprint, Chalice, Rate

from devtools.event_pump import EventPump


@dataclass
class Calls:
    """What the handlers saw; ``failing_bodies`` makes the SQS handler fail on those bodies."""

    sqs: list[dict] = field(default_factory=list)
    sns: list[dict] = field(default_factory=list)
    rate: list[dict] = field(default_factory=list)
    cron: list[dict] = field(default_factory=list)
    failing_bodies: set[str] = field(default_factory=set)
    raise_on_failure: bool = True


def build_app(queue: str, topic: str, calls: Calls) -> Chalice:
    app = Chalice(app_name="pump-test")
    mail_events = Blueprint(__name__)

    @app.on_sqs_message(queue=queue, batch_size=5)
    def handle_job(event):
        records = list(event)
        calls.sqs.append({"bodies": [record.body for record in records], "raw": event.to_dict(),
                          "function": event.context.function_name,
                          "remaining_ms": event.context.get_remaining_time_in_millis()})
        failing = [record for record in records if record.body in calls.failing_bodies]
        if failing and calls.raise_on_failure:
            raise RuntimeError("job failed")
        return {"batchItemFailures": [{"itemIdentifier": record.to_dict()["messageId"]} for record in failing]}

    @mail_events.on_sns_message(topic=topic)
    def on_mail_event(event):
        calls.sns.append({"subject": event.subject, "message": event.message,
                          "attributes": event.message_attributes, "raw": event.to_dict()})

    @app.schedule(Rate(5, unit=Rate.MINUTES))
    def every_five_minutes(event):
        calls.rate.append(event.to_dict())

    @app.schedule("cron(0 8 * * ? *)")
    def every_morning(event):
        calls.cron.append(event.to_dict())

    app.register_blueprint(mail_events, name_prefix="mail_")
    return app


@pytest.fixture
def aws():
    def client(service: str):
        return boto3.client(service, endpoint_url=os.environ["AWS_ENDPOINT"], region_name=os.environ["AWS_REGION"])

    return client


@pytest.fixture
def names():
    suffix = secrets.token_hex(4)
    return {"queue": f"jobs-{suffix}", "topic": f"ses-events-{suffix}"}


@pytest.fixture
def calls():
    return Calls()


@pytest.fixture
def pump(names, calls):
    return EventPump(build_app(names["queue"], names["topic"], calls), os.environ["AWS_ENDPOINT"])


def queue_url(aws, name: str) -> str:
    return aws("sqs").get_queue_url(QueueName=name)["QueueUrl"]


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=timezone.utc)


def test_sources_are_read_from_the_app_including_blueprints(pump, names):
    assert pump.describe() == [
        f"sqs      {names['queue']} -> handle_job (batch 5)",
        f"sns      {names['topic']} -> mail_on_mail_event",
        "schedule rate(5 minutes) -> every_five_minutes",
        "schedule cron(0 8 * * ? *) -> every_morning",
    ]


def test_a_message_sent_to_the_queue_reaches_the_sqs_handler_then_leaves_the_queue(pump, calls, names, aws):
    pump.prepare()  # creates the queue, as the deployed stack would have
    url = queue_url(aws, names["queue"])
    aws("sqs").send_message(QueueUrl=url, MessageBody=json.dumps({"job": "export"}),
                            MessageAttributes={"kind": {"DataType": "String", "StringValue": "export"}})

    invocations = pump.run_once()

    assert [(i.kind, i.ok, i.records) for i in invocations] == [("sqs", True, 1)]
    assert calls.sqs[0]["bodies"] == ['{"job": "export"}']
    record = calls.sqs[0]["raw"]["Records"][0]
    assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"].endswith(f":{names['queue']}")
    assert record["messageAttributes"]["kind"] == {"stringValue": "export", "stringListValues": [],
                                                   "binaryListValues": [], "dataType": "String"}
    assert record["attributes"]["ApproximateReceiveCount"] == "1" and record["receiptHandle"]
    assert calls.sqs[0]["function"] == f"pump-test-{os.environ['STAGE']}-handle_job"
    assert 0 < calls.sqs[0]["remaining_ms"] <= 60_000
    assert pump.run_once() == []  # deleted after success: nothing is delivered twice


def test_a_batch_holds_up_to_batch_size_messages(pump, calls, names, aws):
    pump.prepare()
    url = queue_url(aws, names["queue"])
    aws("sqs").send_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": f"m{n}"} for n in range(7)])

    pump.run_once()
    pump.run_once()

    assert sorted(len(call["bodies"]) for call in calls.sqs) == [2, 5]
    assert sorted(body for call in calls.sqs for body in call["bodies"]) == [f"m{n}" for n in range(7)]


def test_a_failing_sqs_handler_leaves_the_message_for_redelivery(pump, calls, names, aws):
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=names["queue"], Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody="fragile")
    calls.failing_bodies = {"fragile"}

    failed = pump.run_once()
    calls.failing_bodies = set()
    hidden = pump.run_once()  # still invisible: nothing yet
    time.sleep(1.2)
    redelivered = pump.run_once()

    assert [(i.ok, i.error) for i in failed] == [(False, "RuntimeError: job failed")]
    assert hidden == []
    assert [i.ok for i in redelivered] == [True]
    assert calls.sqs[-1]["raw"]["Records"][0]["attributes"]["ApproximateReceiveCount"] == "2"
    assert pump.run_once() == []


def test_batch_item_failures_keep_only_the_failed_messages(pump, calls, names, aws):
    sqs = aws("sqs")
    url = sqs.create_queue(QueueName=names["queue"], Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": "good"},
                                                  {"Id": "b", "MessageBody": "bad"}])
    calls.failing_bodies, calls.raise_on_failure = {"bad"}, False

    first = pump.run_once()
    time.sleep(1.2)
    calls.failing_bodies = set()
    second = pump.run_once()

    assert [(i.ok, i.records, len(i.failed_ids)) for i in first] == [(False, 2, 1)]
    assert [call["bodies"] for call in calls.sqs] == [["good", "bad"], ["bad"]]
    assert [i.ok for i in second] == [True]


def test_a_publish_to_the_topic_reaches_the_sns_handler(pump, calls, names, aws):
    pump.prepare()
    sns = aws("sns")
    topic_arn = sns.create_topic(Name=names["topic"])["TopicArn"]  # same topic: create is idempotent
    sns.publish(TopicArn=topic_arn, Subject="Bounce", Message=json.dumps({"eventType": "Bounce"}),
                MessageAttributes={"tenant": {"DataType": "String", "StringValue": "theatre-lyon"}})

    invocations = pump.run_once()

    assert [(i.kind, i.source, i.ok) for i in invocations] == [("sns", "mail_on_mail_event", True)]
    assert calls.sns[0]["message"] == '{"eventType": "Bounce"}'
    assert calls.sns[0]["subject"] == "Bounce"
    assert calls.sns[0]["attributes"] == {"tenant": {"Type": "String", "Value": "theatre-lyon"}}
    record = calls.sns[0]["raw"]["Records"][0]
    assert record["EventSource"] == "aws:sns" and record["Sns"]["TopicArn"] == topic_arn
    assert record["Sns"]["MessageId"] and record["Sns"]["Timestamp"] and record["EventSubscriptionArn"]
    assert pump.run_once() == []


def test_rate_and_cron_schedules_fire_at_their_times(pump, calls):
    start = utc(2024, 3, 1, 7, 58, 30)

    assert pump.tick(start) == []  # the rules are "created": nothing fires yet
    assert pump.tick(utc(2024, 3, 1, 7, 59, 59)) == []
    assert [i.source for i in pump.tick(utc(2024, 3, 1, 8, 0, 0))] == ["every_morning"]
    assert pump.tick(utc(2024, 3, 1, 8, 0, 40)) == []  # once per matching minute
    assert [i.source for i in pump.tick(utc(2024, 3, 1, 8, 3, 30))] == ["every_five_minutes"]
    assert pump.tick(utc(2024, 3, 1, 8, 8, 29)) == []
    assert [i.source for i in pump.tick(utc(2024, 3, 1, 8, 8, 31))] == ["every_five_minutes"]
    # A day without ticks (a sleeping laptop): each schedule fires once, not once per miss.
    assert sorted(i.source for i in pump.tick(utc(2024, 3, 2, 8, 0, 10))) == ["every_five_minutes", "every_morning"]

    assert [event["time"] for event in calls.cron] == ["2024-03-01T08:00:00Z", "2024-03-02T08:00:00Z"]
    assert [event["time"] for event in calls.rate] == ["2024-03-01T08:03:30Z", "2024-03-01T08:08:30Z",
                                                       "2024-03-01T08:13:30Z"]
    event = calls.cron[0]
    assert (event["detail-type"], event["source"], event["version"], event["detail"]) == \
           ("Scheduled Event", "aws.events", "0", {})
    assert event["resources"][0].startswith("arn:aws:events:") and event["resources"][0].endswith("-every_morning")


def test_started_pump_feeds_in_the_background_and_stops(names, calls, aws):
    pump = EventPump(build_app(names["queue"], names["topic"], calls), os.environ["AWS_ENDPOINT"], wait_seconds=1)
    with pump:
        threads = list(pump._threads)
        aws("sqs").send_message(QueueUrl=queue_url(aws, names["queue"]), MessageBody="background")
        deadline = time.monotonic() + 5
        while not calls.sqs and time.monotonic() < deadline:
            time.sleep(0.05)
    assert calls.sqs[0]["bodies"] == ["background"]
    assert threads and not any(thread.is_alive() for thread in threads)
