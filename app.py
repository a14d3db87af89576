"""The Chalice application: one Lambda for the staff API and the spectators' pages, plus
event handlers. Kept thin: it creates the app, registers one Blueprint per area, names the
modules that define job kinds, and wires request-scoped logging. Everything else lives in
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
    refund_page,
    refunds,
    seat_changes,
    shop,
    spectator,
    subscriptions,
)
from chalicelib.observability import logger
from chalicelib.services.jobs.framework import register_kind_modules

app = Chalice(app_name="ticketing")
app.log.setLevel("INFO")

for area in (catalog, contacts, customers, organisation, orders, options, refunds, metrics, campaigns, documents, shop, spectator,
             refund_page, mail, jobs, audit, payers, openapi, subscriptions, instalment_page, geo_limits):
    app.register_blueprint(area.bp)
app.register_blueprint(seat_changes.bp)  # seat changes: one performance's ticket, a subscription's future ones
app.register_blueprint(cards.bp)  # season cards: sites, printers, print jobs, cards, and the agents' results queue

# The job kinds, by the modules that define them: imported when a job starts or a chunk runs.
register_kind_modules("chalicelib.services.orders.bulk", "chalicelib.services.orders.export",
                      "chalicelib.services.money.refunds", "chalicelib.services.campaigns.campaigns",
                      "chalicelib.services.campaigns.affected_customers", "chalicelib.services.options.bulk",
                      "chalicelib.services.contacts.reindex", "chalicelib.services.orders.relisting",
                      "chalicelib.services.customers.merge", "chalicelib.services.customers.privacy",
                      "chalicelib.services.customers.segments", "chalicelib.services.subscriptions.collector",
                      "chalicelib.services.subscriptions.renewal", "chalicelib.services.subscriptions.renewal_notice",
                      "chalicelib.services.cards.mass_print")


@app.middleware("http")
def request_logging(event, get_response):
    """Every log line of a request carries its request id; the tenant is added once known."""
    logger.clear_state()
    logger.append_keys(request_id=event.context.get("requestId"), path=event.context.get("resourcePath"))
    return get_response(event)
