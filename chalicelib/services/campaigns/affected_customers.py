"""The customers of a campaign: listing them, telling them, and following what they did.

**Listing** (:func:`list_customers`): a campaign's customers in one state (one Query on the
sparse ``by_state`` index; the not notified, whom it leaves out, one page of the campaign's
partition per request) or all of them (the campaign's partition), by order; a name search reads
one page of the partition per request and keeps the matches (the cursor goes on), an order
number is one GetItem. :func:`tenant_customers` lists across the campaigns matching show,
performance and kind filters, campaign after campaign, under one cursor. Each row carries the
delivery facts of its last notice (its notification, read by key for the page).

**Telling** (:func:`start_notify`): a job walks the campaign's partition for its
``not_notified`` customers (or takes the selected ones) and sends each the notice with their refund link, through the mail
pipeline (rate-limited by its shared pacer). The mail's idempotency key names the campaign,
the order and the customer's ``notify_round``, and the move to ``mail_sent`` is conditioned
on the state, so a chunk run twice neither mails twice nor moves anything twice.

**Reset** (:func:`start_reset`): every customer still in ``mail_sent`` goes back to
``not_notified`` with ``notify_round`` + 1, so the next notice is a new mail (typically
reworded). **Resend** (:func:`resend`) does the same for one customer, optionally to a
corrected address, at once.
"""
from __future__ import annotations

from dataclasses import dataclass

from chalicelib.adapters import clock, ids
from chalicelib.config import settings
from chalicelib.errors import Conflict, FieldError, InvalidInput, NotFound
from chalicelib.models.campaigns import CUSTOMER_STATES, STATE_LABELS_FR, UNTOLD, AffectedCustomer, Campaign
from chalicelib.models.mail import Notification
from chalicelib.observability import logger
from chalicelib.services.campaigns.campaigns import get_campaign, notice_template
from chalicelib.services.jobs.framework import ChunkBudget, ChunkResult, JobFailed, job_kind, start_job
from chalicelib.services.mail import recipients
from chalicelib.services.mail import sending as mail
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import record_action
from chalicelib.services.shared.paging import Page, paged, paged_by_reads
from chalicelib.values.text import fold, number_in

NOTIFY, RESET = "campaigns.notify", "campaigns.reset"


class AddressUndeliverable(Conflict):
    kind = "address-undeliverable"
    title = "This address is known to bounce"
    title_fr = "Les messages envoyés à cette adresse reviennent"
MAX_SELECTED = 500


def get_customer(actor: Actor, campaign_id: str, order_id: str) -> AffectedCustomer:
    if not ids.is_id(campaign_id) or not ids.is_id(order_id):
        raise NotFound("No such affected customer.")
    try:
        return AffectedCustomer.get(AffectedCustomer.key_of(actor.tenant_id, campaign_id), order_id,
                                    consistent_read=True)
    except AffectedCustomer.DoesNotExist:
        raise NotFound("No such affected customer.") from None


# -- listing ----------------------------------------------------------------------------------


def list_customers(actor: Actor, campaign_id: str, *, state: str | None = None, search: str | None = None,
                   limit: int, cursor: str | None) -> Page[AffectedCustomer]:
    get_campaign(actor, campaign_id)
    key = AffectedCustomer.key_of(actor.tenant_id, campaign_id)
    if number_in(search) is not None:
        return _by_number(actor, campaign_id, number_in(search))
    if search and ids.is_id(search.strip().upper()):  # an order's id
        return _by_order(actor, campaign_id, search.strip().upper())
    if search:
        folded = fold(search)
        matching = None
        for word in folded.split():  # every word, in any order: "claire petit" finds Petit Claire
            matching = AffectedCustomer.search_name.contains(word) if matching is None else \
                matching & AffectedCustomer.search_name.contains(word)
        if state:
            matching &= AffectedCustomer.state == state
        return paged_by_reads(f"affected-search:{key}:{folded}:{state}", cursor, lambda start: AffectedCustomer.query(
            key, filter_condition=matching, limit=limit, last_evaluated_key=start), AffectedCustomer)
    if state == UNTOLD:  # not in the sparse index: the partition, a page of reads per request
        return paged_by_reads(f"affected-untold:{key}", cursor, lambda start: AffectedCustomer.query(
            key, filter_condition=AffectedCustomer.state == UNTOLD, limit=limit, last_evaluated_key=start),
            AffectedCustomer)
    if state:
        state_key = AffectedCustomer.state_key_of(actor.tenant_id, campaign_id, state)
        return paged(f"affected-state:{state_key}", cursor, lambda start: AffectedCustomer.by_state.query(
            state_key, limit=limit, last_evaluated_key=start))
    return paged(f"affected:{key}", cursor, lambda start: AffectedCustomer.query(
        key, limit=limit, last_evaluated_key=start))


def _by_order(actor: Actor, campaign_id: str, order_id: str) -> Page[AffectedCustomer]:
    try:
        return Page(items=[get_customer(actor, campaign_id, order_id)], next_cursor=None)
    except NotFound:
        return Page(items=[], next_cursor=None)


def _by_number(actor: Actor, campaign_id: str, number: int) -> Page[AffectedCustomer]:
    from chalicelib.services.orders.listing import search_orders

    found = search_orders(actor, str(number), limit=1, cursor=None).items
    customers = []
    if found:
        try:
            customers = [get_customer(actor, campaign_id, found[0].order_id)]
        except NotFound:
            pass
    return Page(items=customers, next_cursor=None)


def counts(actor: Actor, campaign_id: str) -> dict[str, int]:
    """How many customers are in each state: one walk of the campaign's partition (the index
    leaves the not notified out; it would read the same items for the others)."""
    get_campaign(actor, campaign_id)
    tally = dict.fromkeys(CUSTOMER_STATES, 0)
    for customer in AffectedCustomer.query(AffectedCustomer.key_of(actor.tenant_id, campaign_id),
                                           attributes_to_get=["state"]):
        tally[customer.state] += 1
    return tally


def delivery_of(customers: list[AffectedCustomer]) -> dict[str, Notification]:
    """The last notice of each customer, by notification id, read by key."""
    keys = [(customer.tenant_id, customer.notification_id) for customer in customers if customer.notification_id]
    return {notice.id: notice for notice in Notification.batch_get(keys)} if keys else {}


def tenant_customers(actor: Actor, *, performance_id: str | None, product_id: str | None, kind: str | None,
                     state: str | None, limit: int, cursor: str | None) -> Page[AffectedCustomer]:
    """Customers across the campaigns matching the filters, campaign after campaign (a filter
    naming a performance or show the tenant does not have is a 422)."""
    from chalicelib.models.catalog import Performance, Product
    from chalicelib.services.shared.paging import invalid_cursor, open_place, sign_place
    from chalicelib.services.shared.records import require_reference

    if performance_id:
        require_reference(actor, Performance, performance_id, "performance_id")
    if product_id:
        require_reference(actor, Product, product_id, "product_id")

    matching = [campaign.id for campaign in Campaign.query(actor.tenant_id, scan_index_forward=False)
                if (not performance_id or campaign.performance_id == performance_id)
                and (not product_id or campaign.product_id == product_id) and (not kind or campaign.kind == kind)]
    scope = f"affected-all:{actor.tenant_id}:{performance_id}:{product_id}:{kind}:{state}"
    place = open_place(scope, cursor) if cursor else {"c": 0, "in": None}
    index, inner = place.get("c"), place.get("in")
    if not isinstance(index, int) or index < 0 or not (inner is None or isinstance(inner, str)):
        raise invalid_cursor()
    items: list[AffectedCustomer] = []
    while index < len(matching) and len(items) < limit:
        page = list_customers(actor, matching[index], state=state, limit=limit - len(items), cursor=inner)
        items += page.items
        index, inner = (index, page.next_cursor) if page.next_cursor else (index + 1, None)
    following = sign_place(scope, {"c": index, "in": inner}) if index < len(matching) else None
    return Page(items=items, next_cursor=following)


def rows(actor: Actor, page: Page[AffectedCustomer]) -> Page[dict]:
    """Customer rows as staff see them: each with its campaign's columns, its refund link and
    its last notice's delivery facts (each campaign read once per page)."""
    from chalicelib.services.campaigns.campaigns import deadline_passed

    found: dict[str, Campaign] = {}
    notices = delivery_of(page.items)
    shown = []
    for customer in page.items:
        campaign = found.get(customer.campaign_id) or get_campaign(actor, customer.campaign_id)
        found[customer.campaign_id] = campaign
        notice = notices.get(customer.notification_id or "")
        shown.append({
            **customer.attribute_values, "state_label": STATE_LABELS_FR[customer.state],
            "delivery": notice.status if notice else None, "delivery_at": notice.status_at if notice else None,
            "delivery_detail": (notice.timeline[-1].detail if notice and notice.timeline else None),
            "kind": campaign.kind, "show_id": campaign.product_id, "performance_id": campaign.performance_id,
            "performance_starts_at": campaign.original_starts_at, "refund_deadline": campaign.refund_deadline,
            "deadline_passed": deadline_passed(campaign), "refund_url": refund_link(campaign, customer)})
    return Page(items=shown, next_cursor=page.next_cursor)


# -- telling ----------------------------------------------------------------------------------


def refund_link(campaign: Campaign, customer: AffectedCustomer) -> str:
    from chalicelib.services.campaigns import refund_links

    return f"{settings.public_base_url}/p/refund/{refund_links.customer_token(campaign, customer.order_id)}"


def link_of(actor: Actor, campaign_id: str, order_id: str) -> dict:
    """The customer's refund page link, for staff to send by hand, and until when it works."""
    from chalicelib.services.campaigns.refund_links import LINK_GRACE

    campaign = get_campaign(actor, campaign_id)
    return {"url": refund_link(campaign, get_customer(actor, campaign_id, order_id)),
            "expires_at": campaign.refund_deadline + LINK_GRACE}


def act_for(actor: Actor, campaign_id: str, order_id: str) -> dict:
    """The customer's refund page opened by staff for them: the link with a one-hour grant naming
    the staff member (audited), and when it ends."""
    from chalicelib.services.campaigns import refund_links

    link = link_of(actor, campaign_id, order_id)["url"]
    address = refund_links.PageAddress(actor.tenant_id, campaign_id, order_id)
    record_action(actor, "campaign_customer", f"{campaign_id}.{order_id}", "act-for", {"by": actor.subject})
    return {"url": f"{link}?staff={refund_links.staff_grant(address, actor.subject)}",
            "expires_at": clock.now() + refund_links.STAFF_GRANT}


@dataclass(frozen=True)
class NoticeSetting:
    """What every notice of a campaign says about the show, read once per chunk."""

    venue_name: str
    show_name: str
    zone: str

    @classmethod
    def of(cls, actor: Actor, campaign: Campaign) -> "NoticeSetting":
        from chalicelib.models.catalog import Performance, Product, Venue
        from chalicelib.services.shared.records import get_record

        venue = get_record(actor, Venue, get_record(actor, Performance, campaign.performance_id).venue_id)
        return cls(venue.name, get_record(actor, Product, campaign.product_id).name, venue.timezone or "Europe/Paris")


def _notice(campaign: Campaign, customer: AffectedCustomer, setting: NoticeSetting) -> mail.MailRequest:
    from chalicelib.values import formatting

    language = customer.language or "fr"
    context = {
        "first_name": customer.buyer_name.split(" ")[0] if customer.buyer_name else "",
        "venue_name": setting.venue_name, "show_name": setting.show_name, "order_number": str(customer.order_number),
        "ticket_count": customer.ticket_count,
        "performance_date": formatting.datetime_text(campaign.original_starts_at, setting.zone, language),
        "refund_deadline": formatting.date_text(campaign.refund_deadline, setting.zone, language)}
    if campaign.new_starts_at:
        context["new_performance_date"] = formatting.datetime_text(campaign.new_starts_at, setting.zone, language)
    return mail.MailRequest(
        template=notice_template(campaign.kind), language=language,
        recipient=customer.email, concerns_type="campaign_customer", concerns_id=f"{campaign.id}.{customer.order_id}",
        sender_name=setting.venue_name, context=context, contact_id=customer.contact_id, campaign_id=campaign.id,
        action_url=refund_link(campaign, customer), custom_message=campaign.mail_message,
        idempotency_key=f"campaign:{campaign.id}:{customer.order_id}:notify:{int(customer.notify_round or 0)}")


def notify_one(actor: Actor, campaign: Campaign, customer: AffectedCustomer,
               setting: NoticeSetting | None = None) -> str:
    """Send the notice and move the customer to ``mail_sent``: ``done``, ``skipped``,
    ``suppressed`` (the address is known to bounce, or complained) or ``failed``. A notice that
    did not go still names its notification on the customer, so the row shows why."""
    if customer.state != "not_notified":
        return "skipped"
    if not customer.email:
        return "failed"
    sent = mail.send_mail(actor, _notice(campaign, customer, setting or NoticeSetting.of(actor, campaign)))
    outcome = {"failed": "failed", "rejected": "failed", "suppressed": "suppressed"}.get(sent.status, "done")
    if not _note_notice(customer, sent.id, moved=outcome == "done"):
        return "skipped"  # another run (or a reset, a resend) moved the customer meanwhile
    return outcome


def _note_notice(customer: AffectedCustomer, notification_id: str, *, moved: bool) -> bool:
    """One UpdateItem: the customer's last notice (and ``mail_sent`` when it went), on condition
    the customer is still not notified in the same notify round (the row the job read is an
    eventually consistent copy, maybe a little behind)."""
    from pynamodb.exceptions import UpdateError

    now = clock.now()
    actions = [AffectedCustomer.notification_id.set(notification_id), AffectedCustomer.updated_at.set(now)]
    if moved:
        actions += [AffectedCustomer.state.set("mail_sent"), AffectedCustomer.notified_at.set(now),
                    AffectedCustomer.state_key.set(AffectedCustomer.state_key_of(customer.tenant_id,
                                                                                 customer.campaign_id, "mail_sent"))]
    condition = (AffectedCustomer.state == "not_notified") & (
        AffectedCustomer.notify_round == int(customer.notify_round or 0))
    try:
        customer.update(actions=actions, condition=condition)
        return True
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False


def save_if_state(customer: AffectedCustomer, expected: str) -> bool:
    """Write the customer if it is still in ``expected`` (another run may have moved it)."""
    from pynamodb.exceptions import PutError

    try:
        customer.save(condition=AffectedCustomer.state == expected)
        return True
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        return False


def record_choice(customer: AffectedCustomer, *, choice: str, reference: str | None, chosen_by: str) -> bool:
    """Move the customer to ``made_choices`` with the choice, the reference of the money movement
    that carries it, and who chose: one UpdateItem of those attributes only, conditioned on no
    choice recorded yet (a visit or a resend landing meanwhile cannot make it lost). ``False``
    if a choice was already recorded; ``customer`` is refreshed either way."""
    from pynamodb.exceptions import UpdateError

    now = clock.now()
    actions = [AffectedCustomer.state.set("made_choices"),
               AffectedCustomer.state_key.set(AffectedCustomer.state_key_of(customer.tenant_id, customer.campaign_id,
                                                                            "made_choices")),
               AffectedCustomer.choice.set(choice), AffectedCustomer.chosen_by.set(chosen_by),
               AffectedCustomer.chosen_at.set(now), AffectedCustomer.updated_at.set(now)]
    if reference:
        actions.append(AffectedCustomer.choice_reference.set(reference))
    try:
        customer.update(actions=actions, condition=AffectedCustomer.order_id.exists()
                        & AffectedCustomer.choice.does_not_exist())
        return True
    except UpdateError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        customer.refresh(consistent_read=True)
        return False


def start_notify(actor: Actor, campaign_id: str, order_ids: list[str] | None = None):
    campaign = get_campaign(actor, campaign_id)
    if campaign.status == "closed":
        raise Conflict("This campaign is closed: its performance was put back on.")
    if campaign.status != "ready":
        raise Conflict("The campaign's customers are still being gathered; notify them when it is ready.")
    if order_ids is not None and len(order_ids) > MAX_SELECTED:
        raise InvalidInput(f"At most {MAX_SELECTED} selected customers at once; notify all not notified instead.",
                           errors=[FieldError("order_ids", f"at most {MAX_SELECTED}")])
    if order_ids:
        _refuse_unknown(actor, campaign_id, order_ids)
    params = {"campaign_id": campaign_id, **({"order_ids": order_ids} if order_ids is not None else {})}
    return start_job(actor, NOTIFY, params)


def _refuse_unknown(actor: Actor, campaign_id: str, order_ids: list[str]) -> None:
    """422 naming each selected order that is not a customer of the campaign (nothing started)."""
    key = AffectedCustomer.key_of(actor.tenant_id, campaign_id)
    known = {customer.order_id for customer in AffectedCustomer.batch_get([(key, order_id) for order_id in
                                                                           set(order_ids)])}
    unknown = [index for index, order_id in enumerate(order_ids) if order_id not in known]
    if unknown:
        raise InvalidInput("Some selected orders are not customers of this campaign; nobody was notified.",
                           errors=[FieldError(f"order_ids.{index}", "not a customer of this campaign")
                                   for index in unknown])


def _campaign_of(actor: Actor, params: dict) -> Campaign:
    try:
        return get_campaign(actor, params["campaign_id"])
    except NotFound:
        raise JobFailed("the campaign is gone") from None


def _in_state(actor: Actor, campaign_id: str, state: str, after: dict | None, limit: int):
    """The campaign's customers in ``state``, by order id, after the key ``after``."""
    if state == UNTOLD:
        return AffectedCustomer.query(AffectedCustomer.key_of(actor.tenant_id, campaign_id),
                                      filter_condition=AffectedCustomer.state == UNTOLD, limit=limit,
                                      last_evaluated_key=after)
    return AffectedCustomer.by_state.query(AffectedCustomer.state_key_of(actor.tenant_id, campaign_id, state),
                                           limit=limit, last_evaluated_key=after)


@job_kind(NOTIFY, max_items=200)
def notify(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    campaign = _campaign_of(actor, params)
    setting = NoticeSetting.of(actor, campaign)
    outcomes: list[str] = []
    if "order_ids" in params:
        start = (cursor or {}).get("next", 0)
        position = start
        while position < len(params["order_ids"]) and budget.take():
            try:
                customer = get_customer(actor, campaign.id, params["order_ids"][position])
                outcomes.append(notify_one(actor, campaign, customer, setting))
            except NotFound:
                outcomes.append("skipped")
            position += 1
        following = {"next": position} if position < len(params["order_ids"]) else None
        return ChunkResult(cursor=following, total=len(params["order_ids"]), **_tally(outcomes))
    # The partition in order-id order: the cursor passes over those told and those that failed.
    after = (cursor or {}).get("after")
    query = _in_state(actor, campaign.id, UNTOLD, after, budget.items_left)
    for listed in query:
        if not budget.take():
            break
        after = {"order_id": {"S": listed.order_id}, "campaign_key": {"S": listed.campaign_key}}
        outcomes.append(notify_one(actor, campaign, listed, setting))
    more = query.last_evaluated_key is not None or budget.items_left == 0
    return ChunkResult(cursor={"after": after} if more else None, **_tally(outcomes))


def _tally(outcomes: list[str]) -> dict:
    """The chunk's counts: a suppressed notice is not done, and is counted apart from failures."""
    suppressed = outcomes.count("suppressed")
    return {"done": outcomes.count("done"), "skipped": outcomes.count("skipped") + suppressed,
            "failed": outcomes.count("failed"), "outcomes": {"suppressed": suppressed} if suppressed else {}}


def start_reset(actor: Actor, campaign_id: str):
    get_campaign(actor, campaign_id)
    return start_job(actor, RESET, {"campaign_id": campaign_id})


@job_kind(RESET, max_items=500)
def reset(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    """Every customer still in ``mail_sent`` back to ``not_notified`` (they leave the partition walked)."""
    campaign = _campaign_of(actor, params)
    done = skipped = 0
    for listed in _in_state(actor, campaign.id, "mail_sent", None, budget.items_left):
        if not budget.take():
            break
        customer = get_customer(actor, campaign.id, listed.order_id)
        customer.move_to("not_notified")
        customer.notify_round, customer.updated_at = int(customer.notify_round or 0) + 1, clock.now()
        if save_if_state(customer, "mail_sent"):
            done += 1
        else:
            skipped += 1
    left = AffectedCustomer.by_state.count(AffectedCustomer.state_key_of(actor.tenant_id, campaign.id, "mail_sent"),
                                           limit=1)
    return ChunkResult(cursor={} if left else None, done=done, skipped=skipped)


def resend(actor: Actor, campaign_id: str, order_id: str, *, address: str | None = None) -> AffectedCustomer:
    """The notice again to one customer, to ``address`` if given (checked, audited)."""
    campaign = get_campaign(actor, campaign_id)
    customer = get_customer(actor, campaign_id, order_id)
    if campaign.status == "closed":
        raise Conflict("This campaign is closed: its performance was put back on.")
    if customer.state == "made_choices":
        raise Conflict("This customer has already made their choice.")
    target = mail.checked_address(address, "address") if address else customer.email
    if not target:
        raise InvalidInput("This customer has no mail address: give one.", errors=[FieldError("address", "required")])
    blocked = recipients.blocked_reason(actor.tenant_id, target, essential=True)
    if blocked:
        raise AddressUndeliverable(f"{target}: {blocked}. Nothing was sent; resend with a corrected address.",
                                   errors=[FieldError("address", "known to bounce: give a corrected address")])
    before = {"email": customer.email, "state": customer.state, "notify_round": int(customer.notify_round or 0)}
    if address:
        customer.email = target
        customer.email_domain = customer.email.rsplit("@", 1)[1]
    previous = customer.state
    customer.move_to("not_notified")
    customer.notify_round, customer.updated_at = int(customer.notify_round or 0) + 1, clock.now()
    if not save_if_state(customer, previous):
        raise Conflict("The customer changed meanwhile; reload and try again.")
    record_action(actor, "campaign_customer", f"{campaign_id}.{order_id}", "resend",
                  {"before": before, "email": customer.email})
    outcome = notify_one(actor, campaign, customer)
    if outcome != "done":
        logger.warning("campaign notice not sent", extra={"campaign_id": campaign_id, "order_id": order_id})
    return get_customer(actor, campaign_id, order_id)


def forget_buyer(actor: Actor, order_ids: list[str]) -> int:
    """Erasure: the rows of these orders in every campaign lose the buyer's name and address (the
    e-mail's domain stays for the delivery figures); how many rows."""
    from chalicelib.models.campaigns import Campaign

    forgotten = 0
    for campaign in Campaign.query(actor.tenant_id):
        for order_id in order_ids:
            try:
                row = AffectedCustomer.get(AffectedCustomer.key_of(actor.tenant_id, campaign.id), order_id,
                                           consistent_read=True)
            except AffectedCustomer.DoesNotExist:
                continue
            row.update(actions=[AffectedCustomer.buyer_name.set("Client effacé"),
                                AffectedCustomer.search_name.set("client efface"), AffectedCustomer.email.remove()])
            forgotten += 1
    return forgotten