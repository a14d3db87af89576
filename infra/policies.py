"""Each Lambda function's IAM role: what its code calls, on the stage's own resources, and no more.

What a function's code calls is declared by hand in ``infra/grants/<function>.json`` (Chalice's
policy autogeneration cannot see ``chalicelib``): the DynamoDB tables and actions, the other
AWS actions, the queues and buckets they apply to, whether it reads the GeoIP database and the
secrets. ``tests/infra/test_function_policies.py`` compares each declaration with the calls
read from the code (:mod:`infra.aws_calls`), both ways: a call without a grant, or a grant no
code uses, fails the tests. A new function has no grants file: packaging stops and says so.

Every resource is named (table, index, queue, bucket, parameter path, log group, SES identity
and configuration set); ``*`` remains only where AWS has no resource to name (X-Ray).

Added to every role, for Lambda itself rather than the code: writing the function's own log
group, X-Ray segments, and for a function fed by SQS, reading and deleting its queue's
messages; the mail-events function also sends to its on-failure queue.
"""
from __future__ import annotations

import json
from pathlib import Path

from infra.functions import AppFunction

GRANTS = Path(__file__).resolve().parent / "grants"
QUEUES = {"jobs": "JobsQueue", "card_results": "CardResultsQueue"}
BUCKETS = {"exports": "ExportsBucket", "card_images": "CardImagesBucket"}
# The per-site print queues, created by the app at run time: named by their prefix.
PRINT_QUEUE_ACTIONS = ["sqs:CreateQueue", "sqs:GetQueueUrl", "sqs:SendMessage", "sqs:SetQueueAttributes"]
EVENT_SOURCE_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
TRACING_ACTIONS = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]


def grants(function: AppFunction) -> dict:
    path = GRANTS / f"{function.name}.json"
    if not path.exists():
        raise SystemExit(f"{path.relative_to(GRANTS.parent.parent)} is missing: declare what the function "
                         f"{function.name} calls (tables, actions, queues, buckets, secrets)")
    return json.loads(path.read_text())


def _arn(service: str, resource: str) -> dict:
    return {"Fn::Sub": f"arn:${{AWS::Partition}}:{service}:${{AWS::Region}}:${{AWS::AccountId}}:{resource}"}


def _statement(sid: str, actions: list[str], resources: list, **extra) -> dict:
    return {"Sid": sid, "Effect": "Allow", "Action": sorted(actions), "Resource": resources, **extra}


def _by_service(actions: list[str], service: str) -> list[str]:
    return [action for action in actions if action.startswith(f"{service}:")]


def code_statements(function: AppFunction, granted: dict) -> list:
    """The statements of what ``function``'s code calls, from its grants."""
    from chalicelib.config import settings

    statements = []
    if granted["tables"]:
        names = [f"{settings.table_prefix}{table}" for table in granted["tables"]]
        resources = [_arn("dynamodb", f"table/{name}") for name in names]
        resources += [_arn("dynamodb", f"table/{name}/index/*") for name in names]
        statements.append(_statement("Tables", [f"dynamodb:{action}" for action in granted["table_actions"]],
                                     resources))
    actions = granted["actions"]
    if granted["queues"]:
        statements.append(_statement("Queues", _by_service(actions, "sqs"),
                                     [{"Fn::GetAtt": [QUEUES[queue], "Arn"]} for queue in granted["queues"]]))
    if granted.get("print_queues"):
        statements.append(_statement("PrintQueues", PRINT_QUEUE_ACTIONS,
                                     [_arn("sqs", f"{settings.print_queue_prefix}*")]))
    if granted["buckets"]:
        statements.append(_statement("Files", _by_service(actions, "s3"),
                                     [{"Fn::Sub": f"${{{BUCKETS[bucket]}.Arn}}/*"} for bucket in granted["buckets"]]))
    if granted["geoip_database"]:
        statements.append({"Fn::If": ["HasGeoIpDatabase", _statement(
            "GeoIpDatabase", ["s3:GetObject"], [{"Fn::Sub": "arn:${AWS::Partition}:s3:::${GeoIpDatabaseObject}"}]),
            {"Ref": "AWS::NoValue"}]})
    if _by_service(actions, "ses"):
        statements.append(_mail_statement(_by_service(actions, "ses")))
    if granted["secrets"]:
        statements += _secrets_statements()
    return statements


def _mail_statement(actions: list[str]) -> dict:
    """Sending (SES v2 SendEmail) checks the sender's identity and the configuration set: only
    the stage's domain and set, only from an address of that domain."""
    from infra import messaging

    domain = {"Domain": {"Fn::Select": [1, {"Fn::Split": ["@", {"Ref": "MailFromAddress"}]}]}}
    return _statement("SendMail", actions, [
        {"Fn::Sub": ["arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/${Domain}", domain]},
        _arn("ses", f"configuration-set/{messaging.configuration_set_name()}")],
        Condition={"StringLike": {"ses:FromAddress": {"Fn::Sub": ["*@${Domain}", domain]}}})


def _secrets_statements() -> list[dict]:
    """The stage's SecureString parameters, and their decryption by SSM's key, only through SSM
    and only for those parameters (the key's encryption context names the parameter)."""
    from chalicelib.config import settings

    path = f"parameter/ticketing/{settings.stage}/*"
    return [
        _statement("Secrets", ["ssm:GetParameter"], [_arn("ssm", path)]),
        _statement("SecretsDecryption", ["kms:Decrypt"], [_arn("kms", "key/*")], Condition={
            "StringEquals": {"kms:ViaService": {"Fn::Sub": "ssm.${AWS::Region}.amazonaws.com"}},
            "StringLike": {"kms:EncryptionContext:PARAMETER_ARN": _arn("ssm", path)}}),
    ]


def platform_statements(function: AppFunction, granted: dict) -> list:
    """What Lambda needs to run ``function``, whatever its code does."""
    from chalicelib.config import settings

    log_group = f"log-group:/aws/lambda/{function.function_name(settings.stage)}:*"
    statements = [_statement("OwnLogGroup", LOG_ACTIONS, [_arn("logs", log_group)]),
                  _statement("Tracing", TRACING_ACTIONS, ["*"])]  # X-Ray has no resource to name
    if function.kind == "sqs":
        statements.append(_statement("EventSource", EVENT_SOURCE_ACTIONS, [_arn("sqs", function.source)]))
    if function.name == "mail_events":
        statements.append(_statement("OnFailure", ["sqs:SendMessage"],
                                     [{"Fn::GetAtt": ["MailEventsDeadLetterQueue", "Arn"]}]))
    return statements


def role(function: AppFunction) -> dict:
    granted = grants(function)
    document = {"Version": "2012-10-17",
                "Statement": code_statements(function, granted) + platform_statements(function, granted)}
    return {"Type": "AWS::IAM::Role", "Properties": {
        "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]},
        "Policies": [{"PolicyName": function.name, "PolicyDocument": document}]}}


def resources(functions: list[AppFunction]) -> dict:
    return {function.role: role(function) for function in functions}
