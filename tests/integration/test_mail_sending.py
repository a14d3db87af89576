"""Sending mail through the real engines: SES v2 (moto server) with the exact call shape,
notifications recorded, idempotent retries, bad addresses refused, blocked addresses spared."""
from __future__ import annotations

import pytest

from chalicelib.adapters import mail as transports
from chalicelib.adapters.aws import client
from chalicelib.errors import InvalidInput
from chalicelib.models.mail import Notification
from chalicelib.services.mail import events as mail_events
from chalicelib.services.mail import notifications
from chalicelib.services.mail import sending as mail
from chalicelib.services.mail.rendering import sample_context
from tests.mail_fixtures import ses_event


def order_mail(recipient="elodie@exemple.fr", **overrides) -> mail.MailRequest:
    fields = dict(template="order_confirmation", language="fr", recipient=recipient, concerns_type="order",
                  concerns_id="01JORDER00000000000000000A", sender_name="Théâtre des Célestins",
                  context=sample_context("order_confirmation"), action_url="https://billets.example.org/t/abc")
    fields.update(overrides)
    return mail.MailRequest(**fields)


@pytest.fixture
def ses_calls():
    """Every SendEmail request the SES client makes (moto accepts it; we check its shape)."""
    calls = []
    events = client("sesv2").meta.events

    def record(params, **_):
        calls.append(params)

    events.register("provide-client-params.sesv2.SendEmail", record)
    yield calls
    events.unregister("provide-client-params.sesv2.SendEmail", record)


def test_a_mail_goes_through_ses_v2_with_tags_and_is_recorded(actor, ses_calls):
    sent = mail.send_mail(actor, order_mail())
    assert sent.status == "sent" and sent.provider_message_id
    [request] = ses_calls
    assert request["Destination"] == {"ToAddresses": ["elodie@exemple.fr"]}
    assert request["FromEmailAddress"].endswith("<billetterie@notices.example.org>")
    assert "=?utf-8?" in request["FromEmailAddress"]  # "Théâtre des Célestins", RFC 2047-encoded
    simple = request["Content"]["Simple"]
    assert simple["Subject"]["Data"] == sent.subject
    assert simple["Body"]["Text"]["Data"] and simple["Body"]["Html"]["Data"].lstrip().lower().startswith("<!doctype")
    tags = {tag["Name"]: tag["Value"] for tag in request["EmailTags"]}
    assert tags == {"tenant": actor.tenant_id, "notification": sent.id}
    assert all(c.isalnum() or c in "_-" for value in tags.values() for c in value)

    stored = Notification.get(actor.tenant_id, sent.id)
    assert [event.status for event in stored.timeline] == ["queued", "sent"]
    assert stored.recipient_domain == "exemple.fr"
    assert [n.id for n in notifications.of_entity(actor, "order", "01JORDER00000000000000000A",
                                                  limit=10, cursor=None).items] == [sent.id]
    assert [n.id for n in notifications.of_recipient(actor, "ELODIE@exemple.fr", limit=10, cursor=None).items] == [sent.id]
    assert [n.id for n in notifications.of_domain(actor, "exemple.fr", limit=10, cursor=None).items] == [sent.id]


def test_a_retry_with_the_same_key_sends_nothing_more(actor, ses_calls):
    first = mail.send_mail(actor, order_mail(idempotency_key="order:42:confirmation"))
    again = mail.send_mail(actor, order_mail(idempotency_key="order:42:confirmation"))
    assert again.id == first.id and len(ses_calls) == 1


@pytest.mark.parametrize("address", ["elodie", "elodie@", "@exemple.fr", "a b@exemple.fr", "x@exemple", ""])
def test_a_malformed_address_is_refused_before_anything_is_written(actor, ses_calls, address):
    with pytest.raises(InvalidInput) as refused:
        mail.send_mail(actor, order_mail(recipient=address))
    assert refused.value.errors[0].field == "recipient"
    assert ses_calls == []
    assert list(Notification.query(actor.tenant_id)) == []


def test_an_address_that_bounced_is_not_mailed_again_and_a_complainer_gets_only_essential_mail(actor, ses_calls):
    bounced = mail.send_mail(actor, order_mail(recipient="gone@free.fr"))
    mail_events.apply_sns_record("sns-1", _json(ses_event("bounce_permanent", actor.tenant_id, bounced.id, "gone@free.fr")))
    spared = mail.send_mail(actor, order_mail(recipient="gone@free.fr"))
    assert spared.status == "suppressed" and len(ses_calls) == 1

    annoyed = mail.send_mail(actor, order_mail(recipient="annoyed@orange.fr"))
    mail_events.apply_sns_record("sns-2", _json(ses_event("complaint", actor.tenant_id, annoyed.id, "annoyed@orange.fr")))
    assert mail.send_mail(actor, order_mail(recipient="annoyed@orange.fr", essential=False)).status == "suppressed"
    assert mail.send_mail(actor, order_mail(recipient="annoyed@orange.fr", essential=True)).status == "sent"


def test_a_provider_refusal_is_a_visible_status_not_an_exception(actor):
    class Refusing:
        def send(self, outgoing):
            raise transports.MailRefused("MessageRejected: Email address is not verified.")

    refused = mail.send_mail(actor, order_mail(), transport=Refusing())
    assert refused.status == "rejected" and "not verified" in refused.timeline[-1].detail


def test_a_deferred_mail_stays_queued_and_the_retry_sends_it_once(actor, ses_calls):
    class Throttled:
        def send(self, outgoing):
            raise transports.MailDeferred("TooManyRequestsException")

    with pytest.raises(mail.MailNotSentYet):
        mail.send_mail(actor, order_mail(idempotency_key="k-deferred"), transport=Throttled())
    retried = mail.send_mail(actor, order_mail(idempotency_key="k-deferred"))
    assert retried.status == "sent" and len(ses_calls) == 1
    assert len(list(Notification.query(actor.tenant_id))) == 1


def _json(event: dict) -> str:
    import json

    return json.dumps(event)
