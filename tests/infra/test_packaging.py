"""``make package`` builds a Lambda bundle that holds the app, chalicelib and the templates,
within Lambda's size limits, with the stack merged in; it needs no secret."""
from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from infra.deploy import IMPORT_PLACEHOLDER

ROOT = Path(__file__).resolve().parents[2]
ZIPPED_LIMIT = 50 * 1024 * 1024
UNZIPPED_LIMIT = 250 * 1024 * 1024
pytestmark = pytest.mark.slow


def test_the_bundle_contains_the_app_and_templates_within_limits(packaged):
    bundle = packaged / "deployment.zip"
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        unzipped = sum(info.file_size for info in archive.infolist())
    assert "app.py" in names
    assert {"chalicelib/config.py", "chalicelib/handlers/http.py"} <= names
    for template in (ROOT / "templates").rglob("*"):
        if template.is_file():
            assert f"templates/{template.relative_to(ROOT / 'templates')}" in names
    assert not any(name.startswith(("tests/", "devtools/", "bench/", "node_modules/", "infra/")) for name in names)
    # The season cards' faces: Pillow's compiled imaging core for Lambda's Linux, and the font.
    assert any(name.startswith("PIL/_imaging.") and name.endswith(".so") for name in names)
    assert "font_roboto/files/Roboto-Regular.ttf" in names
    assert bundle.stat().st_size < ZIPPED_LIMIT
    assert unzipped < UNZIPPED_LIMIT


def test_the_template_holds_no_secret_nor_the_import_placeholder(sam):
    text = json.dumps(sam)
    assert IMPORT_PLACEHOLDER not in text
    for secret_shape in ("sk_live", "sk_test", "whsec_", "SIGNING_SECRET", "STRIPE_SECRET_KEY", "dev-only-signing"):
        assert secret_shape not in text


def test_the_tables_queue_and_topic_are_the_prod_stages(sam):
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


def test_the_public_routes_are_throttled_and_rate_limited(sam):
    settings = sam["Resources"]["RestAPI"]["Properties"]["MethodSettings"]
    assert {(m["ResourcePath"], m["HttpMethod"]) for m in settings} == {("/*", "*"), ("/~1shop~1{tenant_id}~1checkout",
                                                                                     "POST")}
    assert sam["Resources"]["RestAPI"]["Properties"]["DefinitionBody"]  # still Chalice's API, merged into
    rule = sam["Resources"]["PublicRoutesWebAcl"]["Properties"]["Rules"][0]["Statement"]["RateBasedStatement"]
    assert rule["AggregateKeyType"] == "IP" and rule["Limit"] == 300


def test_a_mail_event_the_function_keeps_failing_on_is_kept(sam):
    on_failure = sam["Resources"]["MailEventsOnFailure"]["Properties"]
    assert on_failure["FunctionName"] == {"Ref": "MailEvents"} and "MailEvents" in sam["Resources"]
    assert on_failure["DestinationConfig"]["OnFailure"]["Destination"]["Fn::GetAtt"][0] == "MailEventsDeadLetterQueue"
    role = json.dumps(sam["Resources"]["MailEventsRole"])
    assert '"sqs:SendMessage"' in role and "MailEventsDeadLetterQueue" in role
