"""The app's Lambda functions as the stack completes them: name, role, environment, event source.

Chalice writes each function (code, handler, memory, timeout, tracing, its schedule or
queue or topic, its log group with the stage's retention from ``.chalice/config.json``); the
functions are listed here from the app itself (:func:`app_functions`), so a function added
to the code is completed too, or packaging stops and says what it lacks (its grants).

What is merged into each function:

- ``FunctionName`` ``ticketing-{stage}-{name}``: a fixed name, so that its role can name its
  own log group without a cycle through the function.
- ``Role``: its own role (:mod:`infra.policies`).
- The environment the stack alone knows: bucket names (account and region in them), the
  user pool and app client (token checks), the SES configuration set, the sender, the public
  URL, the print dead-letter queue, the metrics namespace, and where secrets are read
  (``SECRETS_STORE=ssm``: SSM Parameter Store, never the environment).
- SQS event sources report partial batch failures (``ReportBatchItemFailures``): a message
  that fails comes back alone, the rest of its batch is done.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

LOG_RETENTION_DAYS = 90  # the stack's own log groups (API access log); the functions' come from Chalice's config
METRICS_NAMESPACE = "Ticketing"
CHALICE_CONFIG = Path(__file__).resolve().parents[1] / ".chalice" / "config.json"
CHALICE_DEFAULT_TIMEOUT = 60


def lambda_timeout(name: str) -> int:
    """The timeout Chalice gives function ``name`` in the stage being packaged (queues that feed a
    function need a visibility timeout of several times it)."""
    from chalicelib.config import settings

    config = json.loads(CHALICE_CONFIG.read_text())
    stage = config["stages"].get(settings.stage, {})
    return (stage.get("lambda_functions", {}).get(name, {}).get("lambda_timeout") or stage.get("lambda_timeout")
            or config.get("lambda_timeout") or CHALICE_DEFAULT_TIMEOUT)


@dataclass(frozen=True)
class AppFunction:
    name: str  # Chalice's name: api_handler, jobs, mail_events, ...
    handler_string: str | None  # None: the API handler (every route of app.py)
    kind: str  # api, sqs, sns, schedule
    source: str | None = None  # the queue or topic name of an sqs or sns function

    @property
    def resource(self) -> str:
        from chalice.utils import to_cfn_resource_name

        return "APIHandler" if self.kind == "api" else to_cfn_resource_name(self.name)

    @property
    def role(self) -> str:
        return f"{self.resource}Role"

    @property
    def log_group_resource(self) -> str:
        from chalice.utils import to_cfn_resource_name

        return to_cfn_resource_name(f"{self.name}-log-group")

    def function_name(self, stage: str) -> str:
        return f"ticketing-{stage}-{self.name}"


def app_functions() -> list[AppFunction]:
    """Every Lambda function of the app, from its Chalice wiring."""
    from chalice.app import ScheduledEventConfig, SNSEventConfig, SQSEventConfig

    from app import app

    found = [AppFunction("api_handler", None, "api")] if app.routes else []
    for source in app.event_sources:
        if isinstance(source, SQSEventConfig):
            found.append(AppFunction(source.name, source.handler_string, "sqs", source.queue))
        elif isinstance(source, SNSEventConfig):
            found.append(AppFunction(source.name, source.handler_string, "sns", source.topic))
        elif isinstance(source, ScheduledEventConfig):
            found.append(AppFunction(source.name, source.handler_string, "schedule"))
        else:
            raise SystemExit(f"infra/functions.py does not know the event source of {source.name} "
                             f"({type(source).__name__}): add it (its role, its alarms)")
    if app.pure_lambda_functions:
        raise SystemExit("infra/functions.py does not know pure Lambda functions yet: "
                         + ", ".join(function.name for function in app.pure_lambda_functions))
    return found


def environment() -> dict:
    """What every function reads from its environment besides Chalice's stage variables."""
    from infra import messaging

    return {
        "EXPORTS_BUCKET": {"Ref": "ExportsBucket"},
        "CARD_IMAGES_BUCKET": {"Ref": "CardImagesBucket"},
        "CARD_RESULTS_QUEUE": {"Fn::GetAtt": ["CardResultsQueue", "QueueName"]},
        "PRINT_DEAD_LETTERS_QUEUE_ARN": {"Fn::GetAtt": ["PrintDeadLetterQueue", "Arn"]},
        "SES_CONFIGURATION_SET": messaging.configuration_set_name(),
        "MAIL_FROM_ADDRESS": {"Ref": "MailFromAddress"},
        "PUBLIC_BASE_URL": {"Fn::Sub": "https://${Domain}"},
        "JWKS_URL": {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${StaffUserPool}"
                                "/.well-known/jwks.json"},
        "JWT_ISSUER": {"Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${StaffUserPool}"},
        "JWT_AUDIENCE": {"Ref": "StaffUserPoolClient"},
        "JWT_TOKEN_USES": "id,access",
        "SECRETS_STORE": "ssm",
        "GEOIP_DATABASE": {"Fn::If": ["HasGeoIpDatabase", {"Fn::Sub": "s3://${GeoIpDatabaseObject}"}, ""]},
        "POWERTOOLS_METRICS_NAMESPACE": METRICS_NAMESPACE,
    }


FUNCTION_CHECKOV_SKIPS = [
    {"id": "CKV_AWS_116", "comment": "Failures are kept where they happen: SQS dead-letter queues, the mail-events "
                                     "on-failure queue, the jobs' own records; schedules run again within the hour."},
    {"id": "CKV_AWS_117", "comment": "No VPC: the functions reach only AWS APIs and Stripe over TLS; no private "
                                     "network resource to reach, and a NAT would add cost and a failure point."},
    {"id": "CKV_AWS_115", "comment": "No reserved concurrency: a new account's pool is 10, which reserving would "
                                     "exhaust; throttles alarm instead (infra/alarms.py)."},
    {"id": "CKV_AWS_173", "comment": "The environment holds names and URLs only; secrets are read from SSM "
                                     "Parameter Store at run time (never in the environment)."},
]


def resources(functions: list[AppFunction]) -> dict:
    """What the stack merges into Chalice's functions and their log groups."""
    from chalice.utils import to_cfn_resource_name

    from chalicelib.config import settings

    merged = {}
    for function in functions:
        properties: dict = {"FunctionName": function.function_name(settings.stage),
                            "Role": {"Fn::GetAtt": [function.role, "Arn"]},
                            "Environment": {"Variables": environment()}}
        if function.kind == "sqs":
            event = to_cfn_resource_name(f"{function.name}-sqs-event-source")
            properties["Events"] = {event: {"Properties": {"FunctionResponseTypes": ["ReportBatchItemFailures"]}}}
        merged[function.resource] = {"Properties": properties,
                                     "Metadata": {"checkov": {"skip": FUNCTION_CHECKOV_SKIPS}}}
        # Named, not Chalice's ${Function} reference: the group then exists before the function
        # can run (the role grants no logs:CreateLogGroup), and the API handler's is right too.
        merged[function.log_group_resource] = {
            "Properties": {"LogGroupName": f"/aws/lambda/{function.function_name(settings.stage)}"},
            "Metadata": LOG_GROUP_CHECKOV}
    return merged


LOG_GROUP_CHECKOV = {"checkov": {"skip": [{
    "id": "CKV_AWS_158", "comment": "Encrypted by CloudWatch Logs' own key; a customer managed key would need a key "
                                    "policy for the logs service and buys no access separation here."}]}}


def log_group(name: str) -> dict:
    return {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": name, "RetentionInDays": LOG_RETENTION_DAYS},
            "Metadata": LOG_GROUP_CHECKOV}
