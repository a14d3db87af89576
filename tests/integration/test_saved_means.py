"""Payers' saved means of payment: SEPA mandates and cards set up at Stripe, settled by its
webhooks, charged off-session, revoked.

Most tests run against the real local engines of the test run: DynamoDB Local and localstripe.
Where localstripe cannot behave as Stripe does, the adapter is tested against a focused fake
Stripe answering **recorded payloads** written from Stripe's documented shapes (the last
section): the Mandate object holding the RUM, the 402 ``authentication_required`` card error
carrying the PaymentIntent, a decline carrying it, and the parameters real Stripe needs and
localstripe refuses (``mandate_data``, ``mandate``, ``customer`` on a list) or ignores
(idempotency keys).
"""
from __future__ import annotations

import json
import re
import threading
import time
from contextlib import contextmanager
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

import pytest

from chalicelib.adapters import payments, secrets
from chalicelib.models.payers import PayerAccount, PaymentMeans, payer_key
from chalicelib.services.contacts import contacts
from chalicelib.services.money import saved_means
from chalicelib.services.shared.actors import Actor
from tests.api.helpers import assert_problem, call
from tests.conftest import new_tenant_id
from tests.money_helpers import deliver

GOOD_IBAN = "DE89370400440532013000"  # localstripe sets it up and debits it
FAILING_IBAN = "DE62370400440532013001"  # localstripe sets it up; its debits fail a moment later
LOCALSTRIPE_RUM = "NXDSYREGC9PSMKWY"  # the one mandate reference localstripe gives every SEPA method
SIGNED_ON = "2026-01-15"


def _payer(actor, email: str | None = "claire.martin@exemple.fr", last_name: str = "Martin"):
    fields = {"last_name": last_name, "first_name": "Claire"}
    if email:
        fields["emails"] = [{"address": email}]
    return contacts.create_contact(actor, fields)


def _sepa(actor, contact_id: str, iban: str = GOOD_IBAN):
    return saved_means.start_sepa_setup(actor, contact_id, iban=iban, account_holder="Claire Martin",
                                        signed_on=date(2026, 1, 15))


def _eventually(read, wanted, seconds: float = 10.0):
    """``read()`` until ``wanted(value)`` (localstripe settles SEPA debits and sends events a moment later)."""
    deadline = time.monotonic() + seconds
    while True:
        value = read()
        if wanted(value) or time.monotonic() > deadline:
            return value
        time.sleep(0.2)


def _browser_confirms_card(client_secret: str, number: str = "4242424242424242"):
    """What Stripe.js ``confirmCardSetup`` does in the payer's browser, done at localstripe."""
    setup_id = client_secret.split("_secret_")[0]
    method = payments._client().v1.payment_methods.create(params={
        "type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    return payments._client().v1.setup_intents.confirm(
        setup_id, params={"payment_method": method.id, "client_secret": client_secret}).to_dict()


def _setup_intent(setup_id: str) -> dict:
    return payments._client().v1.setup_intents.retrieve(setup_id).to_dict()


def _history(client, headers, means_id: str) -> list[dict]:
    status, page, _ = call(client, "GET", f"/audit/payment_means/{means_id}", headers)
    assert status == 200, page
    return page["items"]


# SEPA at the box office ---------------------------------------------------------------------------

def test_a_sepa_mandate_signed_at_the_box_office_is_set_up_with_its_rum_and_only_the_last_4_kept(
        client, staff_headers, actor):
    contact = _payer(actor)
    status, means, _ = call(client, "POST", f"/contacts/{contact.id}/payment-means/sepa", staff_headers, {
        "iban": "de89 3704 0044 0532 0130 00", "account_holder": "Claire Martin", "signed_on": SIGNED_ON})

    assert status == 201, means
    assert means["kind"] == "sepa_debit" and means["status"] == "active"
    assert means["mandate_reference"] == LOCALSTRIPE_RUM  # localstripe: on the PaymentMethod (no Mandate object)
    assert (means["country"], means["bank_code"], means["last4"]) == ("DE", "37040044", "3000")
    assert means["mandate_signed_on"] == SIGNED_ON and means["activated_at"]
    listed = call(client, "GET", f"/contacts/{contact.id}/payment-means", staff_headers)[1]["items"]
    assert [item["id"] for item in listed] == [means["id"]]
    history = _history(client, staff_headers, means["id"])
    assert [event["action"] for event in history] == ["sepa-setup-started", "setup-succeeded"]
    # never the full IBAN: not in the answers, the stored item, nor the audit trail
    stored = PaymentMeans.get(payer_key(actor.tenant_id, contact.id), means["id"])
    for text in (json.dumps(means), json.dumps(listed), json.dumps(history), json.dumps(stored.to_simple_dict())):
        assert "0532013000" not in text and "370400440532" not in text
    # attached to the payer's Stripe Customer, so it can be charged off-session
    method = payments._client().v1.payment_methods.retrieve(means["payment_method_id"]).to_dict()
    assert method["customer"] == means["stripe_customer_id"]


def test_a_payer_has_one_stripe_customer_for_all_their_means(client, staff_headers, actor):
    contact = _payer(actor)
    first, second = _sepa(actor, contact.id), _sepa(actor, contact.id)
    card = saved_means.start_card_setup(actor, contact.id).means

    assert first.stripe_customer_id == second.stripe_customer_id == card.stripe_customer_id
    account = PayerAccount.get(payer_key(actor.tenant_id, contact.id))
    assert account.stripe_customer_id == first.stripe_customer_id
    assert [event["action"] for event in call(client, "GET", f"/audit/payer/{contact.id}", staff_headers)[1]["items"]] \
        == ["stripe-customer-created"]
    assert [means.id for means in saved_means.usable_means(actor, contact.id, kind="sepa_debit")] == \
        [second.id, first.id]


@pytest.mark.parametrize("iban, why", [
    ("DE89370400440532013001", "check digits"),  # one digit mistyped: mod 97 fails
    ("DE8937040044053201300", "22 characters"),
    ("MA64011519000001205000534921", "outside the SEPA area"),  # an IBAN, but no SEPA debit on it
    ("not an iban", "two letters"),
])
def test_a_bad_iban_is_refused_on_its_field_before_stripe_and_nothing_is_written(
        client, staff_headers, actor, iban, why):
    contact = _payer(actor)
    body = assert_problem(call(client, "POST", f"/contacts/{contact.id}/payment-means/sepa", staff_headers, {
        "iban": iban, "account_holder": "Claire Martin", "signed_on": SIGNED_ON}), 422, "iban")

    assert why in json.dumps(body)
    assert call(client, "GET", f"/contacts/{contact.id}/payment-means", staff_headers)[1]["items"] == []
    assert saved_means.payer_account(actor, contact.id) is None  # not even a Stripe Customer


def test_other_bad_input_is_refused_on_its_field(client, staff_headers, actor):
    contact, no_mail = _payer(actor), _payer(actor, email=None, last_name="Sansmail")
    url = f"/contacts/{contact.id}/payment-means/sepa"
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    good = {"iban": GOOD_IBAN, "account_holder": "Claire Martin", "signed_on": SIGNED_ON}

    assert_problem(call(client, "POST", url, staff_headers, {**good, "signed_on": tomorrow}), 422, "signed_on")
    assert_problem(call(client, "POST", url, staff_headers, {**good, "account_holder": ""}), 422, "account_holder")
    assert_problem(call(client, "POST", url, staff_headers, {**good, "account_holder": "A\nB"}), 422,
                   "account_holder")
    assert_problem(call(client, "POST", url, staff_headers, {**good, "email": "nope"}), 422, "email")
    assert_problem(call(client, "POST", url, staff_headers, {**good, "iban": 12}), 422, "iban")
    assert_problem(call(client, "POST", url, staff_headers, {**good, "full_iban": GOOD_IBAN}), 422, "full_iban")
    assert_problem(call(client, "POST", f"/contacts/{no_mail.id}/payment-means/sepa", staff_headers, good), 422,
                   "email")
    for payer in (contact, no_mail):
        assert call(client, "GET", f"/contacts/{payer.id}/payment-means", staff_headers)[1]["items"] == []
    # with an address given, the payer without one can sign a mandate
    status, means, _ = call(client, "POST", f"/contacts/{no_mail.id}/payment-means/sepa", staff_headers,
                            {**good, "email": "payeur@exemple.fr"})
    assert status == 201 and means["status"] == "active"


def test_unknown_ids_answer_404(client, staff_headers, actor):
    contact = _payer(actor)
    means = _sepa(actor, contact.id)
    unknown = "01ARZ3NDEKTSV4RRFFQ69G5FAV"

    for method, path, payload in (
            ("GET", f"/contacts/{unknown}/payment-means", None),
            ("POST", f"/contacts/{unknown}/payment-means/sepa", {"iban": GOOD_IBAN, "account_holder": "X",
                                                                  "signed_on": SIGNED_ON}),
            ("POST", f"/contacts/{unknown}/payment-means/card", None),
            ("POST", f"/contacts/{contact.id}/payment-means/{unknown}/revoke", {}),
            ("POST", f"/contacts/{unknown}/payment-means/{means.id}/revoke", {}),
            ("POST", f"/contacts/{contact.id}/payment-means/not-an-id/revoke", {})):
        assert_problem(call(client, method, path, staff_headers, payload), 404)


def test_a_merged_or_erased_payer_takes_no_new_means_and_its_means_are_not_usable(client, staff_headers, actor):
    kept, merged, erased = _payer(actor), _payer(actor, "autre@exemple.fr"), _payer(actor, "efface@exemple.fr")
    means = _sepa(actor, merged.id)
    contacts.mark_merging(actor, kept.id, merged.id)
    contacts.start_erasure(actor, erased.id)

    for payer in (merged, erased):
        assert_problem(call(client, "POST", f"/contacts/{payer.id}/payment-means/sepa", staff_headers, {
            "iban": GOOD_IBAN, "account_holder": "X", "signed_on": SIGNED_ON}), 409)
        assert_problem(call(client, "POST", f"/contacts/{payer.id}/payment-means/card", staff_headers), 409)
    assert [item["id"] for item in
            call(client, "GET", f"/contacts/{merged.id}/payment-means", staff_headers)[1]["items"]] == [means.id]
    assert call(client, "GET", f"/contacts/{erased.id}/payment-means", staff_headers)[1]["items"] == []
    assert saved_means.usable_means(actor, merged.id) == []
    with pytest.raises(Exception) as refused:
        saved_means.charge_means(actor, merged.id, means.id, amount_cents=1000, currency="EUR", charge_key="k")
    assert refused.value.status == 409
    # staff can still remove it
    status, revoked, _ = call(client, "POST", f"/contacts/{merged.id}/payment-means/{means.id}/revoke",
                              staff_headers, {"reason": "merged record"})
    assert status == 200 and revoked["status"] == "revoked"


# Cards, and Stripe's webhooks ----------------------------------------------------------------------

def test_a_card_is_set_up_in_the_payers_browser_and_the_webhook_settles_it_once_in_any_order(
        client, staff_headers, actor):
    contact = _payer(actor)
    status, started, _ = call(client, "POST", f"/contacts/{contact.id}/payment-means/card", staff_headers)
    assert status == 201, started
    assert started["status"] == "pending" and started["client_secret"].startswith(started["setup_intent_id"])
    assert saved_means.usable_means(actor, contact.id) == []

    _browser_confirms_card(started["client_secret"])
    subject = _setup_intent(started["setup_intent_id"])
    stale_failure = {**subject, "status": "requires_payment_method",
                     "last_setup_error": {"code": "card_declined", "message": "Your card was declined."}}
    # out of order: a stale failure first, then the success twice (Stripe delivers at least once)
    for kind, payload in (("setup_intent.setup_failed", stale_failure), ("setup_intent.succeeded", subject),
                          ("setup_intent.succeeded", subject), ("setup_intent.setup_failed", stale_failure)):
        assert deliver(client, kind, payload).status_code == 204

    means = call(client, "GET", f"/contacts/{contact.id}/payment-means", staff_headers)[1]["items"][0]
    assert means["status"] == "active" and means["failure_reason"] is None
    assert (means["brand"], means["last4"], means["exp_month"], means["exp_year"]) == ("visa", "4242", 12, 2030)
    assert "4242424242424242" not in json.dumps(means)
    actions = [event["action"] for event in _history(client, staff_headers, means["id"])]
    assert actions == ["card-setup-started", "setup-succeeded"]
    assert [item.id for item in saved_means.usable_means(actor, contact.id, kind="card")] == [means["id"]]
    assert saved_means.usable_means(actor, contact.id, kind="sepa_debit") == []
    method = payments._client().v1.payment_methods.retrieve(means["payment_method_id"]).to_dict()
    assert method["customer"] == means["stripe_customer_id"]  # attached (localstripe does not do it itself)


def test_a_declined_card_setup_fails_with_stripes_reason(client, staff_headers, actor):
    contact = _payer(actor)
    started = saved_means.start_card_setup(actor, contact.id)
    with pytest.raises(Exception):
        _browser_confirms_card(started.client_secret, number="4000000000000002")  # declined on attach
    subject = _setup_intent(started.means.setup_intent_id)
    for _ in range(2):
        assert deliver(client, "setup_intent.setup_failed", subject).status_code == 204

    means = saved_means.get_means(actor, contact.id, started.means.id)
    assert means.status == "failed" and means.failure_reason
    assert [event["action"] for event in _history(client, staff_headers, means.id)] == [
        "card-setup-started", "setup-failed"]
    assert saved_means.usable_means(actor, contact.id) == []


def test_events_that_are_not_for_a_saved_means_are_left_alone(client, actor):
    contact = _payer(actor)
    started = saved_means.start_card_setup(actor, contact.id)
    other_tenant = {**_setup_intent(started.means.setup_intent_id)}
    other_tenant["metadata"] = {**other_tenant["metadata"], "tenant_id": new_tenant_id()}
    foreign = {"id": "seti_foreign", "object": "setup_intent", "status": "succeeded", "metadata": {}}

    from chalicelib.services.webhooks import stripe_events

    assert stripe_events._apply("setup_intent.succeeded", foreign) == "not ours"
    assert stripe_events._apply("setup_intent.succeeded", other_tenant) == "unknown means"
    assert saved_means.get_means(actor, contact.id, started.means.id).status == "pending"


# Charging off-session (the collector's calls) --------------------------------------------------------

def test_an_off_session_sepa_debit_is_processing_then_succeeds_and_is_found_again_by_its_key(client, staff_headers,
                                                                                         actor):
    contact = _payer(actor)
    means = _sepa(actor, contact.id)

    outcome = saved_means.charge_means(actor, contact.id, means.id, amount_cents=4500, currency="EUR",
                                       charge_key="instalment:SUB1:1:1", metadata={"instalment": "SUB1:1"})

    # Real Stripe answers a SEPA debit "processing" (days); localstripe settles a good IBAN at once
    # or a moment later.
    assert outcome.status in ("processing", "succeeded") and outcome.payment_intent_id
    assert (outcome.amount, outcome.currency) == (4500, "EUR")
    assert outcome.metadata["means_id"] == means.id and outcome.metadata["instalment"] == "SUB1:1"
    settled = _eventually(lambda: saved_means.charge_outcome(actor, contact.id, outcome.payment_intent_id),
                          lambda found: found.status == "succeeded")
    assert settled.status == "succeeded"
    assert saved_means.find_charge(actor, contact.id, "instalment:SUB1:1:1").payment_intent_id == \
        outcome.payment_intent_id
    assert saved_means.find_charge(actor, contact.id, "instalment:SUB1:2:1") is None
    # asked again with the same key: the earlier attempt is answered, nothing is charged twice
    again = saved_means.charge_means(actor, contact.id, means.id, amount_cents=4500, currency="EUR",
                                     charge_key="instalment:SUB1:1:1")
    assert again.payment_intent_id == outcome.payment_intent_id and again.status == "succeeded"
    assert len(payments.charges_with(means.stripe_customer_id, "charge_key", "instalment:SUB1:1:1")) == 1
    charged = [event for event in _history(client, staff_headers, means.id) if event["action"] == "charged"]
    assert [event["after"]["earlier_attempt"] for event in charged] == [False, True]


@contextmanager
def _stripe_events_received(*types: str):
    """localstripe's own webhook calls, as it signs them with our secret, caught here (it calls
    none until told; this hook is switched off again after the block)."""
    from chalicelib.config import settings

    caught: list[tuple[bytes, str]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            caught.append((self.rfile.read(int(self.headers.get("Content-Length") or 0)),
                           self.headers.get("Stripe-Signature")))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()

    def register(url: str, events: list[str]) -> None:
        import urllib.request

        body = json.dumps({"url": url, "secret": secrets.stripe_webhook_secret(), "events": events}).encode()
        urllib.request.urlopen(urllib.request.Request(
            f"{settings.stripe_api_base}/_config/webhooks/saved-means-test", data=body, method="POST",
            headers={"Content-Type": "application/json"}), timeout=10).close()

    register(f"http://127.0.0.1:{server.server_address[1]}/", list(types))
    try:
        yield caught
    finally:
        register(f"http://127.0.0.1:{server.server_address[1]}/", ["none.ever"])
        server.shutdown()


def test_a_sepa_debit_on_a_failing_account_fails_a_moment_later_with_payment_failed(client, actor):
    contact = _payer(actor)
    means = _sepa(actor, contact.id, FAILING_IBAN)
    assert means.status == "active"  # the mandate is fine; the account cannot be debited

    with _stripe_events_received("payment_intent.payment_failed") as caught:
        outcome = saved_means.charge_means(actor, contact.id, means.id, amount_cents=4500, currency="EUR",
                                           charge_key="instalment:SUB2:1:1")
        assert outcome.status == "processing"
        failed = _eventually(lambda: saved_means.charge_outcome(actor, contact.id, outcome.payment_intent_id),
                             lambda found: found.status != "processing")
        assert failed.status == "failed" and failed.reason == "card_declined"  # localstripe's code for it
        _eventually(lambda: [body for body, _ in caught if outcome.payment_intent_id.encode() in body], bool)

    body, signature = next((body, signature) for body, signature in caught
                           if outcome.payment_intent_id.encode() in body)
    event = payments.verified_event(body, signature)  # signed as Stripe signs it
    assert event["type"] == "payment_intent.payment_failed"
    from_event = payments.outcome_of_intent(event["data"]["object"])
    assert (from_event.status, from_event.reason, from_event.payment_intent_id) == (
        "failed", "card_declined", outcome.payment_intent_id)
    assert from_event.metadata["charge_key"] == "instalment:SUB2:1:1"
    # the app's webhook takes it (the collector follows these events)
    response = client.request("POST", "/webhooks/stripe", body=body,
                              headers={"Content-Type": "application/json", "Stripe-Signature": signature})
    assert response.status_code == 204


def test_an_earlier_attempt_whose_answer_was_lost_is_adopted_instead_of_charging_again(actor):
    """As if the Lambda died after Stripe made the charge: the PaymentIntent exists with the key in
    its metadata, and the collector calls again with the same key."""
    contact = _payer(actor)
    means = _sepa(actor, contact.id)
    lost = payments.charge_off_session(
        customer_id=means.stripe_customer_id, payment_method_id=means.payment_method_id, kind="sepa_debit",
        amount_cents=3000, currency="EUR", idempotency_key="lost-answer",
        metadata={"tenant_id": actor.tenant_id, "contact_id": contact.id, "means_id": means.id,
                  "charge_key": "instalment:SUB3:1:1"})
    other = saved_means.charge_means(actor, contact.id, means.id, amount_cents=3000, currency="EUR",
                                     charge_key="instalment:SUB3:2:1")

    adopted = saved_means.charge_means(actor, contact.id, means.id, amount_cents=3000, currency="EUR",
                                       charge_key="instalment:SUB3:1:1")

    assert adopted.payment_intent_id == lost.payment_intent_id != other.payment_intent_id
    assert len(payments.charges_with(means.stripe_customer_id, "charge_key", "instalment:SUB3:1:1")) == 1
    assert saved_means.find_charge(actor, contact.id, "instalment:SUB3:2:1").payment_intent_id == \
        other.payment_intent_id


def test_a_card_charged_off_session_and_one_needing_3d_secure_at_localstripe(actor):
    """localstripe answers an off-session card that needs 3-D Secure with a ``requires_action``
    PaymentIntent (real Stripe's 402 is tested with its recorded payload below): both are
    ``requires_authentication``."""
    contact = _payer(actor)
    started = saved_means.start_card_setup(actor, contact.id)
    _browser_confirms_card(started.client_secret)
    card = saved_means.record_setup_outcome(actor, contact.id, started.means.id)
    assert card.status == "active"

    paid = saved_means.charge_means(actor, contact.id, card.id, amount_cents=2000, currency="EUR",
                                    charge_key="instalment:SUB4:1:1")
    assert paid.status == "succeeded"

    needs_3ds = payments._client().v1.payment_methods.create(params={
        "type": "card", "card": {"number": "4000002760003184", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    payments.attach_method(needs_3ds.id, card.stripe_customer_id)
    asked = payments.charge_off_session(customer_id=card.stripe_customer_id, payment_method_id=needs_3ds.id,
                                        kind="card", amount_cents=2000, currency="EUR", metadata={},
                                        idempotency_key="3ds")
    assert asked.status == "requires_authentication" and asked.payment_intent_id and asked.client_secret

    declined = payments._client().v1.payment_methods.create(params={
        "type": "card", "card": {"number": "4000000000000341", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    refused = payments.charge_off_session(customer_id=card.stripe_customer_id, payment_method_id=declined.id,
                                          kind="card", amount_cents=2000, currency="EUR",
                                          metadata={"charge_key": "declined"}, idempotency_key="declined")
    assert (refused.status, refused.reason) == ("failed", "card_declined")
    # localstripe's decline carries no PaymentIntent: the look-up finds it
    found = payments.charges_with(card.stripe_customer_id, "charge_key", "declined")
    assert [(item.status, item.reason) for item in found] == [("failed", "card_declined")]


def test_a_charge_is_refused_for_a_means_not_active_or_bad_arguments(actor):
    contact = _payer(actor)
    pending = saved_means.start_card_setup(actor, contact.id).means
    active = _sepa(actor, contact.id)

    with pytest.raises(saved_means.MeansNotUsable):
        saved_means.charge_means(actor, contact.id, pending.id, amount_cents=100, currency="EUR", charge_key="k1")
    for arguments, field in (({"amount_cents": 0}, "amount_cents"), ({"amount_cents": 10.5}, "amount_cents"),
                             ({"currency": "eur"}, "currency"), ({"charge_key": "a key with spaces"}, "charge_key"),
                             ({"metadata": {"means_id": "forged"}}, "metadata")):
        given = {"amount_cents": 100, "currency": "EUR", "charge_key": "k2", **arguments}
        with pytest.raises(Exception) as refused:
            saved_means.charge_means(actor, contact.id, active.id, **given)
        assert refused.value.status == 422 and refused.value.errors[0].field == field
    assert payments.charges_with(active.stripe_customer_id, "charge_key", "k2") == []


# Revoking ---------------------------------------------------------------------------------------

def test_a_revoked_means_is_detached_at_stripe_and_never_charged(client, staff_headers, actor):
    contact = _payer(actor)
    means = _sepa(actor, contact.id)
    pending = saved_means.start_card_setup(actor, contact.id).means

    status, revoked, _ = call(client, "POST", f"/contacts/{contact.id}/payment-means/{means.id}/revoke",
                              staff_headers, {"reason": "the payer closed the account"})
    assert status == 200 and revoked["status"] == "revoked" and revoked["released_at"]
    assert revoked["revoke_reason"] == "the payer closed the account" and revoked["revoked_by"] == "staff-1"
    assert payments._client().v1.payment_methods.retrieve(means.payment_method_id).to_dict()["customer"] is None
    again = call(client, "POST", f"/contacts/{contact.id}/payment-means/{means.id}/revoke", staff_headers, {})
    assert again[0] == 200 and again[1]["revoked_at"] == revoked["revoked_at"]  # harmless
    assert [event["action"] for event in _history(client, staff_headers, means.id)] == [
        "sepa-setup-started", "setup-succeeded", "revoked", "released-at-stripe"]
    with pytest.raises(saved_means.MeansNotUsable):
        saved_means.charge_means(actor, contact.id, means.id, amount_cents=100, currency="EUR", charge_key="k")
    assert saved_means.usable_means(actor, contact.id) == []

    # a card never set up: its SetupIntent is cancelled; a late success would not revive it
    status, gone, _ = call(client, "POST", f"/contacts/{contact.id}/payment-means/{pending.id}/revoke",
                           staff_headers, {})
    assert status == 200 and gone["status"] == "revoked" and gone["released_at"]
    assert _setup_intent(pending.setup_intent_id)["status"] == "canceled"
    assert deliver(client, "setup_intent.succeeded", _setup_intent(pending.setup_intent_id)).status_code == 204
    assert saved_means.get_means(actor, contact.id, pending.id).status == "revoked"


# Tenants ----------------------------------------------------------------------------------------

def test_another_tenant_sees_nothing_and_changes_nothing(client, signer, actor, staff_headers):
    contact = _payer(actor)
    means = _sepa(actor, contact.id)
    other = {"Authorization": f"Bearer {signer.mint(new_tenant_id(), ['admin'], 'b-admin')}",
             "Content-Type": "application/json"}
    before = call(client, "GET", f"/contacts/{contact.id}/payment-means", staff_headers)[1]

    assert_problem(call(client, "GET", f"/contacts/{contact.id}/payment-means", other), 404)
    assert_problem(call(client, "POST", f"/contacts/{contact.id}/payment-means/card", other), 404)
    assert_problem(call(client, "POST", f"/contacts/{contact.id}/payment-means/sepa", other, {
        "iban": GOOD_IBAN, "account_holder": "B", "signed_on": SIGNED_ON}), 404)
    assert_problem(call(client, "POST", f"/contacts/{contact.id}/payment-means/{means.id}/revoke", other, {}), 404)
    stranger = Actor(new_tenant_id(), "b-staff", frozenset({"staff"}))
    with pytest.raises(Exception) as hidden:
        saved_means.usable_means(stranger, contact.id)
    assert hidden.value.status == 404
    with pytest.raises(Exception) as hidden:
        saved_means.charge_means(stranger, contact.id, means.id, amount_cents=100, currency="EUR", charge_key="b")
    assert hidden.value.status == 404
    assert saved_means.find_charge(stranger, contact.id, "b") is None
    paid = saved_means.charge_means(actor, contact.id, means.id, amount_cents=100, currency="EUR", charge_key="a")
    with pytest.raises(Exception) as hidden:
        saved_means.charge_outcome(stranger, contact.id, paid.payment_intent_id)
    assert hidden.value.status == 404
    assert call(client, "GET", f"/contacts/{contact.id}/payment-means", staff_headers)[1] == before


# What localstripe cannot do: the adapter against recorded real Stripe payloads --------------------------

# Written from Stripe's documented objects (API reference: SetupIntent, Mandate, PaymentIntent,
# errors; "Save SEPA Direct Debit details for future payments"; "Charge a saved card off-session").
RECORDED_SEPA_SETUP_INTENT = {
    "id": "seti_1QZx8vLkdIwHu7ixS0bq3Fjm", "object": "setup_intent", "application": None,
    "automatic_payment_methods": None, "cancellation_reason": None,
    "client_secret": "seti_1QZx8vLkdIwHu7ixS0bq3Fjm_secret_RSp1dN0M3tW7dPJ9qM2vUq8r9hZk1aL",
    "created": 1733313600, "customer": "cus_RSp1YhLh0nGq4T", "description": None, "flow_directions": None,
    "last_setup_error": None, "latest_attempt": "setatt_1QZx8wLkdIwHu7ixT1b8dY2n", "livemode": False,
    "mandate": "mandate_1QZx8wLkdIwHu7ixb7WcV9Hs",
    "metadata": {"tenant_id": "t", "contact_id": "c", "means_id": "m", "purpose": "saved-means"},
    "next_action": None, "on_behalf_of": None,
    "payment_method": {
        "id": "pm_1QZx8vLkdIwHu7ixCq2ZrX0d", "object": "payment_method", "allow_redisplay": "unspecified",
        "billing_details": {"address": {"city": None, "country": None, "line1": None, "line2": None,
                                        "postal_code": None, "state": None},
                            "email": "claire.martin@exemple.fr", "name": "Claire Martin", "phone": None},
        "created": 1733313600, "customer": "cus_RSp1YhLh0nGq4T", "livemode": False, "metadata": {},
        "sepa_debit": {"bank_code": "37040044", "branch_code": "", "country": "DE",
                       "fingerprint": "Xt5XJ8qQzVb0pG6W", "generated_from": {"charge": None, "setup_attempt": None},
                       "last4": "3000"},
        "type": "sepa_debit"},
    "payment_method_configuration_details": None, "payment_method_options": {"sepa_debit": {}},
    "payment_method_types": ["sepa_debit"], "single_use_mandate": None, "status": "succeeded",
    "usage": "off_session",
}
RECORDED_MANDATE = {
    "id": "mandate_1QZx8wLkdIwHu7ixb7WcV9Hs", "object": "mandate",
    "customer_acceptance": {"accepted_at": 1736942400, "offline": {}, "type": "offline"},
    "livemode": False, "multi_use": {}, "payment_method": "pm_1QZx8vLkdIwHu7ixCq2ZrX0d",
    "payment_method_details": {"sepa_debit": {"reference": "9GKDNQ5ZL4HBVPXW",
                                              "url": "https://payments.stripe.com/sepa_debit/mandate/test_YWNjd"},
                               "type": "sepa_debit"},
    "status": "active", "type": "multi_use",
}


def _recorded_intent(**fields) -> dict:
    intent = {
        "id": "pi_3QZy2bLkdIwHu7ix0fJ4pN1c", "object": "payment_intent", "amount": 4500, "amount_capturable": 0,
        "amount_received": 0, "capture_method": "automatic_async",
        "client_secret": "pi_3QZy2bLkdIwHu7ix0fJ4pN1c_secret_4xGk0fXH8cQ3m1KzV6Ywb2R5T", "confirmation_method":
            "automatic", "created": 1736942500, "currency": "eur", "customer": "cus_RSp1YhLh0nGq4T",
        "last_payment_error": None, "latest_charge": None, "livemode": False,
        "metadata": {"charge_key": "instalment:SUB1:1:1"}, "next_action": None,
        "payment_method": "pm_1QZx8vLkdIwHu7ixCq2ZrX0d", "payment_method_types": ["card"],
        "status": "requires_payment_method"}
    return {**intent, **fields}


RECORDED_AUTHENTICATION_REQUIRED = (402, {"error": {
    "type": "card_error", "code": "authentication_required", "decline_code": "authentication_required",
    "charge": "ch_3QZy2bLkdIwHu7ix0Xq5wGmB",
    "doc_url": "https://stripe.com/docs/error-codes/authentication-required",
    "message": "Your card was declined. This transaction requires authentication.",
    "payment_intent": _recorded_intent(last_payment_error={
        "code": "authentication_required", "decline_code": "authentication_required", "type": "card_error",
        "message": "Your card was declined. This transaction requires authentication."}),
    "payment_method": {"id": "pm_1QZx8vLkdIwHu7ixCq2ZrX0d", "object": "payment_method", "type": "card",
                       "card": {"brand": "visa", "last4": "3184", "exp_month": 12, "exp_year": 2030}},
}})
RECORDED_INSUFFICIENT_FUNDS = (402, {"error": {
    "type": "card_error", "code": "card_declined", "decline_code": "insufficient_funds",
    "charge": "ch_3QZy3cLkdIwHu7ix1Lf2aXcD", "doc_url": "https://stripe.com/docs/error-codes/card-declined",
    "message": "Your card has insufficient funds.",
    "payment_intent": _recorded_intent(id="pi_3QZy3cLkdIwHu7ix1wYtW8pE", last_payment_error={
        "code": "card_declined", "decline_code": "insufficient_funds", "type": "card_error",
        "message": "Your card has insufficient funds."}),
}})
RECORDED_API_ERROR = (500, {"error": {"type": "api_error",
                                      "message": "An unknown error occurred while processing your request."}})


class RecordedStripe:
    """A focused fake Stripe: answers each request with the recorded answers whose method and path
    pattern match, each in turn (then the last again), and keeps what was asked (path, form fields,
    idempotency key)."""

    def __init__(self, answers: list[tuple[str, str, tuple[int, dict]]]) -> None:
        self.answers, self.asked, self.used = answers, [], set()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                path = urlsplit(self.path)
                fields = dict(parse_qsl(body or path.query, keep_blank_values=True))
                fake.asked.append({"method": self.command, "path": path.path, "fields": fields,
                                   "idempotency_key": self.headers.get("Idempotency-Key")})
                matching = [index for index, (method, pattern, _) in enumerate(fake.answers)
                            if method == self.command and re.fullmatch(pattern, path.path)]
                unused = [index for index in matching if index not in fake.used]
                chosen = unused[0] if unused else matching[-1]  # each in turn, then the last again
                fake.used.add(chosen)
                status, answer = fake.answers[chosen][2]
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_recorded")
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def asked_for(self, method: str, path: str) -> list[dict]:
        return [asked for asked in self.asked if asked["method"] == method and re.fullmatch(path, asked["path"])]


@pytest.fixture
def recorded_stripe(monkeypatch):
    """Point the payments adapter at a :class:`RecordedStripe` given its answers."""
    import stripe

    made = []

    def start(*answers):
        fake = RecordedStripe(list(answers))
        made.append(fake)
        client = stripe.StripeClient("sk_test_recorded", base_addresses={
            "api": f"http://127.0.0.1:{fake.server.server_address[1]}"}, max_network_retries=0)
        monkeypatch.setattr(payments, "_client", lambda: client)
        return fake

    yield start
    for fake in made:
        fake.server.shutdown()


def test_real_stripe_sepa_setup_sends_the_offline_mandate_and_reads_the_rum_from_the_mandate(recorded_stripe):
    """localstripe has no Mandate object and refuses ``mandate_data``: real Stripe's SetupIntent
    names a Mandate whose ``payment_method_details.sepa_debit.reference`` is the RUM."""
    fake = recorded_stripe(
        ("POST", r"/v1/setup_intents/seti_\w+/confirm", (200, RECORDED_SEPA_SETUP_INTENT)),
        ("GET", r"/v1/setup_intents/seti_\w+", (200, RECORDED_SEPA_SETUP_INTENT)),
        ("GET", r"/v1/mandates/mandate_\w+", (200, RECORDED_MANDATE)))

    setup = payments.confirm_sepa_setup(RECORDED_SEPA_SETUP_INTENT["id"], iban=GOOD_IBAN, holder_name="Claire Martin",
                                        email="claire.martin@exemple.fr", accepted_at=1736942400,
                                        idempotency_key="saved-means-confirm:t:m")

    assert setup.status == "succeeded" and setup.mandate_id == RECORDED_MANDATE["id"]
    assert setup.mandate_reference == "9GKDNQ5ZL4HBVPXW"
    method = setup.payment_method
    assert (method.kind, method.country, method.bank_code, method.last4, method.customer) == (
        "sepa_debit", "DE", "37040044", "3000", "cus_RSp1YhLh0nGq4T")
    [confirm] = fake.asked_for("POST", r"/v1/setup_intents/seti_\w+/confirm")  # sent once: Stripe took it
    assert confirm["fields"]["mandate_data[customer_acceptance][type]"] == "offline"
    assert confirm["fields"]["mandate_data[customer_acceptance][accepted_at]"] == "1736942400"
    assert confirm["fields"]["payment_method_data[sepa_debit][iban]"] == GOOD_IBAN
    assert confirm["fields"]["payment_method_data[billing_details][email]"] == "claire.martin@exemple.fr"
    assert confirm["idempotency_key"] == "saved-means-confirm:t:m"
    [read] = fake.asked_for("GET", r"/v1/setup_intents/seti_\w+")
    assert read["fields"] == {"expand[0]": "payment_method"}


def test_real_stripe_sepa_charge_names_its_mandate_and_answers_processing(recorded_stripe):
    fake = recorded_stripe(("POST", r"/v1/payment_intents", (200, _recorded_intent(
        status="processing", payment_method_types=["sepa_debit"], mandate=RECORDED_MANDATE["id"]))))

    outcome = payments.charge_off_session(
        customer_id="cus_RSp1YhLh0nGq4T", payment_method_id="pm_1QZx8vLkdIwHu7ixCq2ZrX0d", kind="sepa_debit",
        amount_cents=4500, currency="EUR", metadata={"charge_key": "instalment:SUB1:1:1"},
        idempotency_key="saved-means-charge:t:instalment:SUB1:1:1", mandate_id=RECORDED_MANDATE["id"])

    assert (outcome.status, outcome.amount, outcome.currency) == ("processing", 4500, "EUR")
    [asked] = fake.asked
    assert asked["fields"]["mandate"] == RECORDED_MANDATE["id"]
    assert (asked["fields"]["confirm"], asked["fields"]["off_session"]) == ("true", "true")
    assert asked["fields"]["payment_method_types[0]"] == "sepa_debit"
    assert asked["idempotency_key"] == "saved-means-charge:t:instalment:SUB1:1:1"  # localstripe ignores it


def test_real_stripe_402_authentication_required_becomes_requires_authentication(recorded_stripe):
    """localstripe never answers this 402: it leaves the PaymentIntent in requires_action (tested
    above). Real Stripe's card error carries the PaymentIntent, which the payer confirms on-session."""
    recorded_stripe(("POST", r"/v1/payment_intents", RECORDED_AUTHENTICATION_REQUIRED))

    outcome = payments.charge_off_session(
        customer_id="cus_RSp1YhLh0nGq4T", payment_method_id="pm_1QZx8vLkdIwHu7ixCq2ZrX0d", kind="card",
        amount_cents=4500, currency="EUR", metadata={}, idempotency_key="k")

    assert outcome.status == "requires_authentication" and outcome.reason == "authentication_required"
    assert outcome.payment_intent_id == "pi_3QZy2bLkdIwHu7ix0fJ4pN1c"
    assert outcome.client_secret.startswith("pi_3QZy2bLkdIwHu7ix0fJ4pN1c_secret_")
    # and the same PaymentIntent read later (a look-up, its webhook) says the same
    later = payments.outcome_of_intent(RECORDED_AUTHENTICATION_REQUIRED[1]["error"]["payment_intent"])
    assert later.status == "requires_authentication"


def test_real_stripe_declines_and_silences_become_failed_and_unknown(recorded_stripe):
    recorded_stripe(("POST", r"/v1/payment_intents", RECORDED_INSUFFICIENT_FUNDS))
    declined = payments.charge_off_session(
        customer_id="cus_RSp1YhLh0nGq4T", payment_method_id="pm_x", kind="card", amount_cents=4500, currency="EUR",
        metadata={}, idempotency_key="k")
    assert (declined.status, declined.reason, declined.payment_intent_id) == (
        "failed", "insufficient_funds", "pi_3QZy3cLkdIwHu7ix1wYtW8pE")

    recorded_stripe(("POST", r"/v1/payment_intents", RECORDED_API_ERROR))
    silent = payments.charge_off_session(
        customer_id="cus_RSp1YhLh0nGq4T", payment_method_id="pm_x", kind="card", amount_cents=4500, currency="EUR",
        metadata={}, idempotency_key="k")
    assert silent.status == "unknown" and silent.payment_intent_id is None


def test_real_stripe_lists_a_customers_payment_intents_by_customer_across_pages(recorded_stripe):
    """localstripe cannot filter PaymentIntents by customer (the adapter then lists them all and
    filters itself, tested above); real Stripe filters, pages, and lists newest first."""
    first = {"object": "list", "url": "/v1/payment_intents", "has_more": True, "data": [
        _recorded_intent(id="pi_new", status="succeeded", created=1736942600),
        _recorded_intent(id="pi_other", metadata={"charge_key": "instalment:SUB1:2:1"})]}
    second = {"object": "list", "url": "/v1/payment_intents", "has_more": False, "data": [
        _recorded_intent(id="pi_old", created=1736942400,
                         last_payment_error={"code": "card_declined", "decline_code": "expired_card"})]}
    fake = recorded_stripe(("GET", r"/v1/payment_intents", (200, first)),
                           ("GET", r"/v1/payment_intents", (200, second)))

    found = payments.charges_with("cus_RSp1YhLh0nGq4T", "charge_key", "instalment:SUB1:1:1")

    assert [(item.payment_intent_id, item.status, item.reason) for item in found] == [
        ("pi_new", "succeeded", None), ("pi_old", "failed", "expired_card")]
    assert [asked["fields"].get("customer") for asked in fake.asked] == ["cus_RSp1YhLh0nGq4T"] * 2
    assert "starting_after" not in fake.asked[0]["fields"]
    assert fake.asked[1]["fields"]["starting_after"] == "pi_other"


def test_a_sepa_setup_stripe_refuses_fails_with_its_reason_and_one_it_does_not_answer_stays_pending(
        recorded_stripe, actor):
    """Real Stripe refuses some IBANs our checks pass (an account that cannot be debited):
    localstripe refuses none. And a confirmation whose answer never came leaves the means pending."""
    contact = _payer(actor)
    new_setup = {**RECORDED_SEPA_SETUP_INTENT, "status": "requires_payment_method", "payment_method": None,
                 "mandate": None}
    refused = (400, {"error": {"type": "invalid_request_error", "code": "invalid_bank_account_iban",
                               "param": "payment_method_data[sepa_debit][iban]",
                               "message": "The provided IBAN cannot be debited."}})
    recorded_stripe(("POST", r"/v1/customers", (200, {"id": "cus_RSp1YhLh0nGq4T", "object": "customer"})),
                    ("POST", r"/v1/setup_intents", (200, new_setup)),
                    ("POST", r"/v1/setup_intents/seti_\w+/confirm", refused),
                    ("GET", r"/v1/setup_intents/seti_\w+", (200, new_setup)))

    failed = _sepa(actor, contact.id)

    assert failed.status == "failed" and "cannot be debited" in failed.failure_reason
    assert saved_means.usable_means(actor, contact.id) == []

    recorded_stripe(("POST", r"/v1/setup_intents", (200, new_setup)),
                    ("POST", r"/v1/setup_intents/seti_\w+/confirm", RECORDED_API_ERROR),
                    ("GET", r"/v1/setup_intents/seti_\w+", RECORDED_API_ERROR))
    silent = _sepa(actor, contact.id)
    assert silent.status == "pending"
