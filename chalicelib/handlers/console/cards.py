"""Season card screens: the card sites and their printers with what their agent reported (state and
reasons in words, ribbon, queue length, last contact) and the print queue (one page, by state or
printer); printing one subscription's card and following its print job until it is printed and
its UID bound; a mass print started as a job, followed with pause, resume and cancel; uncertain
jobs, each decided (printed, or print a new card) after a confirmation page; revoking a card
after a confirmation page.

Every action is the cards API's service call (``handlers/cards.py``) with the API's schemas, so a
refusal (a subscription with a card being printed, a job no longer queued...) is the API's, shown
as a page. The API asks for the staff role only on these routes; so does the console."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.console.frame import PAGE_SIZE, Screen, console_route, form_body, paging_link

bp = Blueprint(__name__)
CHOICES = 100  # the printers and products offered in a form's list: a venue has a few


def _body(values: dict, model: str):
    """A form's fields read with the API's own body schema (its refusal is the API's)."""
    return form_body({name: value for name, value in values.items() if value}, model)


def _printers(screen: Screen, *, active_only: bool = False) -> list:
    from chalicelib.services.cards import printers

    found = printers.list_printers(screen.actor, site_id=None, limit=CHOICES, cursor=None).items
    return [printer for printer in found if printer.active or not active_only]


# -- sites, printers and the print queue -----------------------------------------------------


@console_route(bp, "/console/cards")
def cards_home(screen: Screen):
    from chalicelib.handlers.http import parse_query
    from chalicelib.services.cards import printing, sites

    asked = {name: value for name in ("state", "printer_id", "cursor") if (value := screen.query(name))}
    if not asked.get("printer_id") and not asked.get("state"):
        asked["state"] = "queued"  # the queue itself: what waits for a printer
    query = parse_query({**asked, "limit": str(PAGE_SIZE)}, "cards:PrintJobQuery")
    page = printing.list_jobs(screen.actor, printer_id=query.printer_id, state=query.state, limit=query.limit,
                              cursor=query.cursor)
    printers = _printers(screen)
    return screen.page("cards.html.j2", printers=printers, jobs=page.items, asked=asked,
                       sites={site.id: site.name for site in sites.list_sites(screen.actor, limit=PAGE_SIZE,
                                                                              cursor=None).items},
                       printer_names={printer.id: printer.name for printer in printers},
                       holders=printing.holder_names(screen.actor, [job.holder_contact_id for job in page.items]),
                       next_link=paging_link(screen, page.next_cursor))


@console_route(bp, "/console/cards/uncertain")
def uncertain_jobs(screen: Screen):
    from chalicelib.services.cards import printing

    page = printing.list_jobs(screen.actor, printer_id=None, state="uncertain", limit=PAGE_SIZE,
                              cursor=screen.query("cursor"))
    return screen.page("card_uncertain.html.j2", jobs=page.items,
                       holders=printing.holder_names(screen.actor, [job.holder_contact_id for job in page.items]),
                       printers={printer.id: printer for printer in _printers(screen)},
                       next_link=paging_link(screen, page.next_cursor))


# -- one subscription's card -----------------------------------------------------------------


@console_route(bp, "/console/cards/print")
def print_form(screen: Screen):
    """The subscription to print a card for: by its number (then its page), or its payer found
    with the customers' search (the API's ``contacts:ContactSearch``)."""
    from urllib.parse import quote

    from chalicelib.handlers.http import parse_query
    from chalicelib.services.contacts import search
    from chalicelib.services.subscriptions import subscriptions

    wanted, asked = screen.query("subscription_id"), screen.query("q")
    if wanted is not None:
        subscription = subscriptions.get_subscription(screen.actor, wanted)
        return screen.redirect(f"/console/cards/subscriptions/{quote(subscription.id)}")
    if asked is None:
        return screen.page("card_print.html.j2", q=None, customers=[], next_link=None)
    query = parse_query({"q": asked, "limit": str(PAGE_SIZE)}, "contacts:ContactSearch")
    page = search.search_contacts(screen.actor, query.q, limit=query.limit, cursor=screen.query("cursor"))
    return screen.page("card_print.html.j2", q=query.q, customers=page.items,
                       next_link=paging_link(screen, page.next_cursor))


@console_route(bp, "/console/cards/customers/{contact_id}")
def customer_subscriptions(screen: Screen, contact_id: str):
    """The subscriptions a customer paid for (theirs and those they bought for others), newest
    first, as the API's ``GET /subscriptions?payer_id=`` lists them, each with its holder."""
    from chalicelib.services.cards import printing
    from chalicelib.services.catalog import catalog
    from chalicelib.services.contacts import contacts
    from chalicelib.services.subscriptions import subscriptions

    payer = contacts.get_contact(screen.actor, contact_id)
    page = subscriptions.list_subscriptions(screen.actor, product_id=None, payer_id=payer.id, state=None,
                                            limit=PAGE_SIZE, cursor=screen.query("cursor"))
    products = {product_id: catalog.products.get(screen.actor, product_id).name
                for product_id in {subscription.product_id for subscription in page.items}}
    return screen.page("card_customer.html.j2", payer=printing.holder_name(payer), subscriptions=page.items,
                       products=products, next_link=paging_link(screen, page.next_cursor),
                       holders=printing.holder_names(screen.actor, [sub.holder_contact_id for sub in page.items]))


@console_route(bp, "/console/cards/subscriptions/{subscription_id}")
def subscription_cards(screen: Screen, subscription_id: str):
    from chalicelib.services.cards import binding, printing
    from chalicelib.services.catalog import catalog
    from chalicelib.services.contacts import contacts
    from chalicelib.services.subscriptions import subscriptions

    subscription = subscriptions.get_subscription(screen.actor, subscription_id)
    jobs = printing.jobs_of_subscription(screen.actor, subscription.id)
    return screen.page(
        "card_subscription.html.j2", subscription=subscription,
        holder=printing.holder_name(contacts.get_contact(screen.actor, subscription.holder_contact_id)),
        product=catalog.products.get(screen.actor, subscription.product_id), jobs=list(reversed(jobs)),
        cards=binding.cards_of_subscription(screen.actor, subscription.id),
        printers=_printers(screen, active_only=True),
        open_job=printing.open_job_of(jobs), done=screen.query("done"))


@console_route(bp, "/console/cards/subscriptions/{subscription_id}/print", methods=("POST",))
def print_card(screen: Screen, subscription_id: str):
    from chalicelib.services.cards import printing

    body = _body({"printer_id": screen.value("printer_id", 64)}, "cards:PrintIn")
    job = printing.print_card(screen.actor, subscription_id, body.printer_id)
    return screen.redirect(f"/console/cards/print-jobs/{job.id}")


# -- one print job ---------------------------------------------------------------------------


@console_route(bp, "/console/cards/print-jobs/{print_job_id}")
def print_job(screen: Screen, print_job_id: str):
    from chalicelib.services.cards import printers, printing

    job = printing.get_job(screen.actor, print_job_id)
    return screen.page("card_job.html.j2", job=job, holder=_holder(screen, job),
                       printer=printers.get_printer(screen.actor, job.printer_id),
                       refresh=job.state in printing.OPEN_STATES,  # the agent may still answer
                       done=screen.query("done"))


def _holder(screen: Screen, job) -> str | None:
    from chalicelib.services.cards import printing

    return printing.holder_names(screen.actor, [job.holder_contact_id]).get(job.holder_contact_id)


@console_route(bp, "/console/cards/print-jobs/{print_job_id}/cancel", methods=("POST",))
def cancel_print_job(screen: Screen, print_job_id: str):
    from chalicelib.services.cards import printing

    printing.cancel_print_job(screen.actor, print_job_id)
    return screen.redirect(f"/console/cards/print-jobs/{print_job_id}?done=cancel")


@console_route(bp, "/console/cards/print-jobs/{print_job_id}/resolve", methods=("GET", "POST"))
def resolve(screen: Screen, print_job_id: str):
    """An uncertain job decided: the page says what the decision will do, its POST does it."""
    from chalicelib.handlers.http import parse_query
    from chalicelib.services.cards import printing

    if screen.request.method == "GET":
        job = printing.check_undecided(printing.get_job(screen.actor, print_job_id))  # the service's refusal, first
        decision = parse_query({"decision": screen.query("decision") or "printed"}, "cards:ResolveIn").decision
        return screen.page("card_resolve.html.j2", job=job, decision=decision,
                           holder=_holder(screen, job),
                           printers=_printers(screen, active_only=True))
    body = _body({name: screen.value(name, 64) for name in ("decision", "uid", "printer_id")}, "cards:ResolveIn")
    job = printing.resolve_uncertain(screen.actor, print_job_id, decision=body.decision, uid=body.uid,
                                     printer_id=body.printer_id)
    if job.replaced_by:  # a new card is on its way: follow it
        return screen.redirect(f"/console/cards/print-jobs/{job.replaced_by}")
    return screen.redirect(f"/console/cards/print-jobs/{job.id}?done=resolved")


# -- revoking a card -------------------------------------------------------------------------


@console_route(bp, "/console/cards/cards/{card_id}/revoke", methods=("GET", "POST"))
def revoke(screen: Screen, card_id: str):
    from chalicelib.services.cards import binding, printing
    from chalicelib.services.contacts import contacts

    card = binding.get_card(screen.actor, card_id)
    if screen.request.method == "GET":
        binding.check_revocable(card)  # the service's refusal, before asking anything
        holder = printing.holder_name(contacts.get_contact(screen.actor, card.holder_contact_id))
        return screen.page("card_revoke.html.j2", card=card, holder=holder)
    body = _body({"reason": screen.value("reason", 300)}, "cards:RevokeIn")
    binding.revoke_card(screen.actor, card.id, reason=body.reason)
    return screen.redirect(f"/console/cards/subscriptions/{card.subscription_ids[0]}?done=revoked")


# -- mass print ------------------------------------------------------------------------------


@console_route(bp, "/console/cards/mass-print", methods=("GET", "POST"))
def mass_print_form(screen: Screen):
    from chalicelib.services.cards import mass_print
    from chalicelib.services.catalog import catalog

    if screen.request.method == "GET":
        products = catalog.products.list(screen.actor, limit=CHOICES, cursor=None).items
        return screen.page("card_mass_print.html.j2", printers=_printers(screen, active_only=True),
                           products=[product for product in products if product.kind == "subscription"])
    body = _body({name: screen.value(name, 64) for name in ("product_id", "printer_id", "delivery_mode")},
                 "cards:MassPrintIn")
    job = mass_print.start_mass_print(screen.actor, product_id=body.product_id, printer_id=body.printer_id,
                                      delivery_mode=body.delivery_mode)
    return screen.redirect(f"/console/cards/mass-prints/{job.id}")


def _mass_print(screen: Screen, job_id: str):
    from chalicelib.errors import NotFound
    from chalicelib.services.cards import mass_print
    from chalicelib.services.jobs import framework as jobs

    job = jobs.get_job(screen.actor, job_id)
    if job.kind != mass_print.KIND:
        raise NotFound("No such mass print.")
    return job


@console_route(bp, "/console/cards/mass-prints/{job_id}")
def mass_print_view(screen: Screen, job_id: str):
    from chalicelib.services.cards import printers

    job = _mass_print(screen, job_id)
    return screen.page("card_mass.html.j2", job=job, done=screen.query("done"),
                       printer=printers.get_printer(screen.actor, job.params["printer_id"]))


@console_route(bp, "/console/cards/mass-prints/{job_id}/pause", methods=("POST",))
def pause_mass_print(screen: Screen, job_id: str):
    from chalicelib.services.jobs import framework as jobs

    jobs.pause_job(screen.actor, _mass_print(screen, job_id).id)
    return screen.redirect(f"/console/cards/mass-prints/{job_id}?done=paused")


@console_route(bp, "/console/cards/mass-prints/{job_id}/resume", methods=("POST",))
def resume_mass_print(screen: Screen, job_id: str):
    from chalicelib.services.jobs import framework as jobs

    jobs.resume_job(screen.actor, _mass_print(screen, job_id).id)
    return screen.redirect(f"/console/cards/mass-prints/{job_id}?done=resumed")


@console_route(bp, "/console/cards/mass-prints/{job_id}/cancel", methods=("GET", "POST"))
def cancel_mass_print(screen: Screen, job_id: str):
    from chalicelib.errors import Conflict
    from chalicelib.services.jobs import framework as jobs

    job = _mass_print(screen, job_id)
    if screen.request.method == "GET":
        if job.ended:
            raise Conflict(screen.say("Cette impression en série est déjà terminée.",
                                      "This mass print has already ended."))
        return screen.page("card_mass_cancel.html.j2", job=job)
    body = _body({"reason": screen.value("reason", 300)}, "jobs:CancelIn")
    jobs.cancel_job(screen.actor, job.id, reason=body.reason)
    return screen.redirect(f"/console/cards/mass-prints/{job_id}?done=cancelled")


# -- sites and printers (admin, as the API) ---------------------------------------------------


@console_route(bp, "/console/cards/sites", methods=("GET", "POST"), role="admin")
def sites_view(screen: Screen):
    """The card sites; a new one registered (its print queue made: ``sites.register_site``)."""
    from chalicelib.errors import InvalidInput
    from chalicelib.services.cards import sites
    from chalicelib.services.catalog import catalog

    typed, errors = {"name": "", "venue_id": ""}, {}
    if screen.request.method == "POST":
        typed = {"name": screen.value("name"), "venue_id": screen.value("venue_id", 64)}
        try:
            site = sites.register_site(screen.actor, _body(typed, "cards:SiteIn").model_dump())
            return screen.redirect(f"/console/cards/sites/{site.id}?done=registered")
        except InvalidInput as refused:
            errors = {error.field: screen.field_message(error) for error in refused.errors}
    return screen.page("card_sites.html.j2", status=422 if errors else 200, typed=typed, errors=errors,
                       sites=sites.list_sites(screen.actor, limit=CHOICES, cursor=None).items,
                       venues=catalog.venues.list(screen.actor, limit=CHOICES, cursor=None).items)


@console_route(bp, "/console/cards/sites/{site_id}", methods=("GET", "POST"), role="admin")
def site_view(screen: Screen, site_id: str):
    """A site and its printers; a printer registered on it (``printers.register_printer``)."""
    from chalicelib.errors import InvalidInput
    from chalicelib.services.cards import printers, sites

    site = sites.get_site(screen.actor, site_id)
    typed, errors = {"name": "", "model": "", "encoder": ""}, {}
    if screen.request.method == "POST":
        typed = {"name": screen.value("name"), "model": screen.value("model"), "encoder": screen.value("encoder", 3)}
        try:
            body = form_body({**typed, "site_id": site.id, "encoder": bool(typed["encoder"])}, "cards:PrinterIn")
            printers.register_printer(screen.actor, body.model_dump())
            return screen.redirect(f"/console/cards/sites/{site.id}?done=printer")
        except InvalidInput as refused:
            errors = {error.field: screen.field_message(error) for error in refused.errors}
    found = printers.list_printers(screen.actor, site_id=site.id, limit=CHOICES, cursor=None).items
    return screen.page("card_site.html.j2", status=422 if errors else 200, site=site, printers=found, typed=typed,
                       errors=errors, done=screen.query("done"))


@console_route(bp, "/console/cards/printers/{printer_id}/service", methods=("POST",), role="admin")
def printer_service(screen: Screen, printer_id: str):
    """A printer put out of service (no new print sent to it) or back in service."""
    from chalicelib.services.cards import printers

    active = screen.value("active", 5) == "true"
    printer = printers.change_printer(screen.actor, printer_id, form_body({"active": active}, "cards:PrinterPatch")
                                      .model_dump(exclude_unset=True))
    return screen.redirect(f"/console/cards/sites/{printer.site_id}?done={'in-service' if active else 'out-of-service'}")


@console_route(bp, "/console/cards/sites/{site_id}/agent-config", role="admin")
def agent_config(screen: Screen, site_id: str):
    """The site's agent configuration file (with its agent key: the download is audited)."""
    from chalice import Response

    from chalicelib.services.cards import sites

    config = sites.agent_config(screen.actor, site_id)
    return Response(body=config, status_code=200,
                    headers={"Content-Type": "application/toml; charset=utf-8", "Cache-Control": "no-store",
                             "Content-Disposition": 'attachment; filename="agent.toml"'})
