"""SES event fixtures (tests/fixtures/ses_events) filled in for one mail, and SNS wrapping."""
from __future__ import annotations

import json
import uuid
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "ses_events"


def ses_event(name: str, tenant_id: str, notification_id: str, recipient: str | None = None) -> dict:
    text = (FIXTURES / f"{name}.json").read_text()
    text = text.replace('"TENANT"', json.dumps(tenant_id)).replace('"NOTIFICATION"', json.dumps(notification_id))
    if recipient:
        text = text.replace("recipient@example.com", recipient)
    return json.loads(text)


def sns_lambda_event(message: dict | str, message_id: str | None = None) -> dict:
    """An SNS-to-Lambda event carrying ``message`` (as SNS does: a JSON string)."""
    return {"Records": [{
        "EventSource": "aws:sns", "EventVersion": "1.0",
        "EventSubscriptionArn": "arn:aws:sns:eu-west-3:123456789012:ticketing-test-mail-events:sub",
        "Sns": {"Type": "Notification", "MessageId": message_id or str(uuid.uuid4()),
                "TopicArn": "arn:aws:sns:eu-west-3:123456789012:ticketing-test-mail-events",
                "Subject": None, "Message": message if isinstance(message, str) else json.dumps(message),
                "Timestamp": "2026-11-20T09:40:05.000Z", "SignatureVersion": "1", "Signature": "EXAMPLE",
                "SigningCertUrl": "EXAMPLE", "UnsubscribeUrl": "EXAMPLE", "MessageAttributes": {}},
    }]}
