"""Campaign screens: the campaigns of the venue; postponing or cancelling a performance (the
form, then what it will do, then the campaign); a campaign's affected customers (the columns of a
postponement or cancellation, filters by state, search, counts per state, the reset of those who
received the mail without reacting, notify all or the selected ones); one customer (refund link,
act for them, resend to a corrected address); the delivery diagnosis per domain.

The inputs are read with the API's own schemas, and every action is the API's service call."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.console.frame import PAGE_SIZE, Screen, console_route, form_body, paging_link

bp = Blueprint(__name__)
STATES = ("not_notified", "mail_sent", "mail_read", "made_choices")


@console_route(bp, "/console/campaigns")
def campaigns_list(screen: Screen):
    from chalicelib.services.campaigns import campaigns

    page = campaigns.list_campaigns(screen.actor, limit=PAGE_SIZE, cursor=screen.query("cursor"))
    return screen.page("campaigns.html.j2", campaigns=page.items, next_link=paging_link(screen, page.next_cursor))


CAMPAIGN_FIELDS = ("performance_id", "kind", "new_starts_at", "refund_deadline", "fee_kind", "fee_fixed",
                   "fee_percent", "mail_message")
FORM_NAMES = {"fee_policy.kind": "fee_kind", "fee_policy.fixed_cents": "fee_fixed",
              "fee_policy.percent_bp": "fee_percent"}  # the API's field, as the form names it


def _upcoming_performances(screen: Screen) -> list:
    from chalicelib.services.catalog import catalog

    return catalog.upcoming_performances(screen.actor, limit=100)


def _campaign_request(screen: Screen):
    """The form as the API's ``CampaignIn``: local date-times in the venue's zone, euros in cents."""
    fee_kind = screen.value("fee_kind") or "none"
    request = {
        "performance_id": screen.value("performance_id"), "kind": screen.value("kind"),
        "new_starts_at": screen.moment("new_starts_at"), "refund_deadline": screen.moment("refund_deadline"),
        "choices": screen.values("choices") or None, "mail_message": screen.value("mail_message", 2000) or None,
        "fee_policy": {"kind": fee_kind,
                       "fixed_cents": screen.hundredths("fee_fixed") if fee_kind == "fixed" else 0,
                       "percent_bp": screen.hundredths("fee_percent") if fee_kind == "percent" else 0},
    }
    return form_body({name: value for name, value in request.items() if value is not None}, "campaigns:CampaignIn")


@console_route(bp, "/console/campaigns/new", methods=("GET", "POST"))
def new_campaign(screen: Screen):
    """Postpone or cancel: the form, then (POST) what it will do, then (POST again) done."""
    from chalicelib.errors import InvalidInput
    from chalicelib.services.campaigns import campaigns

    typed = {name: screen.value(name, 2000) for name in CAMPAIGN_FIELDS}
    if screen.request.method == "GET":
        return screen.page("campaign_new.html.j2", performances=_upcoming_performances(screen), errors={},
                           typed={**typed, "performance_id": screen.query("performance_id") or ""}, choices=[])
    try:
        request = _campaign_request(screen)
        performance, choices = campaigns.check_request(screen.actor, request.model_dump())
    except InvalidInput as refused:  # the form again, the typed values kept, each error by its field
        return screen.page("campaign_new.html.j2", status=422, performances=_upcoming_performances(screen),
                           typed=typed, choices=screen.values("choices"),
                           errors={FORM_NAMES.get(error.field, error.field): screen.field_message(error)
                                   for error in refused.errors})
    if screen.value("step") != "confirm":
        from chalicelib.services.catalog import catalog

        return screen.page("campaign_review.html.j2", request=request, performance=performance, typed=typed,
                           choices=sorted(choices),
                           show_name=performance.label or catalog.products.get(screen.actor, performance.product_id).name)
    campaign = campaigns.create_campaign(screen.actor, request.model_dump())
    return screen.redirect(f"/console/campaigns/{campaign.id}")


@console_route(bp, "/console/campaigns/{campaign_id}")
def campaign_view(screen: Screen, campaign_id: str):
    from chalicelib.handlers.http import parse_query
    from chalicelib.services.campaigns import affected_customers, campaigns

    campaign = campaigns.get_campaign(screen.actor, campaign_id)
    asked = {name: value for name in ("state", "q", "cursor") if (value := screen.query(name))}
    query = parse_query({**asked, "limit": str(PAGE_SIZE)}, "campaigns:CustomerQuery")
    page = affected_customers.rows(screen.actor, affected_customers.list_customers(
        screen.actor, campaign_id, state=query.state, search=query.q, limit=query.limit, cursor=query.cursor))
    return screen.page("campaign.html.j2", campaign=campaign, customers=page.items, states=STATES,
                       reworded=screen.query("reworded") == "1",
                       counts=affected_customers.counts(screen.actor, campaign_id), state=query.state, q=query.q,
                       next_link=paging_link(screen, page.next_cursor))


@console_route(bp, "/console/campaigns/{campaign_id}/notify", methods=("POST",))
def notify(screen: Screen, campaign_id: str):
    from chalicelib.errors import InvalidInput
    from chalicelib.services.campaigns import affected_customers

    selected = screen.values("order_id") if screen.value("scope") == "selected" else None
    if selected == []:
        raise InvalidInput.on("order_id", screen.say("Cochez au moins un client, ou choisissez tous les clients non "
                                                     "prévenus.", "Tick at least one customer, or choose every "
                                                                  "customer not notified."))
    job = affected_customers.start_notify(screen.actor, campaign_id, selected)
    return screen.redirect(f"/console/jobs/{job.id}")


@console_route(bp, "/console/campaigns/{campaign_id}/reword", methods=("POST",))
def reword(screen: Screen, campaign_id: str):
    """The venue's own words in the next notices (after a reset, or a resend)."""
    from chalicelib.services.campaigns import campaigns

    body = form_body({"mail_message": screen.value("mail_message", 4000) or None}, "campaigns:CampaignPatch")
    campaigns.reword(screen.actor, campaign_id, body.mail_message)
    return screen.redirect(f"/console/campaigns/{campaign_id}?reworded=1")


@console_route(bp, "/console/campaigns/{campaign_id}/reset", methods=("POST",))
def reset(screen: Screen, campaign_id: str):
    from chalicelib.services.campaigns import affected_customers

    job = affected_customers.start_reset(screen.actor, campaign_id)
    return screen.redirect(f"/console/jobs/{job.id}")


@console_route(bp, "/console/campaigns/{campaign_id}/customers/{order_id}")
def customer_view(screen: Screen, campaign_id: str, order_id: str):
    from chalicelib.services.campaigns import affected_customers, campaigns
    from chalicelib.services.shared.paging import Page

    customer = affected_customers.get_customer(screen.actor, campaign_id, order_id)
    [row] = affected_customers.rows(screen.actor, Page(items=[customer], next_cursor=None)).items
    return screen.page("campaign_customer.html.j2", campaign=campaigns.get_campaign(screen.actor, campaign_id),
                       customer=row, resent=screen.query("resent") == "1", acting=None)


@console_route(bp, "/console/campaigns/{campaign_id}/customers/{order_id}/resend", methods=("POST",))
def resend(screen: Screen, campaign_id: str, order_id: str):
    from chalicelib.services.campaigns import affected_customers

    typed = screen.value("address", 254)
    body = form_body({"address": typed} if typed else {}, "campaigns:ResendIn")
    affected_customers.resend(screen.actor, campaign_id, order_id, address=body.address)
    return screen.redirect(f"/console/campaigns/{campaign_id}/customers/{order_id}?resent=1")


@console_route(bp, "/console/campaigns/{campaign_id}/customers/{order_id}/act-for", methods=("POST",))
def act_for(screen: Screen, campaign_id: str, order_id: str):
    from chalicelib.services.campaigns import affected_customers, campaigns
    from chalicelib.services.shared.paging import Page

    acting = affected_customers.act_for(screen.actor, campaign_id, order_id)
    customer = affected_customers.get_customer(screen.actor, campaign_id, order_id)
    [row] = affected_customers.rows(screen.actor, Page(items=[customer], next_cursor=None)).items
    return screen.page("campaign_customer.html.j2", campaign=campaigns.get_campaign(screen.actor, campaign_id),
                       customer=row, resent=False, acting=acting)


@console_route(bp, "/console/campaigns/{campaign_id}/diagnosis")
def diagnosis(screen: Screen, campaign_id: str):
    from chalicelib.services.campaigns import campaigns, delivery_diagnosis

    campaign = campaigns.get_campaign(screen.actor, campaign_id)
    return screen.page("diagnosis.html.j2", campaign=campaign,
                       diagnosis=delivery_diagnosis.diagnose(screen.actor, campaign_id))

