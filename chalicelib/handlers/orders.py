"""Order routes (staff): place a box-office order, list/search/filter, details, edit buyer, mark paid;
the team notification rules for new orders; bulk jobs over orders (resend confirmations, export
as CSV: its file is downloaded through the jobs routes)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.http import staff_route

bp = Blueprint(__name__)
TAG = "orders"


@staff_route(bp, "/orders", method="POST", body="orders:OrderIn", response="orders:OrderOut", status=201,
             summary="Place a box-office order, option or reservation (places taken atomically)", tag=TAG)
def place_order(actor, body):
    from chalicelib.services.orders import orders
    from chalicelib.services.orders.details import order_details

    draft = body.model_dump()
    if draft["payment_type"] == "card" and draft["kind"] == "sale":
        from chalicelib.services.orders import checkout

        made = checkout.start_checkout(actor, draft)
        return {**order_details(made.order, made.tickets),
                "client_secret": made.intent.client_secret if made.intent else None}
    order, tickets = orders.place_order(actor, draft)
    return order_details(order, tickets)


@staff_route(bp, "/orders", query="orders:OrderQuery", response="orders:OrderRowOut", many=True,
             summary="List orders newest first: filter by status, ticket type, ticket name, promo code, "
                     "payment type, performance, dates; or search by number or buyer name", tag=TAG)
def list_orders(actor, query):
    from chalicelib.services.orders import listing as order_listing

    if query.q:
        return order_listing.search_orders(actor, query.q, limit=query.limit, cursor=query.cursor)
    filters = order_listing.OrderFilters(
        status=query.status, payment_type=query.payment_type, promo_code=query.promo_code, kind=query.kind,
        performance_id=query.performance_id, tariff_id=query.tariff_id, product_id=query.product_id,
        placed_from=query.from_, placed_to=query.to)
    return order_listing.find_orders(actor, filters, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/orders/{order_id}", response="orders:OrderOut", summary="Order details", tag=TAG)
def get_order(actor, order_id):
    from chalicelib.services.orders import orders
    from chalicelib.services.orders.details import order_details

    return order_details(orders.get_order(actor, order_id))


@staff_route(bp, "/orders/{order_id}/buyer", method="PATCH", body="orders:BuyerPatch", response="orders:OrderOut",
             summary="Edit the buyer: name, email, billing address (audited)", tag=TAG)
def edit_buyer(actor, order_id, body):
    from chalicelib.services.orders import orders
    from chalicelib.services.orders.details import order_details

    return order_details(orders.edit_buyer(actor, order_id, body.model_dump(exclude_unset=True)))


@staff_route(bp, "/orders/{order_id}/card-payment", method="POST", response="orders:OrderOut",
             summary="Confirm an option or a reservation by card: its PaymentIntent (client_secret for the card "
                     "reader or the buyer's browser); Stripe's webhook completes the order", tag=TAG)
def card_payment(actor, order_id):
    from chalicelib.services.orders import checkout
    from chalicelib.services.orders.details import order_details

    made = checkout.card_payment_for_hold(actor, order_id)
    return {**order_details(made.order, made.tickets), "client_secret": made.intent.client_secret}


@staff_route(bp, "/orders/{order_id}/mark-paid", method="POST", response="orders:OrderOut",
             summary="Mark a cheque, invoice or cash order as paid (409 unless unpaid; 409 paid-by-card-only for "
                     "a card order, which only Stripe completes)", tag=TAG)
def mark_paid(actor, order_id):
    from chalicelib.services.orders import orders
    from chalicelib.services.orders.details import order_details

    return order_details(orders.mark_paid(actor, order_id))


@staff_route(bp, "/team-notifications", method="POST", role="admin", body="team:TeamRuleIn",
             response="team:TeamRuleOut", status=201,
             summary="Mail staff addresses on new orders of chosen ticket types", tag=TAG)
def create_team_rule(actor, body):
    from chalicelib.services.catalog import team

    return team.create_rule(actor, body.model_dump())


@staff_route(bp, "/team-notifications", query="common:PageQuery", response="team:TeamRuleOut", many=True,
             summary="Team notification rules", tag=TAG)
def list_team_rules(actor, query):
    from chalicelib.services.catalog import team

    return team.list_rules(actor, limit=query.limit, cursor=query.cursor)


@staff_route(bp, "/team-notifications/{rule_id}", response="team:TeamRuleOut",
             summary="A team notification rule", tag=TAG)
def get_team_rule(actor, rule_id):
    from chalicelib.services.catalog import team

    return team.get_rule(actor, rule_id)


@staff_route(bp, "/team-notifications/{rule_id}", method="PATCH", role="admin", body="team:TeamRulePatch",
             response="team:TeamRuleOut", summary="Change a team notification rule", tag=TAG)
def update_team_rule(actor, rule_id, body):
    from chalicelib.services.catalog import team

    return team.update_rule(actor, rule_id, body.model_dump(exclude_unset=True))


@staff_route(bp, "/orders/resend-confirmations", method="POST", body="orders:ResendConfirmationsIn",
             response="jobs:JobOut", status=202,
             summary="Resend confirmations to selected orders or to all matching the filters (background job; "
                     "complete orders only)", tag=TAG)
def resend_confirmations(actor, body):
    from chalicelib.services.orders import bulk as order_bulk

    filters = body.filters.model_dump() if body.filters is not None else None
    return order_bulk.start_resend_confirmations(actor, order_ids=body.order_ids, filters=filters)


@staff_route(bp, "/orders/export", method="POST", body="orders:ExportOrdersIn", response="jobs:JobOut", status=202,
             summary="Export selected orders, or all matching the filters (no limit), as CSV for Excel in French "
                     "(background job; download with GET /jobs/{job_id}/download)", tag=TAG)
def export_orders(actor, body):
    from chalicelib.services.orders import export as order_export

    filters = body.filters.model_dump() if body.filters is not None else None
    return order_export.start_export(actor, order_ids=body.order_ids, filters=filters)


@staff_route(bp, "/orders/{order_id}/cancel", method="POST", body="orders:CancelTicketsIn",
             response="orders:OrderOut",
             summary="Cancel tickets of an order: final; places and seats go back on sale, check-in stops, "
                     "the buyer is told (409 if a ticket is no longer valid or the status forbids it)", tag=TAG)
def cancel_tickets(actor, order_id, body):
    from chalicelib.services.orders import cancellations
    from chalicelib.services.orders.details import order_details

    order, tickets = cancellations.cancel_tickets(actor, order_id, body.positions)
    return order_details(order, tickets)


@staff_route(bp, "/orders/list-by-contact", method="POST", role="admin", response="jobs:JobOut", status=202,
             summary="List the venue's older orders under their buyer's customer record (a job, for orders placed "
                     "before the booking history existed; safe to run again)", tag=TAG)
def list_orders_by_contact(actor):
    from chalicelib.services.orders import relisting

    return relisting.start_relisting(actor)
