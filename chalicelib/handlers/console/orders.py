"""Order screens: the list (search by number or buyer, or filter by status, payment, kind, show
and performance), one page at a time, with its bulk actions (export as CSV, resend
confirmations: jobs, for the ticked orders or every order matching the filters); an order's
details with the actions its status allows, its refunds, documents and mails; a ticket's
cancel and a refund of ticked tickets, each summary shown before it is done; mark as paid; a
document printed, a mail resent. The status decides the buttons through the same action matrix
as the API (``services.orders.status``), and the service refuses the rest."""
from __future__ import annotations

from urllib.parse import urlencode

from chalice import Blueprint

from chalicelib.handlers.console import seat_forms
from chalicelib.handlers.console.frame import PAGE_SIZE, Screen, console_route, form_body, paging_link

bp = Blueprint(__name__)
MAILS_SHOWN = 20  # an order's mails, newest first: a handful in its life
FILTERS = ("status", "payment_type", "kind", "promo_code", "tariff_id", "placed_from", "placed_to")
PLAIN_FILTERS = ("status", "payment_type", "kind", "promo_code", "tariff_id", "product_id", "performance_id")
METHODS = ("refund", "credit", "donation")
PICKED = ("product_id", "performance_id")  # chosen on the shows' page, carried by the list's links


@console_route(bp, "/console/orders")
def orders_list(screen: Screen):
    from chalicelib.handlers import orders as api
    from chalicelib.handlers.http import parse_query

    asked = {name: value for name in ("q", "cursor", *FILTERS, *PICKED) if (value := screen.query(name))}
    filters = _api_filters(screen, asked)
    query = parse_query({**filters, **{name: asked[name] for name in ("q", "cursor") if name in asked},
                         "limit": str(PAGE_SIZE)}, "orders:OrderQuery")
    page = api.list_orders(screen.actor, query)
    kept = {name: asked[name] for name in FILTERS if name in asked and name != "tariff_id"}  # a show's own
    return screen.page("orders.html.j2", orders=page.items, asked=asked, picked=_picked(screen, query),
                       tariffs=_tariffs_of(screen, query.product_id),
                       unpick_link="/console/orders" + (f"?{urlencode(kept)}" if kept else ""),
                       next_link=paging_link(screen, page.next_cursor))


def _api_filters(screen: Screen, asked: dict, *, dates: tuple[str, str] = ("from", "to")) -> dict:
    """The list's filters under the API's names; the days typed on the venue's clock become the
    moments they start (placed from) and end (placed to)."""
    given = {name: asked[name] for name in PLAIN_FILTERS if asked.get(name)}
    for name, api_name, end in (("placed_from", dates[0], False), ("placed_to", dates[1], True)):
        if asked.get(name):
            given[api_name] = _day_edge(screen, asked[name], end=end)
    return given


def _day_edge(screen: Screen, typed: str, *, end: bool) -> str:
    """The first (or last) moment of the day ``typed`` (YYYY-MM-DD) on the venue's clock; anything
    else as typed, for the API's schema to refuse on its field."""
    from datetime import date, datetime, time
    from zoneinfo import ZoneInfo

    try:
        day = date.fromisoformat(typed)
    except ValueError:
        return typed
    return datetime.combine(day, time.max if end else time.min, tzinfo=ZoneInfo(screen.zone)).isoformat()


def _tariffs_of(screen: Screen, product_id: str | None) -> list:
    """The picked show's ticket types, to filter by one (a show has a few)."""
    from chalicelib.services.catalog import catalog

    if not product_id:
        return []
    return catalog.tariffs.list(screen.actor, limit=100, cursor=None, product_id=product_id).items


def _picked(screen: Screen, query) -> dict | None:
    """The show or performance the list is narrowed to, named for staff (the listing has checked it)."""
    from chalicelib.services.catalog import catalog

    if query.performance_id:
        performance = catalog.get_performance(screen.actor, query.performance_id)
        return {"show": catalog.products.get(screen.actor, performance.product_id), "performance": performance}
    if query.product_id:
        return {"show": catalog.products.get(screen.actor, query.product_id), "performance": None}
    return None


@console_route(bp, "/console/orders/shows")
def shows(screen: Screen):
    """The shows to narrow the list to (the catalog's list, a page at a time)."""
    from chalicelib.services.catalog import catalog

    page = catalog.products.list(screen.actor, limit=PAGE_SIZE, cursor=screen.query("cursor"))
    return screen.page("order_shows.html.j2", shows=page.items, show=None, performances=[],
                       next_link=paging_link(screen, page.next_cursor))


@console_route(bp, "/console/orders/shows/{product_id}")
def show_performances(screen: Screen, product_id: str):
    """One show's performances in date order, each narrowing the list to its orders."""
    from chalicelib.services.catalog import catalog

    show = catalog.products.get(screen.actor, product_id)
    page = catalog.list_performances(screen.actor, product_id=product_id, limit=PAGE_SIZE,
                                     cursor=screen.query("cursor"))
    return screen.page("order_shows.html.j2", shows=[], show=show, performances=page.items,
                       next_link=paging_link(screen, page.next_cursor))


@console_route(bp, "/console/orders/{order_id}")
def order_view(screen: Screen, order_id: str):
    from chalicelib.services.documents import credit_notes
    from chalicelib.services.mail import notifications
    from chalicelib.services.money import refunds
    from chalicelib.services.orders import orders
    from chalicelib.services.orders.details import order_details

    stored = orders.get_order(screen.actor, order_id)
    order = order_details(stored)
    return screen.page("order.html.j2", order=order, done=screen.query("done"),
                       settled={"credit": int(stored.credited_cents or 0), "donation": int(stored.donated_cents or 0)},
                       refunds=refunds.refunds_of_order(screen.actor, order_id),
                       credit_notes=[(note, credit_notes.credit_note_reference(note.number))
                                     for note in credit_notes.credit_notes_of_order(screen.actor, order_id)],
                       mails=notifications.of_entity(screen.actor, "order", order["id"], limit=MAILS_SHOWN,
                                                     cursor=None).items)


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


@console_route(bp, "/console/orders/{order_id}/tickets/{position}/seat", methods=("GET", "POST"))
def change_seat(screen: Screen, order_id: str, position: str):
    """One performance's ticket moved to another seat of its venue, found by its place (block,
    row, number), saying who asked and what happens to a price difference (the API's
    ``SeatChangeIn``). The form carries a change id made with it: sent again, it is the same
    change (``seat_changes.ticket``), never a second one."""
    from chalicelib.services.catalog import catalog
    from chalicelib.services.seat_changes import ticket as ticket_changes

    order, ticket = _ticket(screen, order_id, position)
    performance = catalog.get_performance(screen.actor, ticket["performance_id"])
    seat = catalog.get_seat(screen.actor, ticket["seat_id"]) if ticket.get("seat_id") else None
    form = seat_forms.SeatForm.read(screen)
    if screen.request.method == "POST":
        done = form.send(screen, performance.venue_id, "seat_changes:SeatChangeIn", lambda body: (
            ticket_changes.change_ticket_seat(screen.actor, order_id, position, body)))
        if done:
            return screen.redirect(f"/console/orders/{order_id}?done=seat-changed")
    return screen.page("order_seat.html.j2", status=form.status, order=order, ticket=ticket, performance=performance,
                       seat=seat, form=form)


BUYER_FIELDS = ("title", "first_name", "last_name", "email", "language", "company_name", "company_siret",
                "company_vat_number", "address_line1", "address_line2", "postcode", "city", "country")


@console_route(bp, "/console/orders/{order_id}/buyer", methods=("GET", "POST"))
def edit_buyer(screen: Screen, order_id: str):
    """The order's buyer as the invoice names them (an invoice already issued keeps the buyer it
    was issued to), edited through the API's ``BuyerPatch``: a refusal shows the form again with
    each error beside its field. The form carries the buyer it showed: if another desk changed
    the buyer meanwhile, nothing is written and the form says so, what was typed kept."""
    from chalicelib.errors import InvalidInput
    from chalicelib.services.orders import orders

    order = orders.get_order(screen.actor, order_id)
    shown = _buyer_shown(order)
    if screen.request.method == "GET":
        return _buyer_page(screen, order, shown, {})
    typed = {name: screen.value(name) for name in BUYER_FIELDS}
    if screen.value("shown", 100) != _fingerprint(shown):
        return _buyer_page(screen, order, typed, {"": [screen.say(
            "quelqu'un a modifié l'acheteur pendant que vous le modifiiez ; voici votre saisie, à enregistrer "
            "de nouveau si elle doit remplacer la sienne.",
            "someone changed the buyer while you were editing it; here is what you typed, to save again if it "
            "should replace theirs.")]}, status=409)
    try:
        # What changed: a value typed, or one the form showed and staff emptied (removed; the
        # last name as typed, so that emptying it is refused beside it).
        body = form_body({name: value if value or name == "last_name" else None for name, value in typed.items()
                          if value != shown.get(name)}, "orders:BuyerPatch")
    except InvalidInput as refused:
        errors: dict[str, list[str]] = {}
        for error in refused.errors:
            errors.setdefault(error.field.split(".")[0], []).append(screen.field_message(error))
        return _buyer_page(screen, order, typed, errors, status=422)
    orders.edit_buyer(screen.actor, order_id, body.model_dump(exclude_unset=True))
    return screen.redirect(f"/console/orders/{order_id}?done=buyer")


def _buyer_shown(order) -> dict[str, str]:
    buyer = order.buyer.as_dict()
    return {name: str(buyer.get(name) or "") for name in BUYER_FIELDS}


def _fingerprint(buyer: dict[str, str]) -> str:
    """The buyer a form showed, in a few characters: compared on save, so a change made by
    another desk meanwhile is not overwritten unseen (the order's own version moves with every
    payment and ticket, which must not refuse a buyer's edit)."""
    import hashlib
    import json

    return hashlib.sha256(json.dumps(buyer, sort_keys=True).encode()).hexdigest()[:32]


def _buyer_page(screen: Screen, order, typed: dict, errors: dict, status: int = 200):
    return screen.page("order_buyer.html.j2", status=status, order=order, typed=typed, errors=errors,
                       shown=_fingerprint(_buyer_shown(order)))


@console_route(bp, "/console/orders/{order_id}/mark-paid", methods=("POST",))
def mark_paid(screen: Screen, order_id: str):
    from chalicelib.services.orders import orders

    orders.mark_paid(screen.actor, order_id)
    return screen.redirect(f"/console/orders/{order_id}?done=paid")


# -- refunds: pick the tickets, read the summary, confirm --------------------------------------


def _asked_positions(screen: Screen, values: list[str]) -> list[int]:
    from chalicelib.errors import InvalidInput

    if not values:
        raise InvalidInput.on("position", screen.say("Cochez au moins un billet à rembourser.",
                                                     "Tick at least one ticket to refund."))
    try:
        return list(dict.fromkeys(int(value) for value in values))
    except ValueError:
        raise InvalidInput.on("position", screen.say("Billet inconnu.", "Unknown ticket.")) from None


def _typed_amounts(screen: Screen, positions: list[int], typed) -> list[dict]:
    """The amounts staff typed in euros on the summary, per ticket (none typed: the fee policy's)."""
    from chalicelib.errors import InvalidInput
    from chalicelib.values.cents import from_typed

    amounts = []
    for position in positions:
        text = typed(f"amount_{position}")
        if not text:
            continue
        try:
            amounts.append({"position": position, "amount_cents": from_typed(text)})
        except ValueError:
            raise InvalidInput.on(f"amount_{position}", screen.say(
                f"Montant du billet {position} illisible : écrivez par exemple 12,50.",
                f"Ticket {position}'s amount cannot be read: write for example 12.50.")) from None
    return amounts


def _refund_body(positions: list[int], amounts: list[dict], schema: str, **more):
    return form_body({"positions": positions, **({"amounts": amounts} if amounts else {}), **more}, schema)


@console_route(bp, "/console/orders/{order_id}/refund", methods=("GET", "POST"))
def refund(screen: Screen, order_id: str):
    """GET: the summary of refunding the ticked tickets (the API's quote, nothing written), with a
    form to confirm carrying a request id; POST: that refund, made once whatever the submits."""
    if screen.request.method == "POST":
        return _confirm_refund(screen, order_id)
    from chalicelib.services.money import refunds
    from chalicelib.services.orders import orders
    from chalicelib.services.orders.details import order_details
    from chalicelib.services.shared.form_requests import new_request_id

    method = _method(screen, screen.query("method"))
    positions = _asked_positions(screen, [value[:4] for value in screen.query_values("position")[:40]])
    if method == "refund":
        body = _refund_body(positions, _typed_amounts(screen, positions, screen.query), "money:RefundQuoteIn")
        quote = refunds.summary(screen.actor, order_id, body.positions, amounts=body.amounts_by_position())
    else:  # credit or donation: the tickets' whole shares, as the API's settle routes give them
        from chalicelib.services.money import customer_money

        body = _refund_body(positions, [], "money:SettleTicketsIn")
        quote = customer_money.settlement_summary(screen.actor, order_id, body.positions)
    return screen.page("refund_summary.html.j2", order=order_details(orders.get_order(screen.actor, order_id)),
                       quote=quote, method=method, request_id=new_request_id())


def _method(screen: Screen, asked: str | None) -> str:
    """How the money goes back: a refund (card or transfer, by the order's payment), credit on the
    buyer's customer account, or a donation to the organiser."""
    from chalicelib.errors import InvalidInput

    method = asked or "refund"
    if method not in METHODS:
        raise InvalidInput.on("method", screen.say("Choisissez rembourser, avoir ou don.",
                                                   "Choose refund, credit or donation."))
    return method


def _confirm_refund(screen: Screen, order_id: str):
    from chalicelib.errors import InvalidInput
    from chalicelib.services.money import refunds

    positions = _asked_positions(screen, screen.values("position"))
    method = _method(screen, screen.value("method", 12))
    if method != "refund":
        from chalicelib.services.money import customer_money

        body = _refund_body(positions, [], "money:SettleTicketsIn")
        now = customer_money.settle_once(screen.actor, order_id, screen.value("request_id", 40), body.positions,
                                         settlement=method)
        return screen.redirect(f"/console/orders/{order_id}?done={method if now else 'settled-before'}")
    # the summary's amounts, exactly: a form without them would refund what nobody was shown
    shown = {position: screen.value(f"amount_cents_{position}", 12) for position in positions}
    if not all(cents.isdigit() for cents in shown.values()):
        raise InvalidInput.on("amount_cents", screen.say("Ce formulaire est incomplet : rouvrez le récapitulatif.",
                                                         "This form is incomplete: open the summary again."))
    amounts = [{"position": position, "amount_cents": int(cents)} for position, cents in shown.items()]
    iban = screen.value("iban", 60)
    bank = {"bank_account": {"iban": iban, "holder": screen.value("holder") or None}} if iban else {}
    body = _refund_body(positions, amounts, "money:RefundIn", **bank)
    account = refunds.BankAccount(body.bank_account.iban, body.bank_account.holder) if body.bank_account else None
    made, now = refunds.request_refund_once(screen.actor, order_id, screen.value("request_id", 40), body.positions,
                                            amounts=body.amounts_by_position(), bank=account)
    return screen.redirect(f"/console/orders/{order_id}?done={'refunded' if now else 'refunded-before'}"
                           f"#refund-{made.refund_id}")


# -- documents and mails -----------------------------------------------------------------------


def _document(body: str):
    from chalicelib.handlers.documents import html_document

    return html_document(body)


@console_route(bp, "/console/orders/{order_id}/documents/tickets/{position}")
def ticket_document(screen: Screen, order_id: str, position: str):
    from chalicelib.services.documents import documents

    return _document(documents.ticket_html(screen.actor, order_id, position, screen.language))


@console_route(bp, "/console/orders/{order_id}/documents/receipt")
def receipt_document(screen: Screen, order_id: str):
    from chalicelib.services.documents import documents

    return _document(documents.receipt_html(screen.actor, order_id, screen.language))


@console_route(bp, "/console/orders/{order_id}/documents/invoice")
def invoice_document(screen: Screen, order_id: str):
    from chalicelib.services.documents import documents

    return _document(documents.invoice_html(screen.actor, order_id, screen.language))


@console_route(bp, "/console/orders/{order_id}/documents/credit-notes/{number}")
def credit_note_document(screen: Screen, order_id: str, number: str):
    from chalicelib.services.documents import credit_notes

    return _document(credit_notes.credit_note_html(screen.actor, order_id, number, screen.language))


@console_route(bp, "/console/orders/{order_id}/mails/{notification_id}/resend", methods=("POST",))
def resend_mail(screen: Screen, order_id: str, notification_id: str):
    """One of the order's mails sent again, to the same or a corrected address (the API's resend)."""
    from chalicelib.errors import NotFound
    from chalicelib.services.mail import notifications
    from chalicelib.services.mail import sending as mail
    from chalicelib.services.orders import orders

    order = orders.get_order(screen.actor, order_id)
    original = notifications.get_notification(screen.actor, notification_id)
    if original.concerns_type != "order" or original.concerns_id != order.id:
        raise NotFound("No such mail for this order.")
    typed = screen.value("address", 254)
    body = form_body({"address": typed} if typed else {}, "mail:ResendIn")
    mail.resend(screen.actor, notification_id, body.address)
    return screen.redirect(f"/console/orders/{order_id}?done=resent#mails")


# -- bulk: export as CSV, resend confirmations ------------------------------------------------


def _selection(screen: Screen) -> dict:
    """The bulk form's orders: the ticked ones, or every order matching the list's filters (the
    API's ``ResendConfirmationsIn``: ids or filters, never both)."""
    from chalicelib.errors import InvalidInput
    if screen.value("scope") == "matching":
        asked = {name: value for name in FILTERS + PICKED if (value := screen.value(name, 64))}
        body = form_body({"filters": _api_filters(screen, asked, dates=("placed_from", "placed_to"))},
                         "orders:ResendConfirmationsIn")
        return {"order_ids": None, "filters": body.filters.model_dump()}
    ticked = screen.values("order_id")
    if not ticked:
        raise InvalidInput.on("order_id", screen.say(
            "Cochez au moins une commande, ou choisissez toutes les commandes qui correspondent aux filtres.",
            "Tick at least one order, or choose every order matching the filters."))
    return {"order_ids": form_body({"order_ids": ticked}, "orders:ResendConfirmationsIn").order_ids,
            "filters": None}


@console_route(bp, "/console/orders/export", methods=("POST",))
def export_orders(screen: Screen):
    from chalicelib.services.orders import export

    job = export.start_export(screen.actor, **_selection(screen))
    return screen.redirect(f"/console/orders/exports/{job.id}")


@console_route(bp, "/console/orders/resend-confirmations", methods=("POST",))
def resend_confirmations(screen: Screen):
    from chalicelib.services.orders import bulk

    job = bulk.start_resend_confirmations(screen.actor, **_selection(screen))
    return screen.redirect(f"/console/jobs/{job.id}")


@console_route(bp, "/console/orders/exports/{job_id}")
def export_view(screen: Screen, job_id: str):
    """An export's job with its progress, and its file's link once it is written."""
    from chalicelib.errors import NotFound
    from chalicelib.services.jobs import framework as jobs
    from chalicelib.services.orders import export

    job = jobs.get_job(screen.actor, job_id)
    if job.kind != export.EXPORT_CSV:
        raise NotFound("No such export.")
    return screen.page("orders_export.html.j2", job=job)
