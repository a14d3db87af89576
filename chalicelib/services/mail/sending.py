"""Sending mail: the one service every feature calls to mail someone.

:func:`send_mail` renders a named template in the recipient's language (with the venue's
overrides and the ticket type's custom message), checks the content rules, refuses a
malformed address before anything is written, records a :class:`Notification`, waits its
turn under the SES send rate, sends through the configured transport (SES in AWS, SMTP
locally), and records the outcome. It never raises into a money path for a mail problem:
a refused or blocked mail is a notification with a status staff can see.

Safe to retry: with an ``idempotency_key`` the same request sends at most one mail that
got as far as the provider and was recorded. (A crash between the provider's answer and our
record leaves only the key's claim; a retry then sends again: at least once, never silently
none.)

Addresses known to bounce are not mailed again (status ``suppressed``), nor, for
non-essential mail, addresses that complained.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from pynamodb.exceptions import DoesNotExist, PutError

from chalicelib.adapters import clock, ids
from chalicelib.adapters.mail import MailDeferred, MailRefused, MailTransport, OutgoingMail, configured_transport
from chalicelib.config import settings
from chalicelib.errors import DomainError, FieldError, InvalidInput
from chalicelib.models.base import tenant_key
from chalicelib.models.mail import MailOverride, Notification, StatusEvent
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.services.mail import notifications, recipients
from chalicelib.services.mail.send_rate import Pacer
from chalicelib.services.shared.actors import Actor
from chalicelib.values.email import normalise_email


class MailNotSentYet(DomainError):
    status = 503
    kind = "mail-deferred"
    title = "The mail provider could not take the mail now; it will be retried"
    title_fr = "Le fournisseur d'e-mails n'a pas pu prendre le message ; il sera renvoyé"


@dataclass(frozen=True)
class MailRequest:
    template: str
    language: str
    recipient: str
    concerns_type: str
    concerns_id: str
    sender_name: str
    context: dict[str, Any] = field(default_factory=dict)
    contact_id: str | None = None
    campaign_id: str | None = None
    essential: bool = True
    action_url: str | None = None
    custom_message: str | None = None
    idempotency_key: str | None = None
    resent_from: str | None = None


def checked_address(address: str, field_name: str = "recipient") -> str:
    """The address as stored, or a 422 naming ``field_name``: nothing is written for a bad address."""
    try:
        return normalise_email(address or "")
    except ValueError as error:
        raise InvalidInput(f"{address!r} is not a mail address.", errors=[FieldError(field_name, str(error))]) from None


@lru_cache(maxsize=1)
def default_pacer() -> Pacer:
    return Pacer(bucket=f"ses:{settings.stage}", rate=max(1, int(settings.mail_send_rate)))


OVERRIDES_CACHE_SECONDS = 30
_overrides_cache: dict[tuple[str, str, str], tuple[float, dict[str, str]]] = {}


def overrides_for(tenant_id: str, template: str, language: str) -> dict[str, str]:
    """The venue's wording of ``template``; kept for a few seconds per process, so a bulk send
    reads it once, and a change reaches every sender within ``OVERRIDES_CACHE_SECONDS``."""
    key = (tenant_id, template, language)
    cached = _overrides_cache.get(key)
    if cached is not None and time.monotonic() - cached[0] < OVERRIDES_CACHE_SECONDS:
        return cached[1]
    try:
        blocks = MailOverride.get(tenant_id, f"{template}.{language}").blocks.as_dict()
    except DoesNotExist:
        blocks = {}
    _overrides_cache[key] = (time.monotonic(), blocks)
    return blocks


def render(tenant_id: str, request: MailRequest):
    """The mail as the recipient will read it, and the content rules it breaks (if any)."""
    from chalicelib.services.mail.content import content_problems
    from chalicelib.services.mail.rendering import render_mail

    rendered = render_mail(request.template, request.language, request.context,
                           overrides=overrides_for(tenant_id, request.template, request.language),
                           custom_message=request.custom_message, action_url=request.action_url)
    return rendered, content_problems(rendered, request.action_url)


def _claim_key(tenant_id: str, idempotency_key: str) -> str:
    return tenant_key(tenant_id, "notification", "idempotency", idempotency_key)


def _claimed_id(tenant_id: str, idempotency_key: str | None) -> tuple[str, bool]:
    """The id of the mail this key stands for, and whether it was claimed just now (one
    conditional put) rather than by an earlier attempt. Without a key, a new id."""
    notification_id = ids.new_id()
    if not idempotency_key:
        return notification_id, True
    claim = UniqueKey(key=_claim_key(tenant_id, idempotency_key), entity_type="notification",
                      entity_id=notification_id, label="idempotency_key")
    try:
        claim.save(condition=UniqueKey.key.does_not_exist())
        return notification_id, True
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
    return UniqueKey.get(claim.key, consistent_read=True).entity_id, False


def _record(notification: Notification, status: str, detail: str | None = None, *,
            message_id: str | None = None) -> Notification:
    """Write the mail once, as it stands after its attempt; what a concurrent attempt wrote first if any."""
    at = clock.now()
    notification.status, notification.status_at = status, at
    notification.timeline = [*notification.timeline, StatusEvent(status=status, at=at, detail=detail)]
    notification.provider_message_id = message_id
    try:
        notification.save(condition=Notification.id.does_not_exist())
        return notification
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
    return notifications.find(notification.tenant_id, notification.id) or notification


def send_mail(actor: Actor, request: MailRequest, *, transport: MailTransport | None = None,
              pacer: Pacer | None = None) -> Notification:
    """Send ``request`` once; returns its notification whatever became of the mail.

    The idempotency key is claimed first (a small item naming the mail's id); the mail is
    written once, after its attempt, with its outcome (sent, failed, suppressed, rejected): a
    mail costs one claim and one write of its record, nothing rewritten. A retry finds the
    record and sends nothing; a crash after the provider took the mail and before the record
    leaves only the claim, and a retry sends again (at least once, never silently none)."""
    address = checked_address(request.recipient)
    notification_id, claimed_now = _claimed_id(actor.tenant_id, request.idempotency_key)
    earlier = None if claimed_now else notifications.find(actor.tenant_id, notification_id)
    if earlier is not None:
        return earlier
    rendered, problems = render(actor.tenant_id, request)
    notification = notifications.new_notification(
        actor.tenant_id, recipient=address, template=request.template, language=rendered.language,
        subject=rendered.subject,
        concerns_type=request.concerns_type, concerns_id=request.concerns_id, sender_name=request.sender_name,
        contact_id=request.contact_id, campaign_id=request.campaign_id, essential=request.essential,
        render_context=request.context, action_url=request.action_url,
        custom_message=request.custom_message, resent_from=request.resent_from, notification_id=notification_id)
    if problems:
        return _record(notification, "failed", "content rules: " + "; ".join(problems))
    blocked = recipients.blocked_reason(actor.tenant_id, address, request.essential)
    if blocked:
        return _record(notification, "suppressed", blocked)
    mail = OutgoingMail(sender_name=request.sender_name, sender_address=settings.mail_from_address,
                        recipient=address, subject=rendered.subject, text=rendered.text, html=rendered.html,
                        tags={"tenant": actor.tenant_id, "notification": notification.id})
    (pacer or default_pacer()).wait_turn()
    try:
        message_id = (transport or configured_transport()).send(mail)
    except MailRefused as error:
        return _record(notification, "rejected", str(error))
    except MailDeferred as error:
        raise MailNotSentYet(f"Mail {notification.id} deferred: {error}") from error
    sent = _record(notification, "sent", None, message_id=message_id)
    if settings.local_mail_events:
        from chalicelib.adapters import ses_simulator

        ses_simulator.publish_events(mail, message_id)
    return sent


def resend(actor: Actor, notification_id: str, address: str | None = None) -> Notification:
    """Send a notification's mail again, re-rendered, to the same or a corrected address (audited)."""
    from chalicelib.services.shared.audit import record_action
    from chalicelib.services.shared.records import get_record

    original = get_record(actor, Notification, notification_id)
    recipient = checked_address(address, "address") if address else original.recipient
    request = MailRequest(
        template=original.template, language=original.language, recipient=recipient,
        concerns_type=original.concerns_type, concerns_id=original.concerns_id, sender_name=original.sender_name,
        context=original.render_context or {}, contact_id=original.contact_id, campaign_id=original.campaign_id,
        essential=original.essential, action_url=original.action_url, custom_message=original.custom_message,
        resent_from=original.id)
    again = send_mail(actor, request)
    record_action(actor, "notification", original.id, "resend",
                  {"to": recipient, "previous_address": original.recipient, "new_notification": again.id,
                   "status": again.status})
    return again


def preview(tenant_id: str, template: str, language: str, context: dict | None):
    """A template rendered for a sample (or given) context, with the content rules it breaks."""
    from chalicelib.services.mail.rendering import MailTemplateError, require_template, sample_context

    require_template(template)
    sample = sample_context(template, language)
    missing = sorted(set(sample) - set(context)) if context is not None else []
    if missing:
        raise InvalidInput("The context lacks values this template shows.",
                           errors=[FieldError(f"context.{key}", "required by this template") for key in missing])
    request = MailRequest(template=template, language=language, recipient="preview@example.org",
                          concerns_type="preview", concerns_id="preview", sender_name="preview",
                          context=context if context is not None else sample,
                          action_url=f"{settings.public_base_url}/r/preview")
    try:
        return render(tenant_id, request)
    except MailTemplateError as error:  # a value of the wrong shape for the template (a text where a number goes)
        raise InvalidInput("The template cannot be written with this context.",
                           errors=[FieldError("context", str(error)[:300])]) from None


def set_override(actor: Actor, template: str, language: str, blocks: dict[str, str]) -> MailOverride:
    """A venue's own wording for some blocks of a template; refused (422 naming ``blocks.<block>``)
    if it does not render on the template's sample or breaks the content rules."""
    from chalicelib.services.mail.content import check_overrides
    from chalicelib.services.mail.rendering import require_template
    from chalicelib.services.shared.audit import snapshot, write_audited

    require_template(template, language)
    try:
        check_overrides(template, blocks, language)
    except InvalidInput as error:
        error.errors = [FieldError(problem.field.replace("overrides", "blocks", 1), problem.message)
                        for problem in error.errors]
        raise
    override_id = f"{template}.{language}"
    try:
        override = MailOverride.get(actor.tenant_id, override_id)
        before = snapshot(override)
    except DoesNotExist:
        override, before = MailOverride(tenant_id=actor.tenant_id, id=override_id, template=template,
                                        language=language), None
    override.blocks = blocks
    override.updated_at = clock.now()
    write_audited(actor, override, action="update" if before else "create", before=before)
    _overrides_cache.pop((actor.tenant_id, template, language), None)
    return override
