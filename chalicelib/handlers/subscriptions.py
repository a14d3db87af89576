"""Subscription routes (staff): a product's subscription terms, selling subscriptions, and
following them (a product's, a payer's, one with its instalments); the instalment collector's
hourly schedule and its run by hand."""
from __future__ import annotations

from chalice import Blueprint, Rate

from chalicelib.handlers.http import staff_route
from chalicelib.observability import logger, start_event_invocation

bp = Blueprint(__name__)
TAG = "subscriptions"


@staff_route(bp, "/products/{product_id}/subscription-terms", method="PUT", body="subscriptions:TermsIn",
             response="subscriptions:TermsOut",
             summary="Set what a subscription or package offers: its performances and the quota each sells from, "
                     "the number the holder chooses, delivery modes, payment plans (replaced whole, audited)",
             tag=TAG)
def set_terms(actor, product_id, body):
    from chalicelib.services.subscriptions import terms

    return terms.set_terms(actor, product_id, body.model_dump())


@staff_route(bp, "/products/{product_id}/subscription-terms", response="subscriptions:TermsOut",
             summary="What a subscription or package offers", tag=TAG)
def get_terms(actor, product_id):
    from chalicelib.services.subscriptions import terms

    return terms.get_terms(actor, product_id)


@staff_route(bp, "/subscriptions", method="POST", body="subscriptions:SubscriptionSaleIn",
             response="subscriptions:SaleOut", status=201,
             summary="Sell subscriptions: one payer, one or several holders, every ticket in one order (places and "
                     "seats taken together); instalments by saved means are scheduled for the collector", tag=TAG)
def sell_subscriptions(actor, body):
    from chalicelib.services.subscriptions import selling

    sale = selling.sell(actor, body.model_dump())
    return {"order_id": sale.order.id, "order_number": sale.order.number, "total_cents": sale.order.total_cents,
            "subscriptions": sale.subscriptions}


@staff_route(bp, "/subscriptions", query="subscriptions:SubscriptionQuery", response="subscriptions:SubscriptionOut",
             many=True, summary="A product's, a season's or a payer's subscriptions, newest first, optionally in one "
                                "state",
             tag=TAG)
def list_subscriptions(actor, query):
    from chalicelib.services.subscriptions import subscriptions

    return subscriptions.list_subscriptions(actor, product_id=query.product_id, payer_id=query.payer_id,
                                            season_id=query.season_id, state=query.state, limit=query.limit,
                                            cursor=query.cursor)


@staff_route(bp, "/subscriptions/instalments", query="subscriptions:InstalmentsQuery",
             response="subscriptions:DueInstalmentOut", many=True,
             summary="The instalments the collector owes on a day (due, announced, or retried then), optionally in "
                     "one state (failed ones awaiting their retry, those awaiting the payer...), a page at a time",
             tag=TAG)
def instalments_of_day(actor, query):
    from chalicelib.services.shared.paging import Page
    from chalicelib.services.subscriptions import subscriptions

    found = subscriptions.instalments_of_day(actor, query.day, state=query.state, limit=query.limit,
                                             cursor=query.cursor)
    return Page(items=[{"subscription_id": item.subscription.id, "number": item.number, "due_at": item.due_at,
                        "amount_cents": item.instalment["amount_cents"], "state": item.instalment["state"],
                        "attempts": item.instalment.get("attempts", 0), "failure": item.instalment.get("failure"),
                        "payer_contact_id": item.subscription.payer_contact_id,
                        "holder_contact_id": item.subscription.holder_contact_id, "means": item.subscription.means}
                       for item in found.items], next_cursor=found.next_cursor)


@staff_route(bp, "/subscriptions/{subscription_id}", response="subscriptions:SubscriptionOut",
             summary="One subscription: holder, payer, order, performances, delivery, means and instalments", tag=TAG)
def get_subscription(actor, subscription_id):
    from chalicelib.services.subscriptions import subscriptions

    return subscriptions.get_subscription(actor, subscription_id)


@staff_route(bp, "/subscriptions/renewals", method="POST", role="admin", body="subscriptions:RenewalRunIn",
             response="jobs:JobOut", status=202,
             summary="Renew last season's subscriptions of a product into the new season's (a job; dry_run first "
                     "reports what it would do and the revenue by instalment date, writing nothing); each "
                     "subscription is renewed at most once, whatever re-runs", tag=TAG)
def start_renewal(actor, body):
    from chalicelib.services.subscriptions import renewal

    return renewal.start_run(actor, body.model_dump())


@staff_route(bp, "/subscriptions/{subscription_id}/sabbatical", method="POST", body="subscriptions:SabbaticalIn",
             response="subscriptions:SubscriptionOut", status=201,
             summary="Skip the new season without a sale: the holder's seats are kept out of sale at its "
                     "performances, and the next season's renewal run renews them (answers the placeholder "
                     "subscription)", tag=TAG)
def take_sabbatical(actor, subscription_id, body):
    from chalicelib.services.subscriptions import sabbatical

    return sabbatical.take_sabbatical(actor, subscription_id, body.target_product_id)


@staff_route(bp, "/subscriptions/instalments/run", method="POST", role="admin", response="subscriptions:CollectRunOut",
             summary="Run the instalment collector for this venue now: start the job charging what is due, as the "
                     "hourly schedule would", tag=TAG)
def run_collector(actor):
    from chalicelib.services.subscriptions import collector

    report = collector.sweep(tenant_id=actor.tenant_id)
    return {"due": report.due.get(actor.tenant_id, 0), "jobs": report.started}


@bp.schedule(Rate(60, unit=Rate.MINUTES), name="instalment_collector")
def instalment_collector(event):
    """Every hour: start the jobs charging the instalments now due (SEPA debits, saved cards)."""
    start_event_invocation(event)
    from chalicelib.services.subscriptions import collector

    report = collector.sweep()
    logger.info("instalment collector", extra={"days": len(report.days), "due": report.due,
                                               "started": report.started})


@bp.schedule(Rate(60, unit=Rate.MINUTES), name="renewal_notices")
def renewal_notices(event):
    """Every hour: start the day's jobs telling payers of their tacit renewal (L215-1) where the window is open."""
    start_event_invocation(event)
    from chalicelib.services.subscriptions import renewal_notice

    report = renewal_notice.sweep()
    logger.info("renewal notices", extra={"days": len(report.days), "started": report.started,
                                          "closed": report.closed})
