"""Money going back (staff): refund summaries and refunds of an order's tickets, following up
refunds (retry, paid, cancelled), tickets turned into credit or a donation, and a customer's
credit and donations."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.http import staff_route

bp = Blueprint(__name__)
TAG = "refunds"


def _bank(body):
    from chalicelib.services.money.refunds import BankAccount

    return BankAccount(body.bank_account.iban, body.bank_account.holder) if body.bank_account else None


@staff_route(bp, "/orders/{order_id}/refunds/quote", method="POST", body="money:RefundQuoteIn",
             response="money:RefundQuoteOut",
             summary="The summary before refunding tickets: per ticket what was paid, kept (fee policy) and "
                     "given back; total; means. Nothing is written", tag=TAG)
def refund_quote(actor, order_id, body):
    from chalicelib.services.money import refunds

    return refunds.summary(actor, order_id, body.positions, amounts=body.amounts_by_position())


@staff_route(bp, "/orders/{order_id}/refunds", method="POST", body="money:RefundIn", response="money:RefundOut",
             status=201,
             summary="Refund tickets, exactly once: by card through Stripe, or offline (the venue pays, to the IBAN "
                     "given). The tickets are cancelled too; 409 if already refunded or above what was paid", tag=TAG)
def request_refund(actor, order_id, body):
    from chalicelib.services.money import refunds

    return refunds.request_refund(actor, order_id, body.positions, amounts=body.amounts_by_position(),
                                  bank=_bank(body))


@staff_route(bp, "/orders/{order_id}/refunds", response="money:RefundOut", many=True,
             summary="An order's refunds, with their states and history", tag=TAG)
def order_refunds(actor, order_id):
    from chalicelib.services.money import refunds
    from chalicelib.services.shared.paging import Page

    return Page(items=refunds.refunds_of_order(actor, order_id), next_cursor=None)


@staff_route(bp, "/orders/{order_id}/refunds/{refund_id}", response="money:RefundDetailOut",
             summary="One refund, with the full IBAN of an offline refund", tag=TAG)
def get_refund(actor, order_id, refund_id):
    from chalicelib.services.money import refunds

    return refunds.get_refund(actor, order_id, refund_id)


@staff_route(bp, "/orders/{order_id}/refunds/{refund_id}/retry", method="POST", response="money:RefundOut",
             summary="Try a failed card refund again (or finish one left requested); never refunds twice", tag=TAG)
def retry_refund(actor, order_id, refund_id):
    from chalicelib.services.money import refunds

    return refunds.retry(actor, order_id, refund_id)


@staff_route(bp, "/orders/{order_id}/refunds/{refund_id}/paid", method="POST", body="money:RefundPaidIn",
             response="money:RefundOut", summary="The venue paid this offline refund", tag=TAG)
def refund_paid(actor, order_id, refund_id, body):
    from chalicelib.services.money import refunds

    return refunds.mark_paid(actor, order_id, refund_id, reference=body.reference)


@staff_route(bp, "/orders/{order_id}/refunds/{refund_id}/cancel", method="POST", body="money:RefundCancelIn",
             response="money:RefundOut",
             summary="This offline refund will not be paid: undone, the tickets stay cancelled and refundable",
             tag=TAG)
def refund_cancel(actor, order_id, refund_id, body):
    from chalicelib.services.money import refunds

    return refunds.cancel_offline(actor, order_id, refund_id, reason=body.reason)


@staff_route(bp, "/refunds", query="money:RefundStateQuery", response="money:RefundOut", many=True,
             summary="Refunds across orders, newest first: all, or those in one state (failed ones to look at, "
                     "offline ones to pay)", tag=TAG)
def list_refunds(actor, query):
    from chalicelib.services.money import refunds

    return refunds.list_refunds(actor, state=query.state, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/orders/{order_id}/credit", method="POST", body="money:SettleTicketsIn",
             response="money:CreditEntryOut", status=201,
             summary="Turn tickets into credit (avoir) on the buyer's customer account instead of a refund", tag=TAG)
def credit_tickets(actor, order_id, body):
    from chalicelib.services.money import customer_money

    return customer_money.credit_tickets(actor, order_id, body.positions, origin_type="staff")


@staff_route(bp, "/orders/{order_id}/donation", method="POST", body="money:SettleTicketsIn",
             response="money:DonationOut", status=201,
             summary="Record tickets' money as given up to the organiser instead of a refund", tag=TAG)
def donate_tickets(actor, order_id, body):
    from chalicelib.services.money import customer_money

    return customer_money.donate_tickets(actor, order_id, body.positions, origin_type="staff")


@staff_route(bp, "/contacts/{contact_id}/credit", response="money:CreditAccountOut",
             summary="A customer's credit: balance, issued and used", tag=TAG)
def credit_account(actor, contact_id):
    from chalicelib.services.money import customer_money

    return customer_money.credit_account(actor, contact_id)


@staff_route(bp, "/contacts/{contact_id}/credit/entries", query="common:PageQuery", response="money:CreditEntryOut",
             many=True, summary="A customer's credit history, newest first (each entry with its origin)", tag=TAG)
def credit_entries(actor, contact_id, query):
    from chalicelib.services.money import customer_money

    return customer_money.credit_history(actor, contact_id, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/contacts/{contact_id}/credit/use", method="POST", body="money:UseCreditIn",
             response="money:CreditEntryOut", status=201,
             summary="Use some of a customer's credit (once per origin; never below zero)", tag=TAG)
def use_credit(actor, contact_id, body):
    from chalicelib.services.money import customer_money

    return customer_money.use_credit(actor, contact_id, body.amount_cents, origin_type=body.origin_type,
                                     origin_id=body.origin_id, note=body.note)


@staff_route(bp, "/contacts/{contact_id}/donations", query="common:PageQuery", response="money:DonationOut",
             many=True, summary="A customer's donations, newest first", tag=TAG)
def donations(actor, contact_id, query):
    from chalicelib.services.money import customer_money

    return customer_money.donation_history(actor, contact_id, limit=query.limit, cursor=query.cursor)
