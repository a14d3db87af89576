"""``chalice package`` builds a Lambda bundle that holds the app, chalicelib and the templates,
within Lambda's size limits, with the tables, jobs queue and mail-events topic merged in."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ZIPPED_LIMIT = 50 * 1024 * 1024
UNZIPPED_LIMIT = 250 * 1024 * 1024


@pytest.mark.slow
def test_chalice_package_contains_the_app_and_templates_within_limits(tmp_path):
    env = {name: value for name, value in os.environ.items()
           if name not in {"TABLE_PREFIX", "JOBS_QUEUE", "MAIL_EVENTS_TOPIC", "SES_CONFIGURATION_SET"}}
    env.update({"STAGE": "prod", "SIGNING_SECRET": "packaging-test-secret", "JWT_AUDIENCE": "packaging-test-client",
                "AWS_DEFAULT_REGION": "eu-west-3"})
    tables = tmp_path / "tables.json"
    tables.write_text(subprocess.run([sys.executable, "-m", "infra.template"], cwd=ROOT, env=env, check=True,
                                     capture_output=True, text=True).stdout)
    out = tmp_path / "out"
    chalice = Path(sys.executable).with_name("chalice")
    result = subprocess.run([str(chalice), "package", "--stage", "prod", "--merge-template", str(tables), str(out)],
                            cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert result.returncode == 0, result.stderr[-2000:]

    bundle = out / "deployment.zip"
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        unzipped = sum(info.file_size for info in archive.infolist())
    assert "app.py" in names
    assert {"chalicelib/config.py", "chalicelib/handlers/http.py"} <= names
    for template in (ROOT / "templates").rglob("*"):
        if template.is_file():
            assert f"templates/{template.relative_to(ROOT / 'templates')}" in names
    assert not any(name.startswith(("tests/", "devtools/", "bench/", "node_modules/")) for name in names)
    # The season cards' faces: Pillow's compiled imaging core for Lambda's Linux, and the font.
    assert any(name.startswith("PIL/_imaging.") and name.endswith(".so") for name in names)
    assert "font_roboto/files/Roboto-Regular.ttf" in names
    assert bundle.stat().st_size < ZIPPED_LIMIT
    assert unzipped < UNZIPPED_LIMIT

    sam = json.loads((out / "sam.json").read_text())
    contacts = sam["Resources"]["TableTicketingProdContacts"]["Properties"]
    assert contacts["TableName"] == "ticketing-prod-contacts"
    assert [k["KeyType"] for k in contacts["KeySchema"]] == ["HASH", "RANGE"]
    assert contacts["KeySchema"][0]["AttributeName"] == "tenant_id"
    # The event sources are the prod stage's own queue and topic, and the template creates them.
    sources = json.dumps({name: resource for name, resource in sam["Resources"].items()
                          if resource["Type"] == "AWS::Serverless::Function"})
    assert "ticketing-prod-jobs" in sources and "ticketing-prod-mail-events" in sources
    assert sam["Resources"]["JobsQueue"]["Properties"]["QueueName"] == "ticketing-prod-jobs"
    assert sam["Resources"]["MailEventsTopic"]["Properties"]["TopicName"] == "ticketing-prod-mail-events"
    # The public routes are throttled and rate limited per client address in front of the app.
    settings = sam["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    assert {(m["ResourcePath"], m["HttpMethod"]) for m in settings} == {("/*", "*"), ("/~1shop~1{tenant_id}~1checkout",
                                                                                     "POST")}
    assert sam["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]  # still Chalice's API, merged into
    rule = sam["Resources"]["PublicRoutesWebAcl"]["Properties"]["Rules"][0]["Statement"]["RateBasedStatement"]
    assert rule["AggregateKeyType"] == "IP" and rule["Limit"] == 300
    # An SES event the mail-events Lambda keeps failing on is kept, not lost.
    on_failure = sam["Resources"]["MailEventsOnFailure"]["Properties"]
    assert on_failure["FunctionName"] == {"Ref": "MailEvents"} and "MailEvents" in sam["Resources"]
    assert on_failure["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0] == "MailEventsDeadLetterQueue"
