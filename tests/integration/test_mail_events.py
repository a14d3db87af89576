"""SES events through the SNS handler: every event type in its recorded shape, duplicates,
out-of-order arrival, malformed messages; bounce and complaint reaching the contact.

moto never emits SES events, so the events are the documented shapes in
tests/fixtures/ses_events (see its README), delivered as SNS delivers them to Lambda.
The last test runs the local loop for real: SMTP into the dev inbox, the simulated SES
events published to moto's SNS, and the event pump feeding the app's handler.
"""
from __future__ import annotations

import json

import pytest
from chalice.test import Client

from chalicelib.models.mail import Notification
from chalicelib.services.contacts import contacts
from chalicelib.services.mail import sending as mail
from tests.integration.test_mail_sending import order_mail
from tests.mail_fixtures import ses_event, sns_lambda_event


@pytest.fixture
def deliver(app):
    """Deliver an SNS record to the app's mail-events handler, as Lambda would."""
    with Client(app) as client:
        def send(message, message_id=None):
            return client.lambda_.invoke("mail_events", sns_lambda_event(message, message_id))
        yield send


def statuses(actor, notification_id):
    stored = Notification.get(actor.tenant_id, notification_id, consistent_read=True)
    return stored.status, [event.status for event in stored.timeline]


@pytest.mark.parametrize("fixture,status", [
    ("send", "sent"), ("delivery", "delivered"), ("bounce_permanent", "bounced_permanent"),
    ("bounce_transient", "bounced_transient"), ("bounce_suppressed", "suppressed"), ("complaint", "complained"),
    ("reject", "rejected"), ("delivery_delay", "delayed"), ("rendering_failure", "failed"),
])
def test_each_event_type_moves_the_mail_to_its_status(actor, deliver, fixture, status):
    sent = mail.send_mail(actor, order_mail())
    deliver(ses_event(fixture, actor.tenant_id, sent.id, sent.recipient))
    assert statuses(actor, sent.id)[0] == (status if status != "sent" else "sent")


def test_a_subscription_event_is_kept_without_changing_the_status(actor, deliver):
    sent = mail.send_mail(actor, order_mail())
    deliver(ses_event("subscription", actor.tenant_id, sent.id))
    assert statuses(actor, sent.id) == ("sent", ["queued", "sent", "subscription"])


def test_a_duplicate_delivery_of_the_same_sns_message_changes_nothing(actor, deliver):
    sent = mail.send_mail(actor, order_mail())
    event = ses_event("delivery", actor.tenant_id, sent.id)
    deliver(event, message_id="sns-dup")
    deliver(event, message_id="sns-dup")
    assert statuses(actor, sent.id) == ("delivered", ["queued", "sent", "delivered"])


def test_a_late_delivery_does_not_hide_a_bounce_but_a_complaint_follows_a_delivery(actor, deliver):
    bounced = mail.send_mail(actor, order_mail(recipient="a@free.fr"))
    deliver(ses_event("bounce_permanent", actor.tenant_id, bounced.id, "a@free.fr"))
    deliver(ses_event("delivery", actor.tenant_id, bounced.id, "a@free.fr"))
    assert statuses(actor, bounced.id) == ("bounced_permanent", ["queued", "sent", "bounced_permanent", "delivered"])

    complained = mail.send_mail(actor, order_mail(recipient="b@orange.fr"))
    deliver(ses_event("delivery", actor.tenant_id, complained.id, "b@orange.fr"))
    deliver(ses_event("complaint", actor.tenant_id, complained.id, "b@orange.fr"))
    assert statuses(actor, complained.id)[0] == "complained"


@pytest.mark.parametrize("message", [
    "not json", "[]", json.dumps({"eventType": "Delivery"}), json.dumps({"eventType": "Warp", "mail": {}}),
    json.dumps({"eventType": "Delivery", "mail": {"tags": {"tenant": ["../x"], "notification": ["y"]}}}),
    json.dumps({"eventType": "Delivery", "mail": {"tags": {"tenant": ["t1"], "notification": ["01J0000000000000000000000Z"]}}}),
])
def test_malformed_or_foreign_messages_are_acknowledged_and_change_nothing(actor, deliver, message):
    sent = mail.send_mail(actor, order_mail())
    deliver(message)  # no exception: SNS would only deliver it again
    assert statuses(actor, sent.id) == ("sent", ["queued", "sent"])


def test_a_permanent_bounce_and_a_complaint_show_on_the_contact(actor, deliver, client, staff_headers):
    contact = contacts.create_contact(actor, {"last_name": "Martin", "emails": [
        {"address": "gone@free.fr"}, {"address": "annoyed@orange.fr"}]})
    bounced = mail.send_mail(actor, order_mail(recipient="gone@free.fr", contact_id=contact.id))
    annoyed = mail.send_mail(actor, order_mail(recipient="annoyed@orange.fr", contact_id=contact.id))
    deliver(ses_event("bounce_permanent", actor.tenant_id, bounced.id, "gone@free.fr"))
    deliver(ses_event("complaint", actor.tenant_id, annoyed.id, "annoyed@orange.fr"))

    shown = json.loads(client.get(f"/contacts/{contact.id}", headers=staff_headers).body)
    gone, irritated = shown["emails"]
    assert gone["undeliverable"] is True and gone["complained"] is False and "5.1.1" in gone["delivery_note"]
    assert irritated["complained"] is True and irritated["undeliverable"] is False


def test_the_local_loop_runs_smtp_inbox_simulated_ses_events_and_the_pump(actor, app, tmp_path, monkeypatch):
    import dataclasses

    from chalicelib.adapters import mail as transports
    from devtools.event_pump import EventPump
    from devtools.mailbox import Mailbox

    inbox = Mailbox(tmp_path / "inbox")
    inbox.start()
    try:
        monkeypatch.setattr(mail, "settings", dataclasses.replace(mail.settings, local_mail_events=True))
        pump = EventPump(app)
        pump.prepare()  # subscribes to the mail-events topic, as the deployed stack is subscribed
        smtp = transports.SmtpTransport("127.0.0.1", inbox.smtp_port)
        bounced = mail.send_mail(actor, order_mail(recipient="bounce@simulator.amazonses.com"), transport=smtp)
        delivered = mail.send_mail(actor, order_mail(recipient="success@simulator.amazonses.com"), transport=smtp)
        for _ in range(20):
            pump.run_once(wait_seconds=1)
            if statuses(actor, bounced.id)[0] == "bounced_permanent" and statuses(actor, delivered.id)[0] == "delivered":
                break
        assert statuses(actor, bounced.id)[0] == "bounced_permanent"
        assert statuses(actor, delivered.id)[0] == "delivered"
        received = {address for summary in inbox.store.summaries() for address in summary["to"]}
        assert received >= {"bounce@simulator.amazonses.com", "success@simulator.amazonses.com"}
    finally:
        inbox.stop()


def test_an_older_event_arriving_late_adds_its_fact_but_does_not_replace_the_newest(actor, deliver):
    from chalicelib.models.base import tenant_key
    from chalicelib.models.mail import MailRecipient

    contact = contacts.create_contact(actor, {"last_name": "Martin", "emails": [{"address": "late@free.fr"}]})
    first = mail.send_mail(actor, order_mail(recipient="late@free.fr", contact_id=contact.id))
    second = mail.send_mail(actor, order_mail(recipient="late@free.fr", contact_id=contact.id))
    deliver(ses_event("complaint", actor.tenant_id, second.id, "late@free.fr"))  # 10:00
    deliver(ses_event("bounce_permanent", actor.tenant_id, first.id, "late@free.fr"))  # 09:41, delivered after

    standing = MailRecipient.get(tenant_key(actor.tenant_id, "late@free.fr"), consistent_read=True)
    assert standing.undeliverable and standing.complained  # both facts are known
    assert standing.last_event == "complained" and standing.last_event_at.isoformat().startswith("2026-11-20T10:00")
    [email] = contacts.get_contact(actor, contact.id).emails
    assert email.undeliverable and email.complained and email.delivery_note.startswith("complained")


def test_an_event_overtaking_its_mails_record_is_delivered_again_not_lost(actor):
    from chalicelib.adapters import ids
    from chalicelib.services.mail import events

    young = ids.new_id()  # the mail the provider just took, its record not written yet
    message = json.dumps(ses_event("delivery", actor.tenant_id, young))
    with pytest.raises(events.MailNotRecordedYet):
        events.apply_sns_record("sns-early", message)
    old = "01J0000000000000000000000Z"  # an id from long ago that matches nothing: acknowledged
    assert events.apply_sns_record("sns-foreign", json.dumps(ses_event("delivery", actor.tenant_id, old))) \
        == "unknown-mail"
