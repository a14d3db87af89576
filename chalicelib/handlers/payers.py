"""A payer's saved means of payment (staff): list them, save a SEPA mandate signed at the box
office or start saving a card in the payer's browser, and revoke one. The subscriptions'
collector charges them off-session through the service (``services/money/saved_means.py``)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.http import schema, staff_route

bp = Blueprint(__name__)
TAG = "contacts"


@staff_route(bp, "/contacts/{contact_id}/payment-means", response="payers:PaymentMeansOut", many=True,
             summary="A payer's saved means of payment (SEPA mandates, cards), in any status, newest first; never "
                     "a full IBAN or card number", tag=TAG)
def list_payment_means(actor, contact_id):
    from chalicelib.services.money import saved_means

    return saved_means.list_means(actor, contact_id)


@staff_route(bp, "/contacts/{contact_id}/payment-means/sepa", method="POST", body="payers:SepaMeansIn",
             response="payers:PaymentMeansOut", status=201,
             summary="Save a SEPA direct debit mandate the payer signed on paper (box office): the IBAN is checked, "
                     "then set up at Stripe; answers the means, active with its mandate reference (RUM) when Stripe "
                     "accepted it, failed with the reason when not", tag=TAG)
def save_sepa_means(actor, contact_id, body):
    from chalicelib.services.money import saved_means

    return saved_means.start_sepa_setup(actor, contact_id, iban=body.iban, account_holder=body.account_holder,
                                        signed_on=body.signed_on, email=body.email)


@staff_route(bp, "/contacts/{contact_id}/payment-means/card", method="POST", response="payers:CardSetupOut",
             status=201, summary="Start saving a card: a pending means and the client secret the payer's browser "
                                 "confirms it with (Stripe.js confirmCardSetup); Stripe's webhook makes it active",
             tag=TAG)
def save_card_means(actor, contact_id):
    from chalicelib.services.money import saved_means

    setup = saved_means.start_card_setup(actor, contact_id)
    means = schema("payers:PaymentMeansOut").model_validate(setup.means).model_dump()
    return {**means, "client_secret": setup.client_secret}


@staff_route(bp, "/contacts/{contact_id}/payment-means/{means_id}/revoke", method="POST",
             body="payers:RevokeMeansIn", response="payers:PaymentMeansOut",
             summary="Remove a saved means: revoked for good, and detached at Stripe so it can never be charged "
                     "(asking again is harmless, and retries Stripe if it did not answer)", tag=TAG)
def revoke_payment_means(actor, contact_id, means_id, body):
    from chalicelib.services.money import saved_means

    return saved_means.revoke_means(actor, contact_id, means_id, reason=body.reason)
