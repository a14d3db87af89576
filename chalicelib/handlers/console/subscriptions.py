"""Subscription screens: the venue's subscription products and packages with their payment plans
(a season at a time), a product's subscriptions, one subscription with its instalments; renewal
runs (the list, the parameter form, a run's progress then its report: a dry run's counts, the
revenue it projects and its detail page by page; the real run started from a dry run's report
after a confirmation page); the instalments the collector owes on a day (failed ones with their
reason) and, for admins, running the collector now.

Inputs are read with the API's own schemas (``subscriptions:SubscriptionQuery``,
``subscriptions:RenewalRunIn``, ``subscriptions:InstalmentsQuery``) and every action is the API's
service call, with the API's roles: starting a renewal run and running the collector are for
admins."""
from __future__ import annotations

from datetime import date, datetime, timedelta

from chalice import Blueprint

from chalicelib.handlers.console.frame import PAGE_SIZE, Screen, console_route, form_body, paging_link

bp = Blueprint(__name__)
DELIVERY_MODES = ("new_card", "reload_card", "print_at_home", "box_office")
BUNDLE_KINDS = ("subscription", "package")
PRODUCTS_OFFERED = 200  # the products the renewal form offers to choose from (the API's largest page)


def _page(screen: Screen, template: str, **context):
    """``screen.page`` with ``day_text``: a day (a date or its ISO text) written out in the page's language."""
    from chalicelib.values import formatting

    def day_text(day) -> str:
        if not day:
            return "—"
        return formatting.date_text(date.fromisoformat(day) if isinstance(day, str) else day,
                                    language=screen.language)

    return screen.page(template, day_text=day_text, **context)


def _cursor(screen: Screen) -> dict[str, str]:
    """The page's cursor, for the API's page schema to read."""
    cursor = screen.query("cursor")
    return {"cursor": cursor} if cursor else {}


# -- products ------------------------------------------------------------------------------------


@console_route(bp, "/console/subscriptions")
def products_list(screen: Screen):
    from chalicelib.handlers.http import parse_query
    from chalicelib.services.catalog import catalog
    from chalicelib.services.subscriptions import terms

    asked = {name: value for name in ("season_id",) if (value := screen.query(name))} | _cursor(screen)
    query = parse_query({**asked, "limit": str(PAGE_SIZE)}, "catalog:ProductQuery")
    seasons = catalog.seasons.list(screen.actor, limit=50, cursor=None).items
    page = catalog.products.list(screen.actor, limit=query.limit, cursor=query.cursor, season_id=query.season_id)
    products = [product for product in page.items if product.kind in BUNDLE_KINDS]
    return _page(screen, "subscriptions.html.j2", products=products, seasons=seasons, season_id=query.season_id,
                 terms=terms.terms_of(screen.actor, [product.id for product in products]),
                 next_link=paging_link(screen, page.next_cursor))


@console_route(bp, "/console/subscriptions/products/{product_id}")
def product_view(screen: Screen, product_id: str):
    from chalicelib.errors import NotFound
    from chalicelib.handlers.http import parse_query
    from chalicelib.services.catalog import catalog
    from chalicelib.services.subscriptions import subscriptions, terms

    product = catalog.products.get(screen.actor, product_id)
    if product.kind not in BUNDLE_KINDS:
        raise NotFound(f"Product {product_id} is not a subscription.")
    asked = {name: value for name in ("state",) if (value := screen.query(name))} | _cursor(screen)
    query = parse_query({**asked, "product_id": product_id, "limit": str(PAGE_SIZE)},
                        "subscriptions:SubscriptionQuery")
    page = subscriptions.list_subscriptions(screen.actor, product_id=product_id, payer_id=None, state=query.state,
                                            limit=query.limit, cursor=query.cursor)
    people = subscriptions.people_names(screen.actor, {sub.holder_contact_id for sub in page.items}
                                        | {sub.payer_contact_id for sub in page.items})
    return _page(screen, "subscription_product.html.j2", product=product, people=people, saved=screen.query("saved"),
                 terms=terms.terms_of(screen.actor, [product_id]).get(product_id), subscriptions=page.items,
                 state=query.state, next_link=paging_link(screen, page.next_cursor))


PLAN_ROWS = 6  # the API's most payment plans


@console_route(bp, "/console/subscriptions/products/{product_id}/terms", methods=("GET", "POST"))
def terms_form(screen: Screen, product_id: str):
    """What a product offers, edited whole as the API's PUT replaces it: its performances (each
    with its quota and sub-package), the number to choose, the delivery modes, the payment plans,
    the refusal deadline of a tacit renewal."""
    from chalicelib.errors import NotFound
    from chalicelib.services.catalog import catalog
    from chalicelib.services.subscriptions import offerable, terms

    product = catalog.products.get(screen.actor, product_id)
    if product.kind not in BUNDLE_KINDS:
        raise NotFound(f"Product {product_id} is not a subscription.")
    if screen.request.method == "POST":
        body = form_body(_terms_fields(screen), "subscriptions:TermsIn")
        terms.set_terms(screen.actor, product_id, body.model_dump())
        return screen.redirect(f"/console/subscriptions/products/{product_id}?saved=1")
    current = terms.terms_of(screen.actor, [product_id]).get(product_id)
    plans = list(current.payment_plans) if current else []
    return _page(screen, "subscription_terms.html.j2", product=product, current=current,
                 offered=offerable.offerable(screen.actor, product), modes=DELIVERY_MODES,
                 plans=plans + [None] * (PLAN_ROWS - len(plans)))


def _terms_fields(screen: Screen) -> dict:
    """The terms form as the API's body."""
    chosen = screen.values("performance_ids")
    plans = [{"id": screen.value(f"plan_id_{row}", 40), "label": screen.value(f"plan_label_{row}"),
              "instalments": _number(screen.value(f"plan_instalments_{row}", 4)),
              "day_of_month": _number(screen.value(f"plan_day_{row}", 4) or "5"),
              "first_at_purchase": screen.value(f"plan_first_{row}") == "1"}
             for row in range(PLAN_ROWS) if screen.value(f"plan_id_{row}", 40)]
    return {"performances": [{"performance_id": performance_id, "quota_id": screen.value(f"quota_{performance_id}", 40),
                              "part": screen.value(f"part_{performance_id}") or None} for performance_id in chosen],
            "choose": _number(screen.value("choose", 4)) or None, "delivery_modes": screen.values("delivery_modes"),
            "payment_plans": plans, "refusal_deadline": screen.value("refusal_deadline", 12) or None}


def _number(typed: str) -> int | str:
    """A number typed in a field; anything else as typed, for the schema to refuse naming its field."""
    return int(typed) if typed.isdigit() else typed


# -- renewal runs (declared before /console/subscriptions/{id}: a fixed path wins) ----------------


@console_route(bp, "/console/subscriptions/renewals")
def runs_list(screen: Screen):
    from chalicelib.handlers.http import parse_query
    from chalicelib.services.subscriptions import renewal, subscriptions

    query = parse_query({**_cursor(screen), "limit": str(PAGE_SIZE)}, "common:PageQuery")
    page = renewal.list_runs(screen.actor, limit=query.limit, cursor=query.cursor)
    named = {job.params.get(name) for job in page.items for name in ("source_product_id", "target_product_id")}
    return _page(screen, "renewals.html.j2", runs=page.items, next_link=paging_link(screen, page.next_cursor),
                 names=subscriptions.product_names(screen.actor, named - {None}))


@console_route(bp, "/console/subscriptions/renewals/new", role="admin")
def run_form(screen: Screen):
    """Two steps without script: choose last season's product and the new one, then the rest
    (the new product's delivery modes, and its tariffs for last season's)."""
    from chalicelib.services.catalog import catalog
    from chalicelib.services.subscriptions import renewal

    products = [product for product in catalog.products.list(screen.actor, limit=PRODUCTS_OFFERED,
                                                              cursor=None).items if product.kind in BUNDLE_KINDS]
    source_id, target_id = screen.query("source_product_id"), screen.query("target_product_id")
    chosen = None
    if source_id and target_id:
        source, target = renewal.check_products(screen.actor, source_id, target_id)
        chosen = _chosen(screen, source, target)
    return _page(screen, "renewal_form.html.j2", products=products, source_id=source_id, target_id=target_id,
                 chosen=chosen, modes=DELIVERY_MODES)


def _chosen(screen: Screen, source, target) -> dict:
    from chalicelib.services.catalog import catalog
    from chalicelib.services.subscriptions import terms

    def tariffs(product_id: str) -> list:
        return catalog.tariffs.list(screen.actor, limit=50, cursor=None, product_id=product_id).items

    return {"source": source, "target": target, "terms": terms.get_terms(screen.actor, target.id),
            "source_tariffs": tariffs(source.id), "target_tariffs": tariffs(target.id)}


@console_route(bp, "/console/subscriptions/renewals", methods=("POST",), role="admin")
def start_run(screen: Screen):
    from chalicelib.services.subscriptions import renewal

    body = form_body(_run_fields(screen), "subscriptions:RenewalRunIn")
    job = renewal.start_run(screen.actor, body.model_dump())
    return screen.redirect(f"/console/subscriptions/renewals/{job.id}")


def _run_fields(screen: Screen) -> dict:
    """The form's fields as the API's body: a dry run (the real run starts from its report)."""
    replacements = {mode: new for mode in DELIVERY_MODES if (new := screen.value(f"replace_{mode}", 20))}
    tariffs = {name.removeprefix("tariff_"): chosen for name in screen.form if name.startswith("tariff_")
               if (chosen := screen.value(name, 40))}
    return {"source_product_id": screen.value("source_product_id", 40),
            "target_product_id": screen.value("target_product_id", 40),
            "delivery_modes": screen.values("delivery_modes"), "fallback_mode": screen.value("fallback_mode") or None,
            "mode_replacements": replacements or None, "tariffs": tariffs or None,
            "opt_out_criterion": screen.value("opt_out_criterion") or None, "on_error": screen.value("on_error"),
            "reservation_deadline": screen.moment("reservation_deadline"),
            "keep_seats": screen.value("keep_seats") == "1", "dry_run": True}



@console_route(bp, "/console/subscriptions/renewals/{job_id}")
def run_view(screen: Screen, job_id: str):
    """A run's progress while it runs, then its report (the page refreshes its progress region,
    which holds the report once the run has ended)."""
    from chalicelib.services.subscriptions import renewal, renewal_detail, subscriptions

    job = renewal.get_run(screen.actor, job_id)
    detail, shown = None, None
    if job.ended and job.params.get("dry_run") and job.status == "succeeded":
        detail = renewal_detail.dry_run_detail(screen.actor, job, limit=PAGE_SIZE, cursor=screen.query("cursor"))
        shown = renewal_detail.detail_labels(screen.actor, job, detail.items)
    names = subscriptions.product_names(screen.actor, [job.params["source_product_id"],
                                                       job.params["target_product_id"]])
    return _page(screen, "renewal_report.html.j2", job=job, report=_report(job), names=names, detail=detail,
                 deadline=_deadline(job), shown=shown, next_link=paging_link(screen, detail.next_cursor if detail else None))


def _deadline(job) -> datetime | None:
    """The run's reservation deadline (kept as ISO text in the job's parameters)."""
    kept = job.params.get("reservation_deadline")
    return datetime.fromisoformat(kept) if kept else None


def _report(job) -> dict:
    """The run's outcomes grouped as its report reads them: renewed, skipped, refused, the modes
    taken for a reason, and the revenue projected by day."""
    outcomes = job.outcomes or {}
    grouped: dict = {"renewed": {}, "skip": {}, "error": {}, "mode": {}, "projected": {}}
    for name, count in sorted(outcomes.items()):
        group, _, reason = name.partition(":")
        if group in ("sale", "reservation"):
            grouped["renewed"][group] = count
        elif group in grouped:
            grouped[group][reason] = count
    grouped["projected_total"] = sum(grouped["projected"].values())
    return grouped


@console_route(bp, "/console/subscriptions/renewals/{job_id}/run", methods=("GET", "POST"), role="admin")
def real_run(screen: Screen, job_id: str):
    """The real run of a dry run's parameters: what it will do (the dry run's report), then the
    confirming POST."""
    from chalicelib.services.subscriptions import renewal, subscriptions

    job = renewal.get_run(screen.actor, job_id)
    params = renewal.real_run_params(job)
    if screen.request.method == "GET":
        names = subscriptions.product_names(screen.actor, [params["source_product_id"], params["target_product_id"]])
        return _page(screen, "renewal_confirm.html.j2", job=job, report=_report(job), names=names,
                     deadline=_deadline(job))
    body = form_body(params, "subscriptions:RenewalRunIn")
    started = renewal.start_run(screen.actor, body.model_dump())
    return screen.redirect(f"/console/subscriptions/renewals/{started.id}")


# -- instalments ---------------------------------------------------------------------------------


@console_route(bp, "/console/subscriptions/instalments")
def instalments(screen: Screen):
    from chalicelib.handlers.http import parse_query
    from chalicelib.services.subscriptions import subscriptions

    today = subscriptions.venue_today()
    asked = {name: value for name in ("day", "state") if (value := screen.query(name))} | _cursor(screen)
    query = parse_query({"day": today.isoformat(), **asked, "limit": str(PAGE_SIZE)}, "subscriptions:InstalmentsQuery")
    page = subscriptions.instalments_of_day(screen.actor, query.day, state=query.state, limit=query.limit,
                                            cursor=query.cursor)
    found = page.items
    people = subscriptions.people_names(screen.actor, {item.subscription.payer_contact_id for item in found}
                                        | {item.subscription.holder_contact_id for item in found})
    return _page(screen, "instalments.html.j2", instalments=found, people=people,
                 next_link=paging_link(screen, page.next_cursor), day=query.day, state=query.state,
                 before=query.day - timedelta(days=1), after=query.day + timedelta(days=1),
                 collected=screen.query("collected"))


@console_route(bp, "/console/subscriptions/instalments/run", methods=("POST",), role="admin")
def run_collector(screen: Screen):
    from chalicelib.services.subscriptions import collector

    report = collector.sweep(tenant_id=screen.actor.tenant_id)
    if report.started:
        return screen.redirect(f"/console/jobs/{report.started[0]}")
    return screen.redirect("/console/subscriptions/instalments?collected=0")


# -- one subscription ----------------------------------------------------------------------------


@console_route(bp, "/console/subscriptions/{subscription_id}")
def subscription_view(screen: Screen, subscription_id: str):
    from chalicelib.services.subscriptions import subscriptions

    subscription = subscriptions.get_subscription(screen.actor, subscription_id)
    names = {**subscriptions.product_names(screen.actor, [subscription.product_id]),
             **subscriptions.people_names(screen.actor, [subscription.holder_contact_id,
                                                         subscription.payer_contact_id])}
    return _page(screen, "subscription.html.j2", subscription=subscription, names=names, done=screen.query("done"))


@console_route(bp, "/console/subscriptions/{subscription_id}/seat", methods=("GET", "POST"))
def change_seat(screen: Screen, subscription_id: str):
    """A subscription's seat changed for every performance still to come, in one action, all or
    nothing (``seat_changes.subscription``): one seat, typed as on the plan of the venue of its
    performances, who asked, and what happens to a price difference; a performance whose new
    seat is taken blocks the whole change, and the page names it. The form's change id makes a
    second send the same change."""
    from chalicelib.handlers.console import seat_forms
    from chalicelib.services.catalog import catalog
    from chalicelib.services.seat_changes import subscription as subscription_changes
    from chalicelib.services.subscriptions import subscriptions

    subscription = subscriptions.get_subscription(screen.actor, subscription_id)
    performances = sorted(catalog.performances_by_id(screen.actor, subscription.performance_ids).values(),
                          key=lambda performance: performance.starts_at)
    venue_ids = list(dict.fromkeys(performance.venue_id for performance in performances))
    venue_id = screen.value("venue_id", 64) or (venue_ids[0] if venue_ids else "")
    form = seat_forms.SeatForm.read(screen)
    if screen.request.method == "POST" and venue_id in venue_ids:
        done = form.send(screen, venue_id, "seat_changes:SubscriptionSeatChangeIn", lambda body: (
            subscription_changes.change_subscription_seats(screen.actor, subscription_id, body)))
        if done:
            return screen.redirect(f"/console/subscriptions/{subscription_id}?done=seat-changed")
    names = {**subscriptions.product_names(screen.actor, [subscription.product_id]),
             **subscriptions.people_names(screen.actor, [subscription.holder_contact_id])}
    venues = {venue.id: venue.name for venue in catalog.venues.list(screen.actor, limit=100, cursor=None).items
              if venue.id in venue_ids}
    return _page(screen, "subscription_seat.html.j2", status=form.status, subscription=subscription, names=names,
                 performances=performances, venues=venues, venue_id=venue_id, form=form)


@console_route(bp, "/console/subscriptions/{subscription_id}/sabbatical", methods=("GET", "POST"))
def sabbatical(screen: Screen, subscription_id: str):
    """A sabbatical, as the API's: the new season's product chosen, then what it would keep (the
    tariff, the holder's seat at each new performance: ``sabbatical.plan_sabbatical``, nothing
    written) before the confirming POST; the placeholder subscription's page after."""
    from chalicelib.services.subscriptions import sabbatical as sabbaticals
    from chalicelib.services.subscriptions import subscriptions

    subscription = subscriptions.get_subscription(screen.actor, subscription_id)
    target = screen.query("target") or screen.value("target", 64)
    if screen.request.method == "POST":
        placeholder = sabbaticals.take_sabbatical(screen.actor, subscription_id, target)
        return screen.redirect(f"/console/subscriptions/{placeholder.id}?done=sabbatical")
    plan = sabbaticals.plan_sabbatical(screen.actor, subscription_id, target) if target else None
    names = {**subscriptions.product_names(screen.actor, [subscription.product_id]),
             **subscriptions.people_names(screen.actor, [subscription.holder_contact_id])}
    return _page(screen, "subscription_sabbatical.html.j2", subscription=subscription, names=names, plan=plan,
                 targets=_next_products(screen, subscription), labels=_plan_labels(screen, plan))


def _next_products(screen: Screen, subscription) -> list:
    """The venue's other subscription products, the new season's among them (the first 200)."""
    from chalicelib.services.catalog import catalog

    return [product for product in catalog.products.list(screen.actor, limit=200, cursor=None).items
            if product.kind in BUNDLE_KINDS and product.id != subscription.product_id]


def _plan_labels(screen: Screen, plan) -> dict[str, str]:
    """The new performances' dates and the kept seats' places, for the summary."""
    from chalicelib.services.catalog import catalog

    if plan is None:
        return {}
    performances = catalog.performances_by_id(screen.actor, plan.seats.keys())
    seats = catalog.seats_by_id(screen.actor, plan.seats.values())
    return {**{pid: performance.starts_at for pid, performance in performances.items()},
            **{sid: f"{seat.block} {seat.row} {seat.number}" for sid, seat in seats.items()}}


# -- selling at the box office ------------------------------------------------------------------


@console_route(bp, "/console/subscriptions/products/{product_id}/sell", methods=("GET", "POST"))
def sell(screen: Screen, product_id: str):
    """A subscription sold at the box office: the payer found by the customer search, the holder
    (the payer, or another customer found the same way), then the API's sale fields (tariff,
    delivery mode, payment plan, means: cash, cheque or one of the payer's saved means, the
    performances when the terms say choose N). The summary (``selling.check_sale``: the sale
    checked, nothing written) comes before the confirming form, which carries a request id that
    becomes the order's: sent again, it answers the sale already made (``selling.sell_once``)."""
    from chalicelib.errors import InvalidInput, NotFound
    from chalicelib.services.catalog import catalog
    from chalicelib.services.contacts import contacts
    from chalicelib.services.shared.form_requests import new_request_id
    from chalicelib.services.subscriptions import selling, terms

    product = catalog.products.get(screen.actor, product_id)
    if product.kind not in BUNDLE_KINDS:
        raise NotFound(f"Product {product_id} is not a subscription.")
    offered = terms.terms_of(screen.actor, [product_id]).get(product_id)  # none yet: said, nothing sold
    payer_id = screen.query("payer") or screen.value("payer", 64) or None
    payer = contacts.get_contact(screen.actor, payer_id) if payer_id else None
    holders = _holders(screen, payer)
    shown = {"product": product, "terms": offered, "payer": payer, "holders": holders,
             "performances": _offered_performances(screen, offered)}
    if screen.request.method == "GET" or payer is None or offered is None:
        return _sell_form(screen, shown)
    typed = {name: screen.value(name, 64) for name in ("tariff_id", "delivery_mode", "plan_id", "means")}
    typed["performance_ids"] = screen.values("performance_id")
    draft = _sale_draft(product_id, payer.id, [holder.id for holder in holders], typed)
    try:
        body = form_body(draft, "subscriptions:SubscriptionSaleIn").model_dump()
        if screen.value("step", 10) == "confirm":
            sale, now = selling.sell_once(screen.actor, body, screen.value("request_id", 40))
            return screen.redirect(f"/console/orders/{sale.order.id}?done={'subscription-sold' if now else 'sold-before'}")
        placement = selling.check_sale(screen.actor, body)
    except InvalidInput as refused:
        errors: dict[str, str] = {}
        for error in refused.errors:
            errors.setdefault(_sale_field(error.field), screen.field_message(error))
        return _sell_form(screen, shown, status=422, typed=typed, errors=errors)
    return _page(screen, "subscription_sell_summary.html.j2", **shown, typed=typed, placement=placement,
                 instalments=selling.instalments_of(placement), request_id=new_request_id())


def _sell_form(screen: Screen, shown: dict, *, status: int = 200, typed: dict | None = None,
               errors: dict | None = None):
    """The sale's form, with its choices read now (the people found, the payer's saved means,
    the tariffs): never before a summary or a sale, which do not show them."""
    from chalicelib.services.catalog import catalog

    chosen = bool(screen.query_values("holder") or screen.values("holder"))  # else the payer, by default
    return _page(screen, "subscription_sell.html.j2", status=status, **shown, typed=typed or {}, errors=errors or {},
                 holders_query="&".join(f"holder={holder.id}" for holder in shown["holders"]) if chosen else "",
                 found=_people_found(screen), means=_payer_means(screen, shown["payer"]),
                 tariffs=catalog.tariffs.list(screen.actor, limit=100, cursor=None,
                                              product_id=shown["product"].id).items)


MAX_HOLDERS = 10  # as the API's sale takes


def _holders(screen: Screen, payer) -> list:
    """The sale's holders: those picked (``holder``, repeated, in order), else the payer; one
    left out by ``drop``. Each a subscription of the one order."""
    from chalicelib.services.contacts import contacts

    if payer is None:
        return []
    asked = screen.query_values("holder") or screen.values("holder")
    dropped = screen.query("drop")
    wanted = [holder_id for holder_id in dict.fromkeys(asked) if holder_id != dropped][:MAX_HOLDERS]
    return [contacts.get_contact(screen.actor, holder_id) for holder_id in wanted] or [payer]


def _sale_draft(product_id: str, payer_id: str, holder_ids: list[str], typed: dict) -> dict:
    """The API's sale request from the form: a saved means is chosen as ``kind:id``; the
    performances chosen (when the terms say choose N) are each holder's."""
    means, _, saved = (typed["means"] or "").partition(":")
    return {"product_id": product_id, "tariff_id": typed["tariff_id"], "payer_contact_id": payer_id,
            "delivery_mode": typed["delivery_mode"], "plan_id": typed["plan_id"], "means": means,
            "saved_means_id": saved or None,
            "subscribers": [{"holder_contact_id": holder_id, "performance_ids": typed["performance_ids"] or None}
                            for holder_id in holder_ids]}


def _sale_field(field: str) -> str:
    """A refused field of the API's sale, as the form names it."""
    if field.startswith("subscribers.") and ".performance_ids" in field:
        return "performance_ids"
    if field == "saved_means_id":
        return "means"
    return field.split(".")[0]


def _people_found(screen: Screen) -> dict[str, list]:
    """The customers the payer's and the holder's search boxes found (10 each)."""
    from chalicelib.services.contacts import search

    found = {}
    for role in ("payer", "holder"):
        asked = screen.query(f"{role}_q")
        found[role] = ([hit.contact for hit in search.search(screen.actor, asked, limit=10, cursor=None).items]
                       if asked else [])
    return found


def _payer_means(screen: Screen, payer) -> list:
    """The payer's saved means in use (cards and SEPA mandates), newest first."""
    from chalicelib.services.money import saved_means

    return saved_means.usable_means(screen.actor, payer.id) if payer is not None else []


def _offered_performances(screen: Screen, offered) -> list:
    from chalicelib.services.catalog import catalog

    if offered is None:
        return []
    found = catalog.performances_by_id(screen.actor, offered.performance_ids)
    return [found[performance_id] for performance_id in offered.performance_ids if performance_id in found]
