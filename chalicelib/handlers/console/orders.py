"""Order screens: the list (search by number or buyer, or filter by status, payment and kind),
one page at a time; an order's details with the actions its status allows; a ticket's cancel,
its summary shown before it is done; mark as paid. The status decides the buttons through the
same action matrix as the API (``services.orders.status``), and the service refuses the rest."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.console.frame import PAGE_SIZE, Screen, console_route, paging_link

bp = Blueprint(__name__)
FILTERS = ("status", "payment_type", "kind")


@console_route(bp, "/console/orders")
def orders_list(screen: Screen):
    from chalicelib.handlers.http import parse_query
    from chalicelib.services.orders import listing

    asked = {name: value for name in ("q", "cursor", *FILTERS) if (value := screen.query(name))}
    query = parse_query({**asked, "limit": str(PAGE_SIZE)}, "orders:OrderQuery")
    if query.q:
        page = listing.search_orders(screen.actor, query.q, limit=query.limit, cursor=query.cursor)
    else:
        page = listing.find_orders(screen.actor, listing.OrderFilters(
            status=query.status, payment_type=query.payment_type, kind=query.kind), limit=query.limit,
            cursor=query.cursor)
    return screen.page("orders.html.j2", orders=page.items, asked=asked, next_link=paging_link(screen, page.next_cursor))


@console_route(bp, "/console/orders/{order_id}")
def order_view(screen: Screen, order_id: str):
    from chalicelib.services.orders import orders
    from chalicelib.services.orders.details import order_details

    return screen.page("order.html.j2", order=order_details(orders.get_order(screen.actor, order_id)),
                       done=screen.query("done"))


def _ticket(screen: Screen, order_id: str, position: str):
    from chalicelib.errors import NotFound
    from chalicelib.services.orders import orders
    from chalicelib.services.orders.details import order_details

    order = order_details(orders.get_order(screen.actor, order_id))
    ticket = next((t for t in order["tickets"] if str(t["position"]) == position), None)
    if ticket is None:
        raise NotFound("No such ticket in this order.")
    return order, ticket


@console_route(bp, "/console/orders/{order_id}/tickets/{position}/cancel", methods=("GET", "POST"))
def cancel_ticket(screen: Screen, order_id: str, position: str):
    from chalicelib.services.orders import cancellations
    from chalicelib.services.orders.status import ActionNotAllowed

    order, ticket = _ticket(screen, order_id, position)
    if "cancel" not in ticket["actions"]:  # the action matrix, as the order's details computed it
        raise ActionNotAllowed("This ticket can no longer be cancelled.")
    if screen.request.method == "GET":
        return screen.page("cancel_ticket.html.j2", order=order, ticket=ticket)
    cancellations.cancel_tickets(screen.actor, order_id, [ticket["position"]])
    return screen.redirect(f"/console/orders/{order_id}?done=cancelled")


@console_route(bp, "/console/orders/{order_id}/mark-paid", methods=("POST",))
def mark_paid(screen: Screen, order_id: str):
    from chalicelib.services.orders import orders

    orders.mark_paid(screen.actor, order_id)
    return screen.redirect(f"/console/orders/{order_id}?done=paid")
