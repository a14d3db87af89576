"""The stack's alarms, all to one SNS topic an admin subscribes to (``AlarmEmail``).

- Every dead-letter queue holding a message: something was given up on.
- Each Lambda function's errors and throttles.
- The API's 5xx answers.
- SES's reputation: SES puts an account under review at a 5% bounce rate or 0.1% complaint
  rate and may stop its sending; the alarms fire well before (2% and 0.05%).
- Two of the app's own metrics (CloudWatch embedded metrics, namespace ``Ticketing``,
  dimensions ``service=ticketing`` and ``stage=<stage>``; see :data:`APP_METRICS`): instalment
  collection failures, and printers silent for too long.

Each alarm also says when it is back to normal, so a night's alarm is not left wondering.
"""
from __future__ import annotations

from infra.functions import METRICS_NAMESPACE, AppFunction

FIVE_MINUTES = 300
BOUNCE_RATE_ALARM = 0.02  # SES reviews the account at 0.05
COMPLAINT_RATE_ALARM = 0.0005  # SES reviews the account at 0.001
API_5XX_PER_5_MINUTES = 5
INSTALMENT_FAILURES_PER_HOUR = 5
# The app's metrics the alarms watch: name -> what the app emits (chalicelib/adapters/metrics.py).
APP_METRICS = {
    "InstalmentCollectionFailures": "Count, once per instalment collector run: the instalments whose charge "
                                    "failed in the run (declined, refused, or an error), 0 when none.",
    "SilentPrinters": "Count, every 5 minutes: the registered printers whose last heartbeat is older than 15 "
                      "minutes, 0 when none.",
}


def _alarm(name: str, description: str, metric: dict, *, threshold: float, statistic: str = "Sum",
           period: int = FIVE_MINUTES, periods: int = 1, missing: str = "notBreaching") -> dict:
    from chalicelib.config import settings

    return {"Type": "AWS::CloudWatch::Alarm", "Properties": {
        "AlarmName": f"ticketing-{settings.stage}-{name}", "AlarmDescription": description,
        **metric, "Statistic": statistic, "Period": period, "EvaluationPeriods": periods,
        "Threshold": threshold, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": missing,
        "AlarmActions": [{"Ref": "AlarmTopic"}], "OKActions": [{"Ref": "AlarmTopic"}]}}


def _metric(namespace: str, name: str, **dimensions) -> dict:
    return {"Namespace": namespace, "MetricName": name,
            "Dimensions": [{"Name": key, "Value": value} for key, value in dimensions.items()]}


def topic() -> dict:
    return {
        "AlarmTopic": {"Type": "AWS::SNS::Topic", "Properties": {"DisplayName": "Billetterie alarms"},
                       "Metadata": {"checkov": {"skip": [{
                           "id": "CKV_AWS_26",
                           "comment": "CloudWatch cannot publish to a topic encrypted with the AWS managed SNS key; "
                                      "alarm states carry no personal data."}]}}},
        "AlarmSubscription": {"Type": "AWS::SNS::Subscription", "Properties": {
            "TopicArn": {"Ref": "AlarmTopic"}, "Protocol": "email", "Endpoint": {"Ref": "AlarmEmail"}}},
    }


def dead_letter_alarms() -> dict:
    from infra import messaging

    return {f"{logical}Alarm": _alarm(
        f"{name.removesuffix('.fifo')}-not-empty", f"{name} holds a message something gave up on: read it, mend, "
        "then redrive it or delete it",
        _metric("AWS/SQS", "ApproximateNumberOfMessagesVisible", QueueName=name), threshold=1, statistic="Maximum")
        for logical, name in messaging.dead_letter_queues().items()}


def function_alarms(functions: list[AppFunction]) -> dict:
    alarms = {}
    for function in functions:
        name = {"Ref": function.resource}
        alarms[f"{function.resource}ErrorsAlarm"] = _alarm(
            f"{function.name}-errors", f"The {function.name} function failed (an exception or a timeout)",
            _metric("AWS/Lambda", "Errors", FunctionName=name), threshold=1)
        alarms[f"{function.resource}ThrottlesAlarm"] = _alarm(
            f"{function.name}-throttles", f"The {function.name} function was throttled (concurrency exhausted)",
            _metric("AWS/Lambda", "Throttles", FunctionName=name), threshold=1)
    return alarms


def api_alarms() -> dict:
    from chalicelib.config import settings

    return {"Api5xxAlarm": _alarm(
        "api-5xx", "The API answered 5xx several times in 5 minutes",
        _metric("AWS/ApiGateway", "5XXError", ApiName=f"ticketing-{settings.stage}", Stage="api"),
        threshold=API_5XX_PER_5_MINUTES)}


def mail_alarms() -> dict:
    return {
        "MailBounceRateAlarm": _alarm(
            "mail-bounce-rate", "SES bounce rate at 2%: SES reviews the account at 5% (check the lists, the imports)",
            _metric("AWS/SES", "Reputation.BounceRate"), threshold=BOUNCE_RATE_ALARM, statistic="Maximum",
            period=3600),
        "MailComplaintRateAlarm": _alarm(
            "mail-complaint-rate", "SES complaint rate at 0.05%: SES reviews the account at 0.1% (check the "
            "campaigns' consent)", _metric("AWS/SES", "Reputation.ComplaintRate"), threshold=COMPLAINT_RATE_ALARM,
            statistic="Maximum", period=3600),
    }


def app_metric_alarms() -> dict:
    from chalicelib.config import settings

    dimensions = {"service": "ticketing", "stage": settings.stage}
    return {
        "InstalmentFailuresAlarm": _alarm(
            "instalment-collection-failures", "Several instalments failed to be collected within the hour",
            _metric(METRICS_NAMESPACE, "InstalmentCollectionFailures", **dimensions),
            threshold=INSTALMENT_FAILURES_PER_HOUR, period=3600),
        "SilentPrintersAlarm": _alarm(
            "printers-silent", "A venue's printer has sent no heartbeat for over 15 minutes",
            _metric(METRICS_NAMESPACE, "SilentPrinters", **dimensions), threshold=1, statistic="Maximum",
            periods=2),
    }


def resources(functions: list[AppFunction]) -> dict:
    alarms = topic()
    alarms.update(dead_letter_alarms())
    alarms.update(function_alarms(functions))
    alarms.update(api_alarms())
    alarms.update(mail_alarms())
    alarms.update(app_metric_alarms())
    return alarms
