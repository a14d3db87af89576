"""Customer screens: one search box finding a customer by anything in their record (the API's
search: names, e-mail, phone in any writing, postcode, city, customer or order number), and the
customer record's sections as the API's record route shapes them (details, bookings, credit,
donations, mailing lists, segments, changes)."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.console.frame import PAGE_SIZE, Screen, console_route, paging_link

bp = Blueprint(__name__)


@console_route(bp, "/console/customers")
def customers_search(screen: Screen):
    from chalicelib.handlers.http import parse_query
    from chalicelib.services.contacts import search

    asked = screen.query("q")
    if not asked:
        return screen.page("customers.html.j2", q=None, customers=[], next_link=None)
    query = parse_query({"q": asked, "limit": str(PAGE_SIZE)}, "contacts:ContactSearch")
    page = search.search_contacts(screen.actor, query.q, limit=query.limit, cursor=screen.query("cursor"))
    return screen.page("customers.html.j2", q=query.q, customers=page.items,
                       next_link=paging_link(screen, page.next_cursor))


@console_route(bp, "/console/customers/{contact_id}")
def customer_record(screen: Screen, contact_id: str):
    from chalicelib.handlers import customers
    from chalicelib.handlers.http import schema

    record = schema("customers:RecordOut").model_validate(customers.customer_record(screen.actor, contact_id))
    return screen.page("customer.html.j2", record=record)
