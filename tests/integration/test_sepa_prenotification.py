"""The SEPA pre-notification before each direct debit, end to end against DynamoDB Local, the
jobs queue, the mail pipeline and localstripe: the first instalment, due the day of the sale,
is pre-notified by the first collector run and charged ``SEPA_PRENOTICE_DAYS`` (5) days later;
a later instalment is pre-notified by the sweep exactly 5 days before its due day (from 06:00
on the venue's clock) and charged on its due day; a repeated sweep mails nothing more; a crash
between the mail and its record sends no second mail; a card instalment needs no notice; the
notice period and the creditor identifier are settings."""
from __future__ import annotations

import dataclasses
from datetime import date, datetime, timedelta, timezone

import pytest

from chalicelib.adapters import clock, ids, payments
from chalicelib.config import settings
from chalicelib.models.options import SweepMark
from chalicelib.models.subscriptions import InstalmentDue, Subscription
from chalicelib.services.contacts import contacts
from chalicelib.services.mail import notifications
from chalicelib.services.mail.rendering import render_mail
from chalicelib.services.money import saved_means
from chalicelib.services.orders import orders
from chalicelib.services.subscriptions import collector, instalment_mails
from chalicelib.values.formatting import money
from chalicelib.values.local_time import local_day
from tests.api.helpers import call
from tests.integration import test_instalment_collector as collector_tests
from tests.integration.test_instalment_collector import SOLD_AT, _at, _sold, _subscription
from tests.integration.test_saved_means import _browser_confirms_card
from tests.job_helpers import drive, stored

PARIS = "Europe/Paris"
# The collector tests' fixtures: a product of two performances with a 3-instalment plan, and the clock at the sale.
frozen, offer = collector_tests.frozen, collector_tests.offer


def _utc(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=timezone.utc)


FIRST_DEBIT_AT = _utc(2027, 1, 7, 5)  # 06:00 in Paris, 5 days after the notice sent at the sale's first run
SECOND_NOTICE_AT = _utc(2027, 1, 31, 5)  # 06:00 in Paris, 5 days before the second instalment (5 February)
SECOND_DUE_AT = _utc(2027, 2, 5, 5)


def _sweep(actor, pump) -> collector.SweepReport:
    """The hourly sweep for this venue, every job it started run to its end."""
    report = collector.sweep(clock.now(), tenant_id=actor.tenant_id)
    for job_id in report.started:
        assert drive(pump, actor.tenant_id, job_id).status == "succeeded"
    return report


def _kinds(actor, report: collector.SweepReport) -> list[str]:
    return sorted(stored(actor.tenant_id, job_id).kind for job_id in report.started)


def _prenotices(actor, subscription_id: str) -> list:
    mails = notifications.of_entity(actor, "subscription", subscription_id, limit=50, cursor=None).items
    return sorted((mail for mail in mails if mail.template == "sepa_prenotification"), key=lambda mail: mail.id)


def _charges(actor, payer_id: str, subscription_id: str) -> list:
    return payments.charges_with(saved_means.payer_account(actor, payer_id).stripe_customer_id, "subscription",
                                 subscription_id)


def _paid(actor, sale) -> int:
    return int(orders.get_order(actor, sale["order_id"]).paid_cents)


def _mandate(actor, payer_id: str):
    means, = saved_means.usable_means(actor, payer_id, kind="sepa_debit")
    return means


def _assert_notice(mail, *, payer, mandate, number: int, amount_cents: int, debit_text: str,
                   creditor_id: str | None = None) -> None:
    """The mail states the amount, the debit date, the RUM and the ICS, in its subject and its words."""
    context = mail.render_context
    assert mail.recipient == payer.emails[0].address and mail.contact_id == payer.id
    assert mail.status == "sent" and mail.language == "fr"
    assert context["amount"] == money(amount_cents, "EUR", "fr")
    assert context["debit_date"] == debit_text
    assert context["mandate_reference"] == mandate.mandate_reference
    assert context["creditor_id"] == (creditor_id or settings.sepa_creditor_id)
    assert (context["instalment_number"], context["instalment_count"]) == (number, 3)
    assert context["iban_last4"] == mandate.last4 and context["holder_names"] == "Anne Martin"
    assert _plain(mail.subject) == f"Avis de prélèvement SEPA : {_plain(context['amount'])} le {debit_text}"
    words = _plain(render_mail("sepa_prenotification", "fr", context).text)
    for fact in (f"Montant : {_plain(context['amount'])}", f"Date du prélèvement : {debit_text}",
                 f"(RUM) : {mandate.mandate_reference}", f"(ICS) : {context['creditor_id']}"):
        assert fact in words


def _plain(text: str) -> str:
    """French typography's no-break spaces (before a colon, in an amount) as plain spaces."""
    return text.replace("\xa0", " ").replace("\u202f", " ")


def test_the_first_instalment_due_at_the_sale_is_prenotified_then_charged_on_the_announced_day_once(
        client, staff_headers, actor, pump, frozen, offer):
    sale, anne = _sold(client, staff_headers, actor, offer)
    subscription_id = sale["subscriptions"][0]["id"]
    mandate = _mandate(actor, anne.id)

    # The sale's first collector run: the notice goes, not the money.
    report = _sweep(actor, pump)
    assert _kinds(actor, report) == [collector.COLLECT]
    first = _subscription(actor, sale).instalments[0]
    assert (first["state"], first["attempts"], first["due_on"], first["debit_on"]) == (
        "scheduled", 0, "2027-01-02", "2027-01-07")
    assert datetime.fromisoformat(first["prenotified_at"]) == SOLD_AT
    assert _paid(actor, sale) == 0 and _charges(actor, anne.id, subscription_id) == []
    mail, = _prenotices(actor, subscription_id)
    assert first["prenotice_mail"] == mail.id
    _assert_notice(mail, payer=anne, mandate=mandate, number=1, amount_cents=3333,
                   debit_text="jeudi 7 janvier 2027")
    # The charge moved to the announced day, in the record's transaction.
    assert not list(InstalmentDue.query("2027-01-02", InstalmentDue.due_key.startswith(f"{actor.tenant_id}#")))
    moved, = InstalmentDue.query("2027-01-07", InstalmentDue.due_key.startswith(f"{actor.tenant_id}#"))
    assert moved.due_at == FIRST_DEBIT_AT

    # Runs again before the day: nothing charged, nothing mailed again.
    assert collector.collect(actor, subscription_id, 1) == "waiting"
    for moment in (SOLD_AT + timedelta(hours=1), _utc(2027, 1, 6, 5), FIRST_DEBIT_AT - timedelta(minutes=1)):
        _at(moment)
        assert collector.COLLECT not in _kinds(actor, _sweep(actor, pump))
    assert _paid(actor, sale) == 0 and _charges(actor, anne.id, subscription_id) == []
    assert len(_prenotices(actor, subscription_id)) == 1

    # The announced day, from 06:00 in Paris: charged, once.
    _at(FIRST_DEBIT_AT)
    assert _kinds(actor, _sweep(actor, pump)) == [collector.COLLECT]
    assert _subscription(actor, sale).instalments[0]["state"] == "paid" and _paid(actor, sale) == 3333
    _at(FIRST_DEBIT_AT + timedelta(hours=1))
    assert collector.COLLECT not in _kinds(actor, _sweep(actor, pump))
    assert len(_charges(actor, anne.id, subscription_id)) == 1 and _paid(actor, sale) == 3333
    assert len(_prenotices(actor, subscription_id)) == 1
    assert not list(InstalmentDue.query("2027-01-07", InstalmentDue.due_key.startswith(f"{actor.tenant_id}#")))


def test_a_later_instalment_is_prenotified_by_the_sweep_exactly_the_notice_before_its_due_day(
        client, staff_headers, actor, pump, frozen, offer):
    sale, anne = _sold(client, staff_headers, actor, offer)
    subscription_id = sale["subscriptions"][0]["id"]
    _sweep(actor, pump)
    _at(FIRST_DEBIT_AT)
    _sweep(actor, pump)
    assert _paid(actor, sale) == 3333

    # 05:59 in Paris, 5 days before: not yet (the sweep ahead goes from 06:00).
    _at(SECOND_NOTICE_AT - timedelta(minutes=1))
    report = _sweep(actor, pump)
    assert "2027-02-05" not in report.ahead_days and report.started == []
    assert "prenotified_at" not in _subscription(actor, sale).instalments[1]

    # 06:00 in Paris, 5 days before: one job for the venue's day ahead mails the payer.
    _at(SECOND_NOTICE_AT)
    report = _sweep(actor, pump)
    assert report.ahead_days[-1] == "2027-02-05" and report.ahead == {actor.tenant_id: 1}
    assert _kinds(actor, report) == [collector.PRENOTIFY]
    job = stored(actor.tenant_id, report.started[0])
    assert job.params == {"day": "2027-02-05"} and (job.done, job.failed) == (1, 0)
    second = _subscription(actor, sale).instalments[1]
    assert second["debit_on"] == second["due_on"] == "2027-02-05"  # announced for its due day: not moved
    assert local_day(datetime.fromisoformat(second["prenotified_at"]), PARIS) == date(2027, 1, 31)
    first_notice, second_notice = _prenotices(actor, subscription_id)
    _assert_notice(second_notice, payer=anne, mandate=_mandate(actor, anne.id), number=2, amount_cents=3333,
                   debit_text="vendredi 5 février 2027")

    # Repeated sweeps, the same hour, later that day and the next day: no job, no mail.
    for moment in (SECOND_NOTICE_AT, SECOND_NOTICE_AT + timedelta(hours=9), _utc(2027, 2, 1, 5)):
        _at(moment)
        assert _sweep(actor, pump).started == []
    assert collector.prenotify(actor, subscription_id, 2) == "waiting"
    assert len(_prenotices(actor, subscription_id)) == 2

    # Charged on its due day, not before.
    _at(SECOND_DUE_AT - timedelta(days=1))
    _sweep(actor, pump)
    assert _paid(actor, sale) == 3333
    _at(SECOND_DUE_AT)
    assert _kinds(actor, _sweep(actor, pump)) == [collector.COLLECT]
    assert _subscription(actor, sale).instalments[1]["state"] == "paid" and _paid(actor, sale) == 6666
    assert len(_charges(actor, anne.id, subscription_id)) == 2
    assert len(_prenotices(actor, subscription_id)) == 2


def test_a_crash_between_the_mail_and_its_record_sends_no_second_mail(client, staff_headers, actor, pump, frozen,
                                                                       offer, monkeypatch):
    sale, anne = _sold(client, staff_headers, actor, offer)
    subscription_id = sale["subscriptions"][0]["id"]
    real = collector._record_prenotice

    def dying(*args, **kwargs):
        raise RuntimeError("the Lambda died between the mail and its record")

    monkeypatch.setattr(collector, "_record_prenotice", dying)
    with pytest.raises(RuntimeError):
        collector.collect(actor, subscription_id, 1)
    assert len(_prenotices(actor, subscription_id)) == 1  # the mail went
    first = _subscription(actor, sale).instalments[0]
    assert first["debit_on"] == "2027-01-07" and "prenotified_at" not in first
    assert list(InstalmentDue.query("2027-01-02", InstalmentDue.due_key.startswith(f"{actor.tenant_id}#")))

    # The next hourly run: the same date under the same key, so the pipeline answers the mail sent.
    monkeypatch.setattr(collector, "_record_prenotice", real)
    _at(SOLD_AT + timedelta(hours=1))
    assert _kinds(actor, _sweep(actor, pump)) == [collector.COLLECT]
    mail, = _prenotices(actor, subscription_id)
    first = _subscription(actor, sale).instalments[0]
    assert first["prenotice_mail"] == mail.id and datetime.fromisoformat(first["prenotified_at"]) == SOLD_AT
    assert first["state"] == "scheduled" and _charges(actor, anne.id, subscription_id) == []

    # Still charged only after the notice, once.
    _at(FIRST_DEBIT_AT - timedelta(hours=1))
    _sweep(actor, pump)
    assert _paid(actor, sale) == 0
    _at(FIRST_DEBIT_AT)
    _sweep(actor, pump)
    assert _paid(actor, sale) == 3333 and len(_charges(actor, anne.id, subscription_id)) == 1
    assert len(_prenotices(actor, subscription_id)) == 1


def test_a_card_instalment_is_charged_without_prenotification(client, staff_headers, actor, pump, frozen, offer):
    paul = contacts.create_contact(actor, {"first_name": "Paul", "last_name": "Girard",
                                           "emails": [{"address": "paul.girard@exemple.fr"}]})
    started = saved_means.start_card_setup(actor, paul.id)
    _browser_confirms_card(started.client_secret)
    card = saved_means.record_setup_outcome(actor, paul.id, started.means.id)
    assert card.status == "active"
    product, tariff = offer
    status, sale, _ = call(client, "POST", "/subscriptions", staff_headers, {
        "product_id": product.id, "tariff_id": tariff.id, "payer_contact_id": paul.id,
        "delivery_mode": "print_at_home", "plan_id": "3x", "means": "card_alias", "saved_means_id": card.id,
        "subscribers": [{"holder_contact_id": paul.id}]})
    assert status == 201, sale
    subscription_id = sale["subscriptions"][0]["id"]

    _sweep(actor, pump)  # the day of the sale: charged at once
    first = _subscription(actor, sale).instalments[0]
    assert first["state"] == "paid" and "debit_on" not in first and _paid(actor, sale) == 3333
    _at(SECOND_NOTICE_AT)  # the day ahead's job finds no SEPA debit to announce
    _sweep(actor, pump)
    assert "prenotified_at" not in _subscription(actor, sale).instalments[1]
    _at(SECOND_DUE_AT)
    _sweep(actor, pump)
    assert _subscription(actor, sale).instalments[1]["state"] == "paid" and _paid(actor, sale) == 6666
    assert len(_charges(actor, paul.id, subscription_id)) == 2
    assert _prenotices(actor, subscription_id) == []


def test_the_notice_period_and_the_creditor_id_are_settings(client, staff_headers, actor, pump, frozen, offer,
                                                            monkeypatch):
    monkeypatch.setattr(collector, "settings", dataclasses.replace(collector.settings, sepa_prenotice_days=14))
    monkeypatch.setattr(instalment_mails, "settings",
                        dataclasses.replace(instalment_mails.settings, sepa_creditor_id="FR72ZZZ123456"))
    sale, anne = _sold(client, staff_headers, actor, offer)
    subscription_id = sale["subscriptions"][0]["id"]
    assert collector.collect(actor, subscription_id, 1) == "prenotified"
    assert _subscription(actor, sale).instalments[0]["debit_on"] == "2027-01-16"
    mail, = _prenotices(actor, subscription_id)
    _assert_notice(mail, payer=anne, mandate=_mandate(actor, anne.id), number=1, amount_cents=3333,
                   debit_text="samedi 16 janvier 2027", creditor_id="FR72ZZZ123456")
    _at(_utc(2027, 1, 15, 5))
    assert collector.collect(actor, subscription_id, 1) == "waiting"
    _at(_utc(2027, 1, 16, 5))
    assert collector.collect(actor, subscription_id, 1) == "paid"
    assert len(_charges(actor, anne.id, subscription_id)) == 1


def test_the_schedule_reads_each_day_ahead_once_across_venues(client, staff_headers, actor, pump, frozen, offer):
    sale, _ = _sold(client, staff_headers, actor, offer)
    _at(SECOND_NOTICE_AT)
    SweepMark(sweep=collector.PRENOTICE_SWEEP, from_day="2027-02-05", swept_at=SECOND_NOTICE_AT).save()
    report = collector.sweep(SECOND_NOTICE_AT)
    assert report.ahead_days == ["2027-02-05"] and report.ahead.get(actor.tenant_id) == 1
    ours = ids.derived_id(datetime(2027, 1, 31, 5, tzinfo=timezone.utc), actor.tenant_id, collector.PRENOTIFY,
                          "2027-02-05")
    assert ours in report.started
    assert drive(pump, actor.tenant_id, ours).status == "succeeded"
    second = _subscription(actor, sale).instalments[1]
    assert second["debit_on"] == "2027-02-05" and second["prenotified_at"]
    again = collector.sweep(SECOND_NOTICE_AT + timedelta(hours=1))
    assert again.ahead_days == [] and ours not in again.started  # the day ahead is read once
    assert SweepMark.get(collector.PRENOTICE_SWEEP, consistent_read=True).from_day == "2027-02-06"
    assert Subscription.get(actor.tenant_id, sale["subscriptions"][0]["id"]).instalments[1]["prenotice_mail"]
