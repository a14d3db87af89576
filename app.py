"""The Chalice application: one Lambda for the staff API and the spectators' pages, plus
event handlers. Kept thin: it creates the app, registers one Blueprint per area and wires
request-scoped logging. (The job kinds are named in ``chalicelib/services/jobs/wiring.py``, and
each event handler starts its own invocation's log keys: in AWS an event handler's Lambda
imports its Blueprint's module, not this file.) Everything else lives in
``chalicelib``.
"""
from chalice import Chalice

from chalicelib.handlers import (
    audit,
    campaigns,
    cards,
    catalog,
    contacts,
    customers,
    documents,
    geo_limits,
    instalment_page,
    jobs,
    mail,
    metrics,
    openapi,
    options,
    orders,
    organisation,
    payers,
    printer_watch,
    refund_page,
    refunds,
    seat_changes,
    shop,
    spectator,
    subscriptions,
)
from chalicelib.handlers.console import admin as console_admin
from chalicelib.handlers.console import assets as console_assets
from chalicelib.handlers.console import campaigns as console_campaigns
from chalicelib.handlers.console import cards as console_cards
from chalicelib.handlers.console import customers as console_customers
from chalicelib.handlers.console import jobs as console_jobs
from chalicelib.handlers.console import options as console_options
from chalicelib.handlers.console import orders as console_orders
from chalicelib.handlers.console import refunds as console_refunds
from chalicelib.handlers.console import segments as console_segments
from chalicelib.handlers.console import shop as console_shop
from chalicelib.handlers.console import sign_in as console_sign_in
from chalicelib.handlers.console import subscriptions as console_subscriptions
from chalicelib.observability import start_invocation

# Chalice's logger and Powertools' are one ("ticketing"): Powertools' JSON handler, added when the
# logger is first used, is its only handler (Chalice would add a plain-text one of its own).
app = Chalice(app_name="ticketing", configure_logs=False)
app.log.setLevel("INFO")

for area in (catalog, contacts, customers, organisation, orders, options, refunds, metrics, campaigns, documents, shop, spectator,
             refund_page, mail, jobs, audit, payers, openapi, subscriptions, instalment_page, geo_limits):
    app.register_blueprint(area.bp)
app.register_blueprint(seat_changes.bp)  # seat changes: one performance's ticket, a subscription's future ones
for screens in (console_sign_in, console_assets, console_jobs, console_campaigns, console_orders, console_refunds,
                console_options, console_subscriptions, console_shop, console_cards, console_customers, console_segments,
                console_admin):
    app.register_blueprint(screens.bp)  # the staff console (docs/console.md)
app.register_blueprint(cards.bp)  # season cards: sites, printers, print jobs, cards, and the agents' results queue
app.register_blueprint(printer_watch.bp)  # the printers' silence watch (a schedule of its own, for its own role)


@app.middleware("http")
def request_logging(event, get_response):
    """Every log line of a request carries API Gateway's request id and the route; the tenant is
    added once the token is verified."""
    start_invocation(event.context.get("requestId"), path=event.context.get("resourcePath"))
    return get_response(event)
