"""Postponement and cancellation campaigns (staff): create one, follow its customers, notify,
reset, resend, copy a customer's refund link or act for them, and diagnose delivery."""
from __future__ import annotations

from chalice import Blueprint

from chalicelib.handlers.http import staff_route

bp = Blueprint(__name__)
TAG = "campaigns"


def _campaign_fields(campaign) -> dict:
    return {**campaign.attribute_values, "id": campaign.id, "choices": sorted(campaign.choices or [])}


@staff_route(bp, "/campaigns", method="POST", body="campaigns:CampaignIn", response="campaigns:CampaignOut",
             status=201, summary="Postpone (new date) or cancel a performance: the campaign, and a job gathering "
                                 "every order holding tickets for it", tag=TAG)
def create_campaign(actor, body):
    from chalicelib.services.campaigns import campaigns

    return _campaign_fields(campaigns.create_campaign(actor, body.model_dump()))


@staff_route(bp, "/campaigns", query="common:PageQuery", response="campaigns:CampaignOut", many=True,
             summary="Campaigns, newest first", tag=TAG)
def list_campaigns(actor, query):
    from chalicelib.services.campaigns import campaigns
    from chalicelib.services.shared.paging import Page

    page = campaigns.list_campaigns(actor, limit=query.limit, cursor=query.cursor)
    return Page(items=[_campaign_fields(c) for c in page.items], next_cursor=page.next_cursor)


@staff_route(bp, "/campaigns/{campaign_id}", response="campaigns:CampaignOut", summary="One campaign", tag=TAG)
def get_campaign(actor, campaign_id):
    from chalicelib.services.campaigns import campaigns

    return _campaign_fields(campaigns.get_campaign(actor, campaign_id))


@staff_route(bp, "/campaigns/{campaign_id}", method="PATCH", body="campaigns:CampaignPatch",
             response="campaigns:CampaignOut",
             summary="Reword the campaign's notices (its mail_message), e.g. before a reset and a new notice; "
                     "checked against the mail content rules (audited)", tag=TAG)
def reword(actor, campaign_id, body):
    from chalicelib.services.campaigns import campaigns

    return _campaign_fields(campaigns.reword(actor, campaign_id, body.mail_message))


@staff_route(bp, "/campaigns/{campaign_id}/rebuild", method="POST", response="campaigns:CampaignOut",
             summary="Gather again the customers of a campaign whose build did not finish (build_stopped); keeps "
                     "those already gathered; 409 while a build runs or once ready (audited)", tag=TAG)
def rebuild(actor, campaign_id):
    from chalicelib.services.campaigns import campaigns

    return _campaign_fields(campaigns.rebuild(actor, campaign_id))


@staff_route(bp, "/campaigns/{campaign_id}/customers", query="campaigns:CustomerQuery",
             response="campaigns:CustomerOut", many=True,
             summary="A campaign's affected customers: filter by state, search by name or order number", tag=TAG)
def campaign_customers(actor, campaign_id, query):
    from chalicelib.services.campaigns import affected_customers

    return affected_customers.rows(actor, affected_customers.list_customers(actor, campaign_id, state=query.state, search=query.q,
                                                          limit=query.limit, cursor=query.cursor))


@staff_route(bp, "/affected-customers", query="campaigns:TenantCustomerQuery", response="campaigns:CustomerOut",
             many=True, summary="Affected customers across campaigns: filter by state, show, performance, "
                                "postponement or cancellation", tag=TAG)
def tenant_customers(actor, query):
    from chalicelib.services.campaigns import affected_customers

    return affected_customers.rows(actor, affected_customers.tenant_customers(
        actor, performance_id=query.performance_id, product_id=query.product_id, kind=query.kind, state=query.state,
        limit=query.limit, cursor=query.cursor))


@staff_route(bp, "/campaigns/{campaign_id}/counts", response="campaigns:CountsOut",
             summary="How many customers are in each state", tag=TAG)
def campaign_counts(actor, campaign_id):
    from chalicelib.services.campaigns import affected_customers

    return affected_customers.counts(actor, campaign_id)


@staff_route(bp, "/campaigns/{campaign_id}/notify", method="POST", body="campaigns:NotifyIn",
             response="jobs:JobOut", status=202,
             summary="Notify every not-notified customer (or the selected ones): a rate-limited job", tag=TAG)
def notify(actor, campaign_id, body):
    from chalicelib.services.campaigns import affected_customers

    return affected_customers.start_notify(actor, campaign_id, body.order_ids)


@staff_route(bp, "/campaigns/{campaign_id}/reset", method="POST", response="jobs:JobOut", status=202,
             summary="Every customer still in 'mail sent' back to 'not notified', to be notified again", tag=TAG)
def reset(actor, campaign_id):
    from chalicelib.services.campaigns import affected_customers

    return affected_customers.start_reset(actor, campaign_id)


@staff_route(bp, "/campaigns/{campaign_id}/customers/{order_id}/resend", method="POST", body="campaigns:ResendIn",
             response="campaigns:CustomerOut",
             summary="The notice again to one customer, optionally to a corrected address (audited)", tag=TAG)
def resend(actor, campaign_id, order_id, body):
    from chalicelib.services.campaigns import affected_customers
    from chalicelib.services.shared.paging import Page

    customer = affected_customers.resend(actor, campaign_id, order_id, address=body.address)
    return affected_customers.rows(actor, Page(items=[customer], next_cursor=None)).items[0]


@staff_route(bp, "/campaigns/{campaign_id}/customers/{order_id}/link", response="campaigns:LinkOut",
             summary="The customer's refund page link, to send by hand", tag=TAG)
def customer_link(actor, campaign_id, order_id):
    from chalicelib.services.campaigns import affected_customers

    return affected_customers.link_of(actor, campaign_id, order_id)


@staff_route(bp, "/campaigns/{campaign_id}/customers/{order_id}/act-for", method="POST",
             response="campaigns:LinkOut",
             summary="Open the customer's refund page as staff (valid one hour; the choice is recorded as made by "
                     "staff; audited)", tag=TAG)
def act_for(actor, campaign_id, order_id):
    from chalicelib.services.campaigns import affected_customers

    return affected_customers.act_for(actor, campaign_id, order_id)


@staff_route(bp, "/campaigns/{campaign_id}/diagnosis", query="campaigns:DiagnosisQuery",
             response="campaigns:DiagnosisOut",
             summary="Delivery diagnosis: reaction per recipient domain with an exact test against the rest, the "
                     "verdict (too early, isolated cases, general problem, a domain suspected) and what to do", tag=TAG)
def diagnosis(actor, campaign_id, query):
    from chalicelib.services.campaigns import delivery_diagnosis

    return delivery_diagnosis.diagnose(actor, campaign_id, override=query.override)
