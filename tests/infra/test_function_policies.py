"""Each function's role allows what its code calls and nothing else.

The roles come from the hand-written grants (``infra/grants/``); the calls are read from the
code by :mod:`infra.aws_calls` (boto3 client methods, Powertools' SSM reads, PynamoDB
operations and the model classes named), starting at each function's handler. Both ways: a
call without a grant (the function would fail in AWS with AccessDenied) and a grant no code
uses (more than least privilege) fail here. What Lambda itself needs (log group, X-Ray, the
SQS event source, an on-failure destination) is the platform's, compared separately.
"""
from __future__ import annotations

import pytest

from infra import aws_calls, functions, policies
from infra.policies import EVENT_SOURCE_ACTIONS, LOG_ACTIONS, TRACING_ACTIONS

PLATFORM_SIDS = {"OwnLogGroup", "Tracing", "EventSource", "OnFailure"}
# Granted ahead of the code of another change that calls them: allowed while no code calls them
# yet, and this test says so the day the code lands, so that the grant is then checked like the rest.
AHEAD_OF_CODE: dict[str, set[str]] = {}


def _statements(function: functions.AppFunction) -> list[dict]:
    document = policies.role(function)["Properties"]["Policies"][0]["PolicyDocument"]
    return [statement.get("Fn::If", [None, statement])[1] for statement in document["Statement"]]


def granted(function: functions.AppFunction) -> tuple[set[str], set[str]]:
    """The actions of the code's statements, and the tables they name."""
    from chalicelib.config import settings

    actions, tables = set(), set()
    for statement in _statements(function):
        if statement["Sid"] in PLATFORM_SIDS:
            continue
        actions.update(statement["Action"])
        if statement["Sid"] == "Tables":
            tables.update(resource["Fn::Sub"].rpartition("table/")[2] for resource in statement["Resource"]
                          if "/index/" not in resource["Fn::Sub"])
    prefix = settings.table_prefix
    return actions, {table.removeprefix(prefix) for table in tables}


def called(function: functions.AppFunction) -> tuple[set[str], set[str]]:
    from chalicelib.config import settings

    needs = aws_calls.needs_of(aws_calls.function_entries(function.handler_string))
    return needs.actions, {table.removeprefix(settings.table_prefix) for table in needs.tables}


APP_FUNCTIONS = functions.app_functions()


@pytest.mark.parametrize("function", APP_FUNCTIONS, ids=[f.name for f in APP_FUNCTIONS])
def test_the_role_allows_what_the_code_calls_and_nothing_else(function):
    granted_actions, granted_tables = granted(function)
    called_actions, called_tables = called(function)
    ahead = AHEAD_OF_CODE.get(function.name, set())
    assert not ahead & called_actions, f"the code now calls {ahead & called_actions}: drop them from AHEAD_OF_CODE"
    assert {"called but not granted": called_actions - granted_actions,
            "granted but never called": granted_actions - called_actions - ahead} == \
           {"called but not granted": set(), "granted but never called": set()}
    assert {"tables used but not granted": called_tables - granted_tables,
            "tables granted but unused": granted_tables - called_tables} == \
           {"tables used but not granted": set(), "tables granted but unused": set()}


@pytest.mark.parametrize("function", APP_FUNCTIONS, ids=[f.name for f in APP_FUNCTIONS])
def test_lambda_gets_only_what_running_the_function_needs(function):
    platform = {s["Sid"]: set(s["Action"]) for s in _statements(function) if s["Sid"] in PLATFORM_SIDS}
    expected = {"OwnLogGroup": set(LOG_ACTIONS), "Tracing": set(TRACING_ACTIONS)}
    if function.kind == "sqs":
        expected["EventSource"] = set(EVENT_SOURCE_ACTIONS)
    if function.name == "mail_events":
        expected["OnFailure"] = {"sqs:SendMessage"}
    assert platform == expected


def test_the_reading_finds_the_calls_it_is_trusted_with():
    """The reader itself: known calls are found, local-only ones are not, a Scan would be."""
    queue = aws_calls.module_needs("chalicelib.adapters.queue").actions
    assert {"sqs:GetQueueUrl", "sqs:SendMessage", "sqs:ChangeMessageVisibility"} <= queue
    storage = aws_calls.module_needs("chalicelib.adapters.storage").actions
    assert {"s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload"} <= storage
    assert "s3:CreateBucket" not in storage  # moto's bucket, created locally only
    assert "s3:GetObject" in aws_calls.module_needs("chalicelib.adapters.geoip").actions  # download_file
    assert "ses:SendEmail" in aws_calls.module_needs("chalicelib.adapters.mail").actions
    mail_events = aws_calls.needs_of(aws_calls.function_entries("chalicelib.handlers.mail.on_mail_event"))
    assert "chalicelib.handlers.catalog" not in mail_events.modules  # a handler's reach, not the app's
    assert not any(action == "dynamodb:Scan" for function in APP_FUNCTIONS for action in called(function)[0])


def test_a_missing_grant_is_caught(monkeypatch):
    jobs = next(function for function in APP_FUNCTIONS if function.name == "jobs")
    declared = policies.grants(jobs)
    monkeypatch.setattr(policies, "grants", lambda function: {
        **declared, "actions": [a for a in declared["actions"] if a != "ses:SendEmail"],
        "tables": [t for t in declared["tables"] if t != "orders"]})
    actions, tables = granted(jobs)
    called_actions, called_tables = called(jobs)
    assert called_actions - actions == {"ses:SendEmail"} and called_tables - tables == {"orders"}
