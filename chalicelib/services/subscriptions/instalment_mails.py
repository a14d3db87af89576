"""The mails the instalment collector sends: to the payer when an instalment failed (with the
next attempt's date, or, after the last, a request to settle with the box office), to the team
when a subscription falls into arrears, and to the payer when their bank wants them to confirm a
card instalment (a signed link to the confirmation page).

Each goes through the mail pipeline with an idempotency key naming the subscription, the
instalment and the attempt, so a repeated run never mails twice; a mail problem is logged and
never fails the money path (the notification shows it, staff can resend).
"""
from __future__ import annotations

from datetime import date

from chalicelib.models.catalog import Performance, Product, Venue
from chalicelib.models.contacts import Contact
from chalicelib.models.subscriptions import Subscription
from chalicelib.models.team import TeamNotificationRule
from chalicelib.observability import logger
from chalicelib.services.mail import sending as mail
from chalicelib.services.options.notices import box_office
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.records import by_ids, get_record
from chalicelib.values.formatting import date_text, money

REASONS_FR = {"insufficient_funds": "provision insuffisante", "card_declined": "carte refusée",
              "expired_card": "carte expirée", "no saved means of payment in use": "aucun moyen de paiement enregistré en service"}
REASONS_EN = {"insufficient_funds": "insufficient funds", "card_declined": "card declined",
              "expired_card": "expired card", "no saved means of payment in use": "no saved means of payment"}


def _name(contact: Contact | None) -> str:
    return " ".join(part for part in (contact.first_name, contact.last_name) if part) if contact else ""


def _setting(actor: Actor, subscription: Subscription) -> tuple[Venue, Product, dict[str, Contact]]:
    performance = get_record(actor, Performance, subscription.performance_ids[0])
    people = by_ids(actor, Contact, [subscription.payer_contact_id, subscription.holder_contact_id])
    return get_record(actor, Venue, performance.venue_id), get_record(actor, Product, subscription.product_id), people


def _payer_mail(actor: Actor, subscription: Subscription, template: str, number: int, context: dict, *,
                key: str, action_url: str | None = None) -> None:
    venue, product, people = _setting(actor, subscription)
    payer = people.get(subscription.payer_contact_id)
    if payer is None or not payer.emails:
        return
    language = payer.language or "fr"
    instalment = subscription.instalments[number - 1]
    mail.send_mail(actor, mail.MailRequest(
        template=template, language=language, recipient=payer.emails[0].address, concerns_type="subscription",
        concerns_id=subscription.id, sender_name=venue.name, contact_id=payer.id, action_url=action_url,
        idempotency_key=key, context={
            "first_name": payer.first_name or "", "venue_name": venue.name, "subscription_name": product.name,
            "amount": money(int(instalment["amount_cents"]), subscription.currency, language),
            "due_date": date_text(date.fromisoformat(instalment["due_on"]), None, language),
            "box_office": box_office(actor, venue), **(context(language) if callable(context) else context)}))


def tell_failure(actor: Actor, subscription: Subscription, number: int, *, final: bool) -> None:
    """The payer is told the instalment failed; after the last attempt, the team too."""
    instalment = subscription.instalments[number - 1]
    attempt = int(instalment.get("attempts") or 0)

    def context(language: str) -> dict:
        reasons = REASONS_FR if language == "fr" else REASONS_EN
        retry = instalment.get("retry_on")
        return {"reason": reasons.get(instalment.get("failure") or "", ""), "final": final,
                "retry_date": date_text(date.fromisoformat(retry), None, language) if retry and not final else ""}

    try:
        _payer_mail(actor, subscription, "instalment_failed", number, context,
                    key=f"instalment:{subscription.id}:{number}:{attempt}:failed")
        if final:
            _tell_team(actor, subscription, number)
    except Exception:  # noqa: BLE001 - a mail never fails the money path
        logger.exception("instalment failure mail not sent", extra={"subscription_id": subscription.id})


def _tell_team(actor: Actor, subscription: Subscription, number: int) -> None:
    rules = [rule for rule in TeamNotificationRule.query(actor.tenant_id)
             if rule.active and (rule.all_tariffs or subscription.tariff_id in (rule.tariff_ids or set()))]
    if not rules:
        return
    venue, product, people = _setting(actor, subscription)
    instalment = subscription.instalments[number - 1]
    context = {"venue_name": venue.name, "subscription_name": product.name,
               "payer_name": _name(people.get(subscription.payer_contact_id)),
               "holder_names": _name(people.get(subscription.holder_contact_id)),
               "amount": money(int(instalment["amount_cents"]), subscription.currency, "fr"),
               "due_date": date_text(date.fromisoformat(instalment["due_on"]), None, "fr"),
               "attempts": int(instalment.get("attempts") or 0), "reason": instalment.get("failure") or "",
               "subscription_reference": subscription.id}
    for address in sorted({address for rule in rules for address in rule.addresses}):
        mail.send_mail(actor, mail.MailRequest(
            template="team_instalment_arrears", language="fr", recipient=address, concerns_type="subscription",
            concerns_id=subscription.id, sender_name=venue.name, context=context, essential=False,
            idempotency_key=f"instalment:{subscription.id}:{number}:arrears:{address}"))


def ask_authentication(actor: Actor, subscription: Subscription, number: int) -> None:
    """The payer is asked to confirm a card instalment their bank wants authenticated."""
    from chalicelib.services.subscriptions import payer_page

    instalment = subscription.instalments[number - 1]
    try:
        _payer_mail(actor, subscription, "instalment_authentication", number, {},
                    key=f"instalment:{subscription.id}:{number}:{int(instalment.get('attempts') or 0)}:authenticate",
                    action_url=payer_page.confirmation_link(actor.tenant_id, subscription.id, number))
    except Exception:  # noqa: BLE001 - a mail never fails the money path
        logger.exception("instalment authentication mail not sent", extra={"subscription_id": subscription.id})
