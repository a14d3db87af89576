"""The mails the instalment collector sends: to a SEPA payer ahead of each debit (the
pre-notification the SEPA rules require: amount, debit date, the mandate's reference (RUM) and
the venue's creditor identifier (ICS)), to the payer when an instalment failed (with the next
attempt's date, or, after the last, a request to settle with the box office), to the team when a
subscription falls into arrears, and to the payer when their bank wants them to confirm a card
instalment (a signed link to the confirmation page).

Each goes through the mail pipeline with an idempotency key naming the subscription, the
instalment and the attempt (the pre-notification: the debit date it announces), so a repeated
run never mails twice. A mail problem is logged and never fails the money path (the
notification shows it, staff can resend), except the pre-notification's: the collector charges
no SEPA instalment before it, so :func:`prenotify` lets an error through and the collector tries
again.
"""
from __future__ import annotations

from datetime import date
from typing import Callable

from chalicelib.config import settings
from chalicelib.models.catalog import Performance, Product, Venue
from chalicelib.models.contacts import Contact
from chalicelib.models.mail import Notification
from chalicelib.models.payers import PaymentMeans
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


def _debit_day(instalment: dict) -> date:
    """The day the instalment is (or was) charged: its due day, or the later day a SEPA
    pre-notification announced."""
    return date.fromisoformat(instalment.get("debit_on") or instalment["due_on"])


def _payer_mail(actor: Actor, subscription: Subscription, template: str, number: int,
                context: dict | Callable[[str, dict[str, Contact]], dict], *, key: str,
                action_url: str | None = None, due_date: bool = True) -> Notification | None:
    """The mail sent (or the one sent first under ``key``); ``None`` when the payer has no address."""
    venue, product, people = _setting(actor, subscription)
    payer = people.get(subscription.payer_contact_id)
    if payer is None or not payer.emails:
        return None
    language = payer.language or "fr"
    instalment = subscription.instalments[number - 1]
    base = {"first_name": payer.first_name or "", "venue_name": venue.name, "subscription_name": product.name,
            "amount": money(int(instalment["amount_cents"]), subscription.currency, language),
            "box_office": box_office(actor, venue)}
    if due_date:
        base["due_date"] = date_text(_debit_day(instalment), None, language)
    return mail.send_mail(actor, mail.MailRequest(
        template=template, language=language, recipient=payer.emails[0].address, concerns_type="subscription",
        concerns_id=subscription.id, sender_name=venue.name, contact_id=payer.id, action_url=action_url,
        idempotency_key=key, context={**base, **(context(language, people) if callable(context) else context)}))


def prenotice_key(subscription_id: str, number: int, debit_on: date) -> str:
    """The pre-notification's idempotency key: one mail per subscription, instalment and announced date."""
    return f"instalment:{subscription_id}:{number}:prenotice:{debit_on.isoformat()}"


def prenotify(actor: Actor, subscription: Subscription, number: int, debit_on: date,
              means: PaymentMeans) -> Notification | None:
    """The SEPA pre-notification of instalment ``number``, debited on ``debit_on`` by the mandate
    ``means``: amount, date, RUM and ICS first. Sent once per subscription, instalment and date
    (a repeated call answers the mail sent first). ``None`` when the payer has no address; an
    error of the mail pipeline is raised (the collector tries again, and charges nothing meanwhile)."""

    def context(language: str, people: dict[str, Contact]) -> dict:
        return {"holder_names": _name(people.get(subscription.holder_contact_id)),
                "debit_date": date_text(debit_on, None, language),
                "mandate_reference": means.mandate_reference or "", "creditor_id": settings.sepa_creditor_id,
                "instalment_number": number, "instalment_count": len(subscription.instalments),
                "iban_last4": means.last4 or ""}

    return _payer_mail(actor, subscription, "sepa_prenotification", number, context,
                       key=prenotice_key(subscription.id, number, debit_on), due_date=False)


def tell_failure(actor: Actor, subscription: Subscription, number: int, *, final: bool) -> None:
    """The payer is told the instalment failed; after the last attempt, the team too."""
    instalment = subscription.instalments[number - 1]
    attempt = int(instalment.get("attempts") or 0)

    def context(language: str, _people: dict[str, Contact]) -> dict:
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
               "due_date": date_text(_debit_day(instalment), None, "fr"),
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
