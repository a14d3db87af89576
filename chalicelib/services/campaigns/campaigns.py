"""Postponing or cancelling a performance: the campaign, and who it affects (DOMAIN §1).

:func:`create_campaign` checks the request, changes the performance (cancelled: off sale;
postponed: its new date, status ``postponed``) and records the campaign with the audit event,
then starts the **build job** (:func:`build_customers`) that walks the performance's orders
(the ``performance`` facet of the order listings, one page per item budget) and writes one
:class:`~chalicelib.models.campaigns.AffectedCustomer` per order holding valid tickets for it,
each only if absent (a chunk run twice writes nothing twice). The job's progress is the
campaign's; the campaign turns ``ready`` when it ends. A build that could not be queued, failed or was
cancelled leaves the campaign ``build_stopped``; :func:`rebuild` starts a new build, which
keeps what the first one gathered.

**Who is affected, and when** (the rule staff can rely on):
- an order is affected if, when the build reaches it, it holds valid tickets for the
  performance; its positions are those tickets;
- an order placed after the campaign was made is not: a cancelled performance is off sale,
  and a postponed one is sold for its new date, knowingly;
- a ticket cancelled or refunded after the build stays listed but is no longer offered on the
  refund page (only tickets still valid and unsettled are); a customer left with none sees
  that nothing remains to choose.
"""
from __future__ import annotations

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock, ids
from chalicelib.errors import ConcurrentChange, Conflict, InvalidInput, NotFound
from chalicelib.models.base import connection, tenant_key
from chalicelib.models.campaigns import CHOICES, AffectedCustomer, Campaign
from chalicelib.models.catalog import Performance, Product
from chalicelib.models.orders import OrderListing, Ticket
from chalicelib.observability import logger
from chalicelib.services.jobs.framework import ChunkBudget, ChunkResult, JobFailed, job_kind, start_job
from chalicelib.services.mail.content import check_custom_message
from chalicelib.services.money.quotes import FeePolicy
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event, snapshot, write_audited
from chalicelib.services.shared.paging import Page, paged
from chalicelib.services.shared.records import get_record
from chalicelib.values.text import fold

BUILD = "campaigns.build_customers"
BUILD_PAGE = 100



def _check(request: dict, performance: Performance) -> set[str]:
    kind, now = request["kind"], clock.now()
    choices = set(request.get("choices") or (["refund", "credit", "donation"] + (["keep"] if kind == "postponement"
                                                                                  else [])))
    if kind == "postponement":
        if not request.get("new_starts_at"):
            raise InvalidInput.on("new_starts_at", "a postponement needs the new date")
        if request["new_starts_at"] <= now:
            raise InvalidInput.on("new_starts_at", "the new date must be in the future")
    elif request.get("new_starts_at") or "keep" in choices:
        raise InvalidInput.on("choices" if "keep" in choices else "new_starts_at",
                      "a cancelled performance has no new date to keep tickets for")
    if request["refund_deadline"] <= now:
        raise InvalidInput.on("refund_deadline", "the refund deadline must be in the future")
    if not choices <= set(CHOICES):
        raise InvalidInput.on("choices", f"choices are among {', '.join(CHOICES)}")
    if performance.status == "cancelled":
        raise Conflict("This performance is already cancelled.")
    return choices


def _show_name(actor: Actor, performance: Performance) -> str:
    """The name staff know an unlabelled performance by: its show's (the campaigns' list shows it)."""
    return get_record(actor, Product, performance.product_id).name


def check_request(actor: Actor, request: dict) -> tuple[Performance, set[str]]:
    """The performance and the choices of a campaign request, or what :func:`create_campaign`
    would refuse in it (the console shows what a campaign will do before it is started)."""
    performance = get_record(actor, Performance, request["performance_id"])
    choices = _check(request, performance)
    if request.get("mail_message"):
        check_custom_message(notice_template(request["kind"]), request["mail_message"])
    return performance, choices


def create_campaign(actor: Actor, request: dict) -> Campaign:
    """Postpone or cancel ``request["performance_id"]`` and start finding its customers.

    The performance's change and the campaign (with the id of its build job, known before the
    job starts) are written in one transaction, audited; then the build job is queued. If the
    queue refuses it, the campaign is ``build_stopped`` and staff :func:`rebuild` it."""
    performance, choices = check_request(actor, request)
    policy = request.get("fee_policy") or {}
    campaign = Campaign(
        tenant_id=actor.tenant_id, id=ids.new_id(), kind=request["kind"], performance_id=performance.id,
        product_id=performance.product_id, performance_label=performance.label or _show_name(actor, performance),
        original_starts_at=performance.starts_at, new_starts_at=request.get("new_starts_at"),
        refund_deadline=request["refund_deadline"], choices=choices, fee_kind=policy.get("kind", "none"),
        fee_fixed_cents=policy.get("fixed_cents", 0), fee_percent_bp=policy.get("percent_bp", 0),
        mail_message=request.get("mail_message"), status="building", build_job_id=ids.new_id(),
        created_by=actor.subject)
    before = snapshot(performance)
    performance.status = "cancelled" if campaign.kind == "cancellation" else "postponed"
    if campaign.kind == "postponement":
        performance.starts_at = campaign.new_starts_at
    performance.updated_at = clock.now()
    performance.set_index_keys()
    changed = audit_event(actor, "performance", performance.id, campaign.kind, before,
                          {**(snapshot(performance) or {}), "campaign_id": campaign.id})
    write_audited(actor, campaign, action="create", before=None, condition=Campaign.id.does_not_exist(),
                  also=[performance, changed])
    return _start_build(actor, campaign)


def _start_build(actor: Actor, campaign: Campaign) -> Campaign:
    from chalicelib.services.jobs.framework import JobNotQueued

    try:
        start_job(actor, BUILD, {"campaign_id": campaign.id}, job_id=campaign.build_job_id)
    except JobNotQueued:
        logger.warning("campaign build not queued; staff can rebuild", extra={"campaign_id": campaign.id})
        _build_stopped(campaign.tenant_id, campaign.id, campaign.build_job_id)
        campaign.refresh(consistent_read=True)
    return campaign


def rebuild(actor: Actor, campaign_id: str) -> Campaign:
    """Gather the customers of a campaign whose build did not finish (its job failed, was
    cancelled, or never queued): a new build job, audited. Customers already gathered are kept
    (each is written only if absent). 409 while a build runs or once the campaign is ready."""
    from chalicelib.services.jobs.framework import get_job

    campaign = get_campaign(actor, campaign_id)
    if campaign.status == "ready":
        raise Conflict("This campaign's customers are all gathered; there is nothing to rebuild.")
    if campaign.status == "building":
        try:
            running = not get_job(actor, campaign.build_job_id).ended
        except NotFound:
            running = False
        if running:
            raise Conflict("This campaign's customers are being gathered; follow its build job.")
    previous, before = campaign.build_job_id, snapshot(campaign)
    campaign.build_job_id, campaign.status, campaign.updated_at = ids.new_id(), "building", clock.now()
    write_audited(actor, campaign, action="rebuild", before=before, condition=Campaign.build_job_id == previous)
    return _start_build(actor, campaign)


def _build_stopped(tenant_id: str, campaign_id: str, job_id: str) -> None:
    """The campaign waits for a rebuild (only if this build is still its build)."""
    from pynamodb.exceptions import UpdateError

    try:
        Campaign(tenant_id=tenant_id, id=campaign_id).update(
            actions=[Campaign.status.set("build_stopped"), Campaign.updated_at.set(clock.now())],
            condition=(Campaign.build_job_id == job_id) & (Campaign.status == "building"),
            add_version_condition=False)
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise


def _on_build_end(job) -> None:
    """The build job ended unfinished (failed or cancelled): the campaign says so."""
    _build_stopped(job.tenant_id, (job.params or {}).get("campaign_id", ""), job.id)


def notice_template(kind: str) -> str:
    """The mail that tells a campaign's customers."""
    return "performance_cancelled" if kind == "cancellation" else "performance_postponed"


def reword(actor: Actor, campaign_id: str, mail_message: str | None) -> Campaign:
    """Change the venue's own words in the campaign's notices (audited), checked against the mail
    content rules first; the next notices (after a reset, or a resend) carry them."""
    campaign = get_campaign(actor, campaign_id)
    if mail_message:
        check_custom_message(notice_template(campaign.kind), mail_message)
    before = snapshot(campaign)
    campaign.mail_message, campaign.updated_at = mail_message or None, clock.now()
    write_audited(actor, campaign, action="reword", before=before)
    return campaign


def reopen_performance(actor: Actor, performance_id: str, reason: str) -> Performance:
    """Put a cancelled or postponed performance back on (``scheduled``; a postponed one keeps its
    new date). Its campaigns close in the same transaction: no more notices, and their refund
    pages offer nothing more and say the performance is on; choices already made stand (money
    given back stays given back). Audited, with the reason and the campaigns closed."""
    performance = get_record(actor, Performance, performance_id)
    if performance.status not in ("cancelled", "postponed"):
        raise Conflict("This performance is neither cancelled nor postponed; there is nothing to re-open.")
    closing = [campaign for campaign in Campaign.query(actor.tenant_id)
               if campaign.performance_id == performance.id and campaign.status != "closed"]
    before = snapshot(performance)
    performance.status, performance.updated_at = "scheduled", clock.now()
    events = [audit_event(actor, "performance", performance.id, "reopen", before, {
        **(snapshot(performance) or {}), "reason": reason, "campaigns_closed": [c.id for c in closing]})]
    for campaign in closing:
        was = snapshot(campaign)
        campaign.status, campaign.updated_at = "closed", clock.now()
        events.append(audit_event(actor, "campaign", campaign.id, "close", was,
                                  {**(snapshot(campaign) or {}), "reason": reason}))
    _write_reopening(performance, closing, events)
    return performance


def _write_reopening(performance: Performance, closing: list[Campaign], events: list) -> None:
    """The performance, its campaigns closed and their audit events, in one transaction."""
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(performance)  # version checked
            for campaign in closing:
                transaction.save(campaign)
            for event in events:
                transaction.save(event)
    except TransactWriteError as error:
        raise ConcurrentChange("The performance or its campaign changed meanwhile; reload and try again.") from error


def get_campaign(actor: Actor, campaign_id: str) -> Campaign:
    return get_record(actor, Campaign, campaign_id)


def list_campaigns(actor: Actor, *, limit: int, cursor: str | None) -> Page[Campaign]:
    return paged(f"campaigns:{actor.tenant_id}", cursor, lambda start: Campaign.query(
        actor.tenant_id, scan_index_forward=False, limit=limit, last_evaluated_key=start))


def fee_policy(campaign: Campaign) -> FeePolicy:
    return FeePolicy(campaign.fee_kind or "none", int(campaign.fee_fixed_cents or 0),
                     int(campaign.fee_percent_bp or 0))


def deadline_passed(campaign: Campaign) -> bool:
    return clock.now() >= campaign.refund_deadline


# -- the build job ----------------------------------------------------------------------------


def _customer_for(campaign: Campaign, listing: OrderListing) -> AffectedCustomer | None:
    from chalicelib.models.orders import Order
    from chalicelib.services.orders.orders import paid_per_ticket

    order = Order.get(campaign.tenant_id, listing.order_id, consistent_read=True)
    tickets = list(Ticket.query(tenant_key(campaign.tenant_id, order.id), consistent_read=True))
    held = [t for t in tickets if t.performance_id == campaign.performance_id and t.state == "valid"]
    if not held:
        return None
    shares = paid_per_ticket(order, tickets)
    email = order.buyer.email
    name = " ".join(part for part in (order.buyer.first_name, order.buyer.last_name) if part)
    customer = AffectedCustomer(
        campaign_key=AffectedCustomer.key_of(campaign.tenant_id, campaign.id), order_id=order.id,
        tenant_id=campaign.tenant_id, campaign_id=campaign.id, order_number=int(order.number),
        contact_id=order.buyer.contact_id, buyer_name=name, search_name=fold(f"{order.buyer.last_name} "
                                                                             f"{order.buyer.first_name or ''}"),
        email=email, email_domain=email.rsplit("@", 1)[1].lower() if email else None,
        language=order.buyer.language or "fr", positions=[int(t.position) for t in held], ticket_count=len(held),
        amount_cents=sum(shares[int(t.position)] for t in held) if order.paid else 0, paid=1 if order.paid else 0,
        payment_type=order.payment_type, updated_at=clock.now())
    customer.move_to("not_notified")
    return customer


@job_kind(BUILD, max_items=400, on_end=_on_build_end)
def build_customers(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    """One chunk of the build: the next orders of the performance's listing facet."""
    try:
        campaign = get_campaign(actor, params["campaign_id"])
    except NotFound:
        raise JobFailed("the campaign is gone") from None
    position = (cursor or {}).get("after")
    done = skipped = 0
    key = tenant_key(actor.tenant_id, "performance", campaign.performance_id)
    query = OrderListing.query(key, limit=budget.items_left, page_size=BUILD_PAGE, last_evaluated_key=position)
    for listing in query:
        if not budget.take():
            return ChunkResult(cursor={"after": position}, done=done, skipped=skipped)
        customer = None
        if listing.created_at < campaign.created_at:  # placed after the campaign: not affected (see above)
            customer = _customer_for(campaign, listing)
        if customer is None:
            skipped += 1
        else:
            _save_once(customer)
            done += 1
        position = {"facet_key": {"S": listing.facet_key}, "sort_key": {"S": listing.sort_key}}
    if query.last_evaluated_key:
        return ChunkResult(cursor={"after": query.last_evaluated_key}, done=done, skipped=skipped)
    # Only this attribute: a concurrent staff edit of the campaign's wording must not fail the build.
    campaign.update(actions=[Campaign.status.set("ready"), Campaign.updated_at.set(clock.now())],
                    add_version_condition=False)
    return ChunkResult(cursor=None, done=done, skipped=skipped)


def _save_once(customer: AffectedCustomer) -> None:
    from pynamodb.exceptions import PutError

    try:
        customer.save(condition=AffectedCustomer.order_id.does_not_exist())
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise

