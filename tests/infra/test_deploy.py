"""``make deploy`` and ``make destroy`` short of AWS: the calls they make, recorded by a stand-in
``aws`` command (no AWS account is reachable from the tests), and what they refuse."""
from __future__ import annotations

import json
import os
import stat
import sys
from pathlib import Path

import pytest

from infra import deploy, stage

FAKE_AWS = """#!{python}
import json, os, sys
args = sys.argv[1:]
with open(os.environ["AWS_CALLS"], "a") as calls:
    calls.write(json.dumps(args) + "\\n")
if args[:2] == ["sts", "get-caller-identity"]:
    print(json.dumps({"Account": "123456789012"}))
elif args[:2] == ["s3api", "head-bucket"]:
    sys.exit(254)  # not found: the first deploy
elif args[:2] == ["cloudformation", "describe-stacks"]:
    print(json.dumps([{"OutputKey": "ExportsBucketName", "OutputValue": "exports-b"},
                      {"OutputKey": "UserPoolId", "OutputValue": "eu-west-3_x"},
                      {"OutputKey": "CardImagesBucketName", "OutputValue": "cards-b"}]))
"""


@pytest.fixture
def aws_calls(tmp_path, monkeypatch) -> Path:
    fake = tmp_path / "aws"
    fake.write_text(FAKE_AWS.replace("{python}", sys.executable))  # this interpreter, whatever PATH holds
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    calls = tmp_path / "calls.jsonl"
    monkeypatch.setenv("AWS_CLI", str(fake))
    monkeypatch.setenv("AWS_CALLS", str(calls))
    return calls


def _calls(path: Path) -> list[list[str]]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_deploy_uploads_to_a_private_bucket_then_deploys_with_the_stages_parameters(aws_calls, packaged, monkeypatch):
    monkeypatch.setattr(deploy, "package", lambda stage, out: packaged / "sam.json")  # packaged once per session
    deploy.deploy(stage.load("prod"), packaged)
    calls = _calls(aws_calls)
    assert all(call[-2:] == ["--region", "eu-west-3"] for call in calls)
    verbs = [tuple(call[:2]) for call in calls]
    assert verbs == [("sts", "get-caller-identity"), ("s3api", "head-bucket"), ("s3api", "create-bucket"),
                     ("s3api", "put-public-access-block"), ("s3api", "put-bucket-encryption"),
                     ("cloudformation", "package"), ("cloudformation", "deploy")]
    assert "ticketing-artifacts-123456789012-eu-west-3" in calls[2]
    command = calls[-1]
    assert command[command.index("--stack-name") + 1] == "ticketing-prod"
    assert {"CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"} <= set(command)
    overrides = command[command.index("--parameter-overrides") + 1:-2]
    prod = json.loads((stage.STAGES / "prod.json").read_text())["parameters"]
    assert overrides == [f"{key}={value}" for key, value in sorted(prod.items())]


def test_every_parameter_of_the_template_is_given_by_each_stage(sam):
    required = {name for name, parameter in sam["Parameters"].items() if "Default" not in parameter}
    for path in stage.STAGES.glob("*.json"):
        given = set(stage.load(path.stem).parameters)
        assert required <= given <= set(sam["Parameters"]), path.name


def test_prod_cannot_be_destroyed(aws_calls):
    with pytest.raises(SystemExit, match="may not be destroyed"):
        deploy.destroy(stage.load("prod"))
    assert _calls(aws_calls) == []


def test_a_test_stage_is_emptied_then_deleted(aws_calls):
    deploy.destroy(stage.load("staging"))
    calls = [call[:-2] for call in _calls(aws_calls)]
    assert calls[1:] == [["s3", "rm", "s3://exports-b", "--recursive"], ["s3", "rm", "s3://cards-b", "--recursive"],
                         ["cloudformation", "delete-stack", "--stack-name", "ticketing-staging"],
                         ["cloudformation", "wait", "stack-delete-complete", "--stack-name", "ticketing-staging"]]


def test_packaging_ignores_the_callers_settings_and_needs_no_secret(monkeypatch):
    for name in ("SIGNING_SECRET", "STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TABLE_PREFIX", "someone-elses-")
    monkeypatch.setenv("AWS_ENDPOINT", "http://127.0.0.1:5000")
    environment = deploy.packaging_environment(stage.load("prod"))
    assert environment["TABLE_PREFIX"] == "ticketing-prod-" and environment["STAGE"] == "prod"
    assert "AWS_ENDPOINT" not in environment
    assert {environment.get(name) for name in deploy.IMPORT_REQUIRED} == {deploy.IMPORT_PLACEHOLDER}


def test_an_unknown_stage_is_refused_with_the_known_ones():
    with pytest.raises(SystemExit, match="prod, staging"):
        stage.load("nope")
    assert os.path.exists(stage.STAGES / "prod.json")
