"""The packaged prod template: what a deploy would create, checked without an AWS account.

cfn-lint (CloudFormation's own resource specifications, after the SAM transform) with no
error and no warning; checkov's security scan with no failed check and every skipped check
explained next to its resource; and what the issue asks of the stack, resource by resource."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from infra import functions, messaging

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".local" / "checkov" / "bin" / "checkov"


def _of_type(sam: dict, kind: str) -> dict:
    return {name: resource for name, resource in sam["Resources"].items() if resource.get("Type") == kind}


@pytest.mark.slow
def test_cfn_lint_finds_no_error_and_no_warning(packaged):
    lint = Path(sys.executable).with_name("cfn-lint")
    result = subprocess.run([str(lint), str(packaged / "sam.json")], capture_output=True, text=True, timeout=600)
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


@pytest.mark.slow
def test_checkov_fails_nothing_and_every_skip_says_why(packaged):
    assert CHECKOV.exists(), "checkov's own virtualenv is missing: make checkov"
    offline = {"CKV_SKIP_PACKAGE_UPDATE_CHECK": "true", "BC_SKIP_MAPPING": "TRUE", "REQUEST_MAX_TRIES": "1",
               "SLEEP_BETWEEN_REQUEST_TRIES": "0"}
    result = subprocess.run([str(CHECKOV), "-f", str(packaged / "sam.json"), "--framework", "cloudformation",
                             "--skip-download", "-o", "json"], capture_output=True, text=True,
                            timeout=600, env={**os.environ, **offline})
    report = json.loads(result.stdout)
    failed = [(check["check_id"], check["resource"]) for check in report["results"]["failed_checks"]]
    assert failed == [] and report["summary"]["parsing_errors"] == 0
    assert report["summary"]["passed"] > 100  # it did scan the resources
    unexplained = [(check["check_id"], check["resource"]) for check in report["results"]["skipped_checks"]
                   if len((check["check_result"].get("suppress_comment") or "").strip()) < 20]
    assert unexplained == []


def test_what_holds_data_is_retained_on_deletion_and_replacement(sam):
    tables = _of_type(sam, "AWS::DynamoDB::Table")
    assert len(tables) > 40
    holders = {**tables, **_of_type(sam, "AWS::S3::Bucket"), **_of_type(sam, "AWS::Cognito::UserPool")}
    assert {(r["DeletionPolicy"], r["UpdateReplacePolicy"]) for r in holders.values()} == {("Retain", "Retain")}
    assert sam["Resources"]["StaffUserPool"]["Properties"]["DeletionProtection"] == "ACTIVE"


def test_every_queue_has_a_dead_letter_queue_with_a_depth_alarm(sam):
    queues = _of_type(sam, "AWS::SQS::Queue")
    dead_letters = {name for name in queues if name.endswith("DeadLetterQueue")}
    assert {"JobsDeadLetterQueue", "CardResultsDeadLetterQueue", "PrintDeadLetterQueue",
            "MailEventsDeadLetterQueue"} <= dead_letters
    for name, queue in queues.items():
        if name not in dead_letters:
            target = queue["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
            assert target in dead_letters
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    jobs_timeout = sam["Resources"]["Jobs"]["Properties"]["Timeout"]
    assert queues["JobsQueue"]["Properties"]["VisibilityTimeout"] == 6 * jobs_timeout  # SQS's advice for a consumer
    assert queues["CardResultsQueue"]["Properties"]["QueueName"] == "ticketing-prod-card-results"
    assert "FifoQueue" not in queues["CardResultsQueue"]["Properties"]  # standard
    assert queues["PrintDeadLetterQueue"]["Properties"]["QueueName"] == "ticketing-prod-print-dead-letters.fifo"
    assert queues["PrintDeadLetterQueue"]["Properties"]["FifoQueue"] is True  # a FIFO queue's must be FIFO
    watched = {a["Properties"]["Dimensions"][0]["Value"] for a in _of_type(sam, "AWS::CloudWatch::Alarm").values()
               if a["Properties"]["MetricName"] == "ApproximateNumberOfMessagesVisible"}
    assert watched == {queues[name]["Properties"]["QueueName"] for name in dead_letters}


def test_sqs_event_sources_report_partial_batch_failures(sam):
    sources = [event["Properties"] for function in _of_type(sam, "AWS::Serverless::Function").values()
               for event in function["Properties"].get("Events", {}).values() if event["Type"] == "SQS"]
    assert sources
    for source in sources:
        assert source["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert "Queue" in source  # merged into Chalice's event source, not beside it


def test_buckets_are_private_encrypted_and_named_by_account_and_region(sam):
    buckets = _of_type(sam, "AWS::S3::Bucket")
    assert set(buckets) == {"ExportsBucket", "CardImagesBucket"}
    for bucket in buckets.values():
        properties = bucket["Properties"]
        name = properties["BucketName"]["Fn::Sub"]
        assert "${AWS::AccountId}" in name and "${AWS::Region}" in name
        assert all(properties["PublicAccessBlockConfiguration"].values())
        assert properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0][
            "ServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    exports, = buckets["ExportsBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert exports["ExpirationInDays"] == 7
    policies = {p["Properties"]["Bucket"]["Ref"] for p in _of_type(sam, "AWS::S3::BucketPolicy").values()}
    assert policies == set(buckets)  # TLS only, both


def test_every_function_gets_the_stacks_names_in_its_environment(sam):
    for name, function in _of_type(sam, "AWS::Serverless::Function").items():
        variables = function["Properties"]["Environment"]["Variables"]
        assert variables["EXPORTS_BUCKET"] == {"Ref": "ExportsBucket"}, name
        assert variables["CARD_IMAGES_BUCKET"] == {"Ref": "CardImagesBucket"}
        assert variables["CARD_RESULTS_QUEUE"] == {"Fn::GetAtt": ["CardResultsQueue", "QueueName"]}
        assert variables["JWT_AUDIENCE"] == {"Ref": "StaffUserPoolClient"}
        assert variables["SECRETS_STORE"] == "ssm"
        assert variables["STAGE"] == "prod" and variables["TABLE_PREFIX"] == "ticketing-prod-"
        assert "REPLACE" not in json.dumps(variables)


def test_the_user_pool_keeps_the_tenant_for_admins_to_set(sam):
    pool = sam["Resources"]["StaffUserPool"]["Properties"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert [attribute["Name"] for attribute in pool["Schema"]] == ["tenant_id"]
    client = sam["Resources"]["StaffUserPoolClient"]["Properties"]
    assert "custom:tenant_id" in client["ReadAttributes"]
    assert not any(attribute.startswith("custom:") for attribute in client["WriteAttributes"])
    groups = {g["Properties"]["GroupName"] for g in _of_type(sam, "AWS::Cognito::UserPoolGroup").values()}
    assert groups == {"staff", "admin"}


def test_each_function_has_its_own_role_and_log_group_with_retention(sam):
    groups = {g["Properties"]["LogGroupName"]: g["Properties"]["RetentionInDays"]
              for g in _of_type(sam, "AWS::Logs::LogGroup").values()}
    for name, function in _of_type(sam, "AWS::Serverless::Function").items():
        properties = function["Properties"]
        role = properties["Role"]["Fn::GetAtt"][0]
        assert sam["Resources"][role]["Type"] == "AWS::IAM::Role" and role.startswith(name)
        assert groups[f"/aws/lambda/{properties['FunctionName']}"] == 90
    roles = [r["Properties"]["AssumeRolePolicyDocument"] for r in _of_type(sam, "AWS::IAM::Role").values()]
    assert len(roles) == len(_of_type(sam, "AWS::Serverless::Function"))


def test_no_wildcard_resource_but_x_ray(sam):
    for name, role in _of_type(sam, "AWS::IAM::Role").items():
        for policy in role["Properties"]["Policies"]:
            for statement in policy["PolicyDocument"]["Statement"]:
                statement = statement.get("Fn::If", [None, statement])[1]
                if "*" in statement["Resource"]:
                    assert statement["Action"] == ["xray:PutTelemetryRecords", "xray:PutTraceSegments"], name
                assert "Deny" != statement["Effect"]


def test_alarms_cover_every_function_the_api_mail_and_the_apps_metrics(sam):
    alarms = [a["Properties"] for a in _of_type(sam, "AWS::CloudWatch::Alarm").values()]
    assert all(a["AlarmActions"] == [{"Ref": "AlarmTopic"}] for a in alarms)
    watched = {(a["Namespace"], a["MetricName"], json.dumps(a["Dimensions"], sort_keys=True)) for a in alarms}
    for name in _of_type(sam, "AWS::Serverless::Function"):
        for metric in ("Errors", "Throttles"):
            assert ("AWS/Lambda", metric, json.dumps([{"Name": "FunctionName", "Value": {"Ref": name}}])) in watched
    names = {(a["Namespace"], a["MetricName"]) for a in alarms}
    assert {("AWS/ApiGateway", "5XXError"), ("AWS/SES", "Reputation.BounceRate"),
            ("AWS/SES", "Reputation.ComplaintRate")} <= names
    assert {(functions.METRICS_NAMESPACE, metric) for metric in ("InstalmentCollectionFailures", "SilentPrinters")} \
        <= names
    rates = {a["MetricName"]: a["Threshold"] for a in alarms if a["Namespace"] == "AWS/SES"}
    assert rates["Reputation.BounceRate"] <= 0.05 / 2 and rates["Reputation.ComplaintRate"] <= 0.001 / 2
    api = next(a for a in alarms if a["MetricName"] == "5XXError")
    assert {"Name": "ApiName", "Value": sam["Resources"]["RestAPI"]["Properties"]["Name"]} in api["Dimensions"]
    subscription, = _of_type(sam, "AWS::SNS::Subscription").values()
    assert subscription["Properties"]["Endpoint"] == {"Ref": "AlarmEmail"}


def test_a_disposable_stage_deletes_what_prod_retains():
    environment = {**os.environ, "STAGE": "staging", "TABLE_PREFIX": "ticketing-staging-"}
    for name in ("JOBS_QUEUE", "MAIL_EVENTS_TOPIC", "EXPORTS_BUCKET", "CARD_RESULTS_QUEUE", "CARD_IMAGES_BUCKET",
                 "PRINT_QUEUE_PREFIX", "SES_CONFIGURATION_SET"):
        environment.pop(name, None)
    generated = subprocess.run([sys.executable, "-m", "infra.template"], cwd=ROOT, env=environment, check=True,
                               capture_output=True, text=True, timeout=120)
    resources = json.loads(generated.stdout)["Resources"]
    assert resources["TableTicketingStagingOrders"]["DeletionPolicy"] == "Delete"
    assert resources["ExportsBucket"]["DeletionPolicy"] == "Delete"
    assert resources["StaffUserPool"]["Properties"]["DeletionProtection"] == "INACTIVE"
    assert messaging.KEEP_DEAD_LETTERS_SECONDS == resources["JobsDeadLetterQueue"]["Properties"][
        "MessageRetentionPeriod"]
