"""The stack's queues and topics, every queue with its dead-letter queue.

- The jobs queue: its dead-letter queue takes a message only after the jobs framework itself
  has given up (``MAX_DELIVERIES``), and its visibility timeout is six times the jobs Lambda's
  (as ``.chalice/config.json`` sets it).
- The card results queue (standard): the venues' agents report print results and printer
  heartbeats there; a message its consumer keeps failing on lands in its dead-letter queue.
- The print queues, one FIFO queue per site, are created by the app when staff register a
  site (``{PRINT_QUEUE_PREFIX}{site_id}.fifo``); the stack gives them their dead-letter queue
  (FIFO too, as SQS requires), whose ARN the app reads from ``PRINT_DEAD_LETTERS_QUEUE_ARN``.
- The mail-events topic, the SES configuration set publishing every delivery event to it, and
  the queue where an event the mail-events Lambda failed on lands after Lambda's retries.

Every queue is encrypted with SQS's own key (SSE-SQS) and keeps a dead letter 14 days.
"""
from __future__ import annotations

KEEP_DEAD_LETTERS_SECONDS = 14 * 24 * 3600  # SQS's longest
VISIBILITY_PER_TIMEOUT = 6  # SQS's advice: a visibility timeout of six times the consumer's timeout
CARD_RESULTS_MAX_RECEIVES = 5
PRINT_MAX_RECEIVES = 5


QUEUE_CHECKOV = {"checkov": {"skip": [{
    "id": "CKV_AWS_27", "comment": "Encrypted at rest by SQS's own key (SqsManagedSseEnabled), which the check does not "
                                   "know; a KMS key would need kms:Decrypt for Lambda's event source and every sender."}]}}


def _queue(name: str | dict, **properties) -> dict:
    return {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": name, "SqsManagedSseEnabled": True, **properties},
            "Metadata": QUEUE_CHECKOV}


def _dead_letters(name: str, **properties) -> dict:
    return _queue(name, MessageRetentionPeriod=KEEP_DEAD_LETTERS_SECONDS, **properties)


def _redrive(dead_letters: str, max_receives: int) -> dict:
    return {"deadLetterTargetArn": {"Fn::GetAtt": [dead_letters, "Arn"]}, "maxReceiveCount": max_receives}


def dead_letter_queues() -> dict[str, str]:
    """Logical name -> queue name of every dead-letter queue (each gets a depth alarm)."""
    return {name: resource["Properties"]["QueueName"] for name, resource in resources().items()
            if name.endswith("DeadLetterQueue")}


def print_dead_letters_name() -> str:
    from chalicelib.config import settings

    return f"{settings.print_queue_prefix}dead-letters.fifo"


def resources() -> dict:
    from chalicelib.config import settings
    from chalicelib.services.jobs.framework import MAX_DELIVERIES
    from infra.functions import lambda_timeout

    # The card results' consumer is not written yet: the stage's default timeout.
    card_results_visibility = VISIBILITY_PER_TIMEOUT * lambda_timeout("card_results")
    return {
        "JobsDeadLetterQueue": _dead_letters(f"{settings.jobs_queue}-dead-letters"),
        "JobsQueue": _queue(settings.jobs_queue, VisibilityTimeout=VISIBILITY_PER_TIMEOUT * lambda_timeout("jobs"),
                            RedrivePolicy=_redrive("JobsDeadLetterQueue", MAX_DELIVERIES + 5)),
        "CardResultsDeadLetterQueue": _dead_letters(f"{settings.card_results_queue}-dead-letters"),
        "CardResultsQueue": _queue(settings.card_results_queue, VisibilityTimeout=card_results_visibility,
                                   RedrivePolicy=_redrive("CardResultsDeadLetterQueue", CARD_RESULTS_MAX_RECEIVES)),
        "PrintDeadLetterQueue": _dead_letters(print_dead_letters_name(), FifoQueue=True),
        "MailEventsTopic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": settings.mail_events_topic},
                            "Metadata": {"checkov": {"skip": [{
                                "id": "CKV_AWS_26",
                                "comment": "SES cannot publish to a topic encrypted with the AWS managed SNS key; "
                                           "a customer managed key granting ses.amazonaws.com is a later step."}]}}},
        # SNS invokes the mail-events Lambda asynchronously: after Lambda's retries, an event that
        # still fails lands here instead of being lost.
        "MailEventsDeadLetterQueue": _dead_letters(f"{settings.mail_events_topic}-failed"),
        "MailEventsOnFailure": {"Type": "AWS::Lambda::EventInvokeConfig", "Properties": {
            "FunctionName": {"Ref": "MailEvents"}, "Qualifier": "$LATEST", "MaximumRetryAttempts": 2,
            "DestinationConfig": {"OnFailure": {"Destination": {"Fn::GetAtt": ["MailEventsDeadLetterQueue", "Arn"]}}}}},
        "MailConfigurationSet": {"Type": "AWS::SES::ConfigurationSet", "Properties": {
            "Name": configuration_set_name()}},
        "MailEventsDestination": {"Type": "AWS::SES::ConfigurationSetEventDestination", "Properties": {
            "ConfigurationSetName": {"Ref": "MailConfigurationSet"},
            "EventDestination": {
                "Name": "delivery-events", "Enabled": True,
                "MatchingEventTypes": ["send", "delivery", "bounce", "complaint", "reject", "deliveryDelay",
                                       "renderingFailure", "subscription"],
                "SnsDestination": {"TopicARN": {"Ref": "MailEventsTopic"}}}}},
    }


def configuration_set_name() -> str:
    from chalicelib.config import settings

    return settings.ses_configuration_set or f"ticketing-{settings.stage}"
