"""Mail routes (staff): notifications of an entity, a contact, an address or a domain; resend;
template previews and a venue's wording; and the SES events handler (SNS)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.config import settings
from chalicelib.handlers.http import staff_route
from chalicelib.observability import start_event_invocation

bp = Blueprint(__name__)


@staff_route(bp, "/notifications", query="mail:NotificationQuery", response="mail:NotificationOut", many=True,
             summary="Mails about an entity, to an address, or to a domain within a campaign or a day",
             tag="mail")
def list_notifications(actor, query):
    from chalicelib.services.mail import notifications

    page = {"limit": query.limit, "cursor": query.cursor}
    if query.entity_type:
        return notifications.of_entity(actor, query.entity_type, query.entity_id, **page)
    if query.recipient:
        return notifications.of_recipient(actor, query.recipient, **page)
    return notifications.of_domain(actor, query.domain, campaign_id=query.campaign_id,
                                   day=query.day.isoformat() if query.day else None, **page)


@staff_route(bp, "/contacts/{contact_id}/notifications", query="common:PageQuery",
             response="mail:NotificationOut", many=True, summary="Mails sent to a contact, newest first",
             tag="mail")
def contact_notifications(actor, contact_id, query):
    from chalicelib.services.mail import notifications

    return notifications.of_contact(actor, contact_id, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/notifications/{notification_id}", response="mail:NotificationOut",
             summary="One mail with its delivery timeline", tag="mail")
def get_notification(actor, notification_id):
    from chalicelib.services.mail import notifications

    return notifications.get_notification(actor, notification_id)


@staff_route(bp, "/notifications/{notification_id}/resend", method="POST", body="mail:ResendIn",
             response="mail:NotificationOut", status=201,
             summary="Send a mail again, to the same or a corrected address (audited)", tag="mail")
def resend_notification(actor, notification_id, body):
    from chalicelib.services.mail import sending as mail

    return mail.resend(actor, notification_id, body.address)


@staff_route(bp, "/mail/templates", response="mail:TemplateListOut", summary="The mail templates", tag="mail")
def list_templates(actor):
    from chalicelib.services.mail.rendering import template_names

    return {"templates": sorted(template_names())}


@staff_route(bp, "/mail/preview", method="POST", body="mail:PreviewIn", response="mail:PreviewOut",
             summary="Render a template for a sample or given context, without sending", tag="mail")
def preview(actor, body):
    from chalicelib.services.mail import sending as mail

    rendered, problems = mail.preview(actor.tenant_id, body.template, body.language, body.context)
    return {"template": body.template, "language": rendered.language, "subject": rendered.subject,
            "text": rendered.text, "html": rendered.html, "problems": problems}


@staff_route(bp, "/mail/templates/{template}/{language}/override", method="PUT", role="admin",
             body="mail:OverrideIn", response="mail:OverrideOut",
             summary="Set the venue's wording of some blocks of a template (checked against the content rules)",
             tag="mail")
def set_override(actor, template, language, body):
    from chalicelib.services.mail import sending as mail

    return mail.set_override(actor, template, language, body.blocks)


@bp.on_sns_message(topic=settings.mail_events_topic, name="mail_events")
def on_mail_event(event):
    """SES event publishing, through SNS (one record per invocation, at least once, any order)."""
    start_event_invocation(event)
    from chalicelib.services.mail import events as mail_events

    for record in event.to_dict().get("Records", []):
        sns = record.get("Sns", {})
        mail_events.apply_sns_record(sns.get("MessageId", ""), sns.get("Message", ""))
