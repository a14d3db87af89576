"""Mail through the staff API: notifications of an entity and a contact, resend to a corrected
address (audited), template previews, and a venue's own wording."""
from __future__ import annotations

from chalicelib.services.contacts import contacts
from chalicelib.services.mail import sending as mail
from chalicelib.services.mail.rendering import sample_context
from tests.api.helpers import assert_problem, call
from tests.integration.test_mail_sending import order_mail


def test_staff_see_the_mails_of_an_order_and_of_a_contact(client, staff_headers, actor):
    contact = contacts.create_contact(actor, {"last_name": "Lefèvre", "emails": [{"address": "elodie@exemple.fr"}]})
    first = mail.send_mail(actor, order_mail(contact_id=contact.id))
    second = mail.send_mail(actor, order_mail(contact_id=contact.id, template="order_cancellation",
                                              context=sample_context("order_cancellation")))
    status, page, _ = call(client, "GET", "/notifications?entity_type=order&entity_id=01JORDER00000000000000000A",
                           staff_headers)
    assert status == 200 and [item["id"] for item in page["items"]] == [second.id, first.id]
    assert page["items"][1]["timeline"][-1]["status"] == "sent"
    _, mails_of_contact, _ = call(client, "GET", f"/contacts/{contact.id}/notifications", staff_headers)
    assert [item["template"] for item in mails_of_contact["items"]] == ["order_cancellation", "order_confirmation"]
    _, by_domain, _ = call(client, "GET", "/notifications?domain=exemple.fr", staff_headers)
    assert len(by_domain["items"]) == 2


def test_listing_needs_exactly_one_selection(client, staff_headers):
    assert_problem(call(client, "GET", "/notifications", staff_headers), 422)
    assert_problem(call(client, "GET", "/notifications?recipient=a@b.fr&domain=b.fr", staff_headers), 422)
    assert_problem(call(client, "GET", "/notifications?recipient=not-an-address", staff_headers), 422, "recipient")


def test_resend_to_a_corrected_address_is_audited(client, staff_headers, actor):
    original = mail.send_mail(actor, order_mail(recipient="elodie@exemple.fe"))
    status, again, _ = call(client, "POST", f"/notifications/{original.id}/resend", staff_headers,
                            {"address": "elodie@exemple.fr"})
    assert status == 201, again
    assert again["recipient"] == "elodie@exemple.fr" and again["status"] == "sent"
    assert again["resent_from"] == original.id and again["subject"] == original.subject
    _, history, _ = call(client, "GET", f"/audit/notification/{original.id}", staff_headers)
    [event] = history["items"]
    assert event["action"] == "resend" and event["actor"] == "staff-1"
    assert event["after"]["to"] == "elodie@exemple.fr" and event["after"]["previous_address"] == "elodie@exemple.fe"


def test_resend_refuses_a_bad_address_and_sends_nothing(client, staff_headers, actor):
    original = mail.send_mail(actor, order_mail())
    assert_problem(call(client, "POST", f"/notifications/{original.id}/resend", staff_headers,
                        {"address": "elodie@@exemple.fr"}), 422, "address")
    _, page, _ = call(client, "GET", "/notifications?recipient=elodie@exemple.fr", staff_headers)
    assert [item["id"] for item in page["items"]] == [original.id]


def test_preview_renders_without_sending_in_both_languages(client, staff_headers):
    for language, greeting in (("fr", "Bonjour"), ("en", "Hello")):
        status, preview, _ = call(client, "POST", "/mail/preview", staff_headers,
                                  {"template": "performance_cancelled", "language": language})
        assert status == 200, preview
        assert preview["problems"] == [] and greeting in preview["text"] and "<html" in preview["html"]
    _, templates, _ = call(client, "GET", "/mail/templates", staff_headers)
    assert "performance_postponed" in templates["templates"]
    assert_problem(call(client, "POST", "/mail/preview", staff_headers, {"template": "nothing_here"}), 404)


def test_a_venue_rewords_a_block_and_the_next_mails_use_it(client, admin_headers, actor):
    path = "/mail/templates/order_confirmation/fr/override"
    status, saved, _ = call(client, "PUT", path, admin_headers,
                            {"blocks": {"closing": "À très bientôt au théâtre,\nL'équipe de la billetterie"}})
    assert status == 200, saved
    sent = mail.send_mail(actor, order_mail())
    status, preview, _ = call(client, "POST", "/mail/preview", admin_headers, {"template": "order_confirmation"})
    assert "À très bientôt au théâtre" in preview["text"]
    assert sent.status == "sent"


def test_a_wording_that_breaks_the_content_rules_is_refused(client, admin_headers, staff_headers):
    path = "/mail/templates/order_confirmation/fr/override"
    assert_problem(call(client, "PUT", path, admin_headers,
                        {"blocks": {"intro": "Voir aussi https://promo.example.com"}}), 422, "blocks")
    assert_problem(call(client, "PUT", path, admin_headers, {"blocks": {"footer": "x"}}), 422, "blocks.footer")
    assert_problem(call(client, "PUT", path, admin_headers, {"blocks": {"intro": "{{ nope.__class__ }}"}}), 422)
    assert_problem(call(client, "PUT", path, staff_headers, {"blocks": {"closing": "Merci"}}), 403)
