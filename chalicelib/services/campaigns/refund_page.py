"""What the refund page shows a spectator, and what their choice does (DOMAIN §1).

:func:`page_for` gathers the page: the campaign, the customer, their order, the tickets still
offered (the customer's tickets for that performance that are still valid and unsettled),
what each choice would give (the campaign's fee policy for a refund; credit and donation are
the full amount), whether the deadline passed, and the choice already made.

**Visits** (:func:`note_visit`): the first real visit moves the customer to ``mail_read``.
Not a read: a HEAD request, a known link scanner's user agent (mail security gateways open
every link of every mail, often in a headless browser), a hit within :data:`SCANNER_WINDOW`
of the notice being sent, and staff acting for the customer. A visit never moves money.

**Choosing** (:func:`choose`), before the deadline, once: a refund goes through the refunds
service (card: to the card through Stripe; otherwise offline to the IBAN the spectator
gives, required and checked); credit and donation through the customer's record; keeping
(a postponement) leaves the tickets valid for the new date. The money services settle each
ticket once, so a second submit (a double click, a second tab) moves no money: it finds the
tickets settled and shows the choice already made. The customer then moves to
``made_choices`` with who chose (the spectator, or the staff member acting for them).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from chalicelib.adapters import clock
from chalicelib.errors import Conflict, FieldError, InvalidInput
from chalicelib.models.campaigns import AffectedCustomer, Campaign
from chalicelib.models.orders import Order, Ticket
from chalicelib.services.campaigns import affected_customers, campaigns
from chalicelib.services.campaigns.refund_links import PageAddress
from chalicelib.services.orders import orders
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import record_action

SCANNER_WINDOW = timedelta(seconds=30)
SCANNER_AGENTS = ("bot", "spider", "crawl", "preview", "scan", "headlesschrome", "phantomjs", "python-requests",
                  "curl/", "wget/", "go-http-client", "java/", "okhttp", "barracuda", "mimecast", "proofpoint",
                  "safelinks", "urldefense", "ms office", "microsoft office", "outlook-ios", "googleimageproxy",
                  "yahoomailproxy", "symantec", "trendmicro", "sophos", "fortinet", "checkpoint", "cisco")


class DeadlinePassed(Conflict):
    kind = "deadline-passed"
    title = "The refund deadline has passed"


@dataclass
class RefundPage:
    campaign: Campaign
    customer: AffectedCustomer
    order: Order
    tickets: list[Ticket]  # all the order's tickets, as read for this page
    offered: list[Ticket]
    amounts: dict[str, int] = field(default_factory=dict)  # what each money choice gives
    refund_means: str = "offline"

    @property
    def deadline_passed(self) -> bool:
        return campaigns.deadline_passed(self.campaign)

    @property
    def choices(self) -> list[str]:
        """What can be chosen now, in the campaign's order of preference."""
        if self.customer.choice or self.deadline_passed or not self.offered:
            return []
        possible = ["refund", "credit", "donation"] if self.order.paid else []
        if self.campaign.kind == "postponement":
            possible.append("keep")
        return [choice for choice in ("keep", "refund", "credit", "donation")
                if choice in possible and choice in self.campaign.choices]


def page_for(address: PageAddress) -> RefundPage:
    from chalicelib.services.money.quotes import means_of

    actor = Actor.system(address.tenant_id, "refund-page")
    campaign = campaigns.get_campaign(actor, address.campaign_id)
    customer = affected_customers.get_customer(actor, address.campaign_id, address.order_id)
    order = orders.get_order(actor, address.order_id)
    tickets = orders.tickets_of(order)
    offered = [t for t in tickets if int(t.position) in set(customer.positions or [])
               and t.state == "valid" and not t.settlement]
    page = RefundPage(campaign, customer, order, tickets, offered, refund_means=means_of(order))
    if order.paid and offered:
        shares = orders.paid_per_ticket(order, tickets)
        full = sum(shares[int(t.position)] for t in offered)
        policy = campaigns.fee_policy(campaign)
        page.amounts = {"refund": sum(shares[int(t.position)] - policy.kept(shares[int(t.position)]) for t in offered),
                        "credit": full, "donation": full}
    return page


def is_scanner(method: str, user_agent: str | None) -> bool:
    agent = (user_agent or "").lower()
    return method.upper() == "HEAD" or not agent or any(marker in agent for marker in SCANNER_AGENTS)


def note_visit(page: RefundPage, *, method: str, user_agent: str | None, staff: str | None) -> bool:
    """Count the visit as the customer's read if it is one (see the module's docstring)."""
    customer = page.customer
    if staff or is_scanner(method, user_agent) or customer.state not in ("not_notified", "mail_sent"):
        return False
    if customer.notified_at and clock.now() - customer.notified_at < SCANNER_WINDOW:
        return False
    previous = customer.state
    customer.move_to("mail_read")
    customer.read_at = customer.updated_at = clock.now()
    return affected_customers.save_if_state(customer, previous)


def choose(page: RefundPage, choice: str, *, iban: str | None, holder: str | None, staff: str | None) -> RefundPage:
    """Make ``choice`` for the page's tickets (see the module's docstring); the page after it."""
    if page.customer.choice:
        return page
    if page.deadline_passed:
        raise DeadlinePassed("The deadline to choose has passed; nothing was done.")
    if choice not in page.choices:
        raise InvalidInput("This choice is not offered.", errors=[
            FieldError("choice", "This choice is not offered.", french="Ce choix n'est pas proposé.")])
    actor = Actor.system(page.order.tenant_id, "refund-page")
    positions = [int(ticket.position) for ticket in page.offered]
    try:
        reference = _settle(actor, page, choice, positions, iban=iban, holder=holder)
    except Conflict:
        reference = None  # settled meanwhile (a second submit): record what was made, move nothing
        choice = _choice_already_made(page, positions) or choice
    _record_choice(actor, page, choice, reference, staff)
    return page_for(PageAddress(page.order.tenant_id, page.campaign.id, page.order.id))


def _settle(actor: Actor, page: RefundPage, choice: str, positions: list[int], *, iban: str | None,
            holder: str | None) -> str | None:
    from chalicelib.services.money import customer_money, refunds

    origin = {"origin_type": "campaign", "origin_id": page.campaign.id}
    if choice == "refund":
        bank = None
        if page.refund_means != "card":
            if not iban:
                raise InvalidInput("Give the IBAN of the account to refund.", errors=[FieldError(
                    "iban", "Give the IBAN of the account to refund.", french="Indiquez l'IBAN du compte à rembourser.")])
            bank = refunds.BankAccount(iban, holder)
        return refunds.request_refund(actor, page.order.id, positions, policy=campaigns.fee_policy(page.campaign),
                                      bank=bank, origin="refund-page").refund_id
    if choice == "credit":
        return customer_money.credit_tickets(actor, page.order.id, positions, **origin).entry_id
    if choice == "donation":
        return customer_money.donate_tickets(actor, page.order.id, positions, **origin).donation_id
    return None  # keep: the tickets stay valid for the new date


def _choice_already_made(page: RefundPage, positions: list[int]) -> str | None:
    settled = {t.settlement for t in orders.tickets_of(orders.get_order(
        Actor.system(page.order.tenant_id, "refund-page"), page.order.id)) if int(t.position) in positions}
    settled.discard(None)
    return settled.pop() if len(settled) == 1 else None


def _record_choice(actor: Actor, page: RefundPage, choice: str, reference: str | None, staff: str | None) -> None:
    customer = page.customer
    previous = customer.state
    customer.move_to("made_choices")
    customer.choice, customer.choice_reference = choice, reference
    customer.chosen_by = f"staff:{staff}" if staff else "spectator"
    customer.chosen_at = customer.updated_at = clock.now()
    if affected_customers.save_if_state(customer, previous):
        record_action(actor, "campaign_customer", f"{page.campaign.id}.{page.order.id}", "choice",
                      {"choice": choice, "reference": reference, "chosen_by": customer.chosen_by})


@dataclass(frozen=True)
class PageView:
    """How the page is shown: its language, the staff grant it keeps in its links (when staff
    act for the customer), and what the spectator typed, with the reason beside each wrong field."""

    language: str | None = None
    staff_grant: str | None = None
    staff: str | None = None
    errors: dict[str, str] = field(default_factory=dict)
    typed: dict[str, str] = field(default_factory=dict)


def render_page(page: RefundPage, token: str, view: PageView) -> str:
    """The page's HTML: the show, venue and dates on the venue's clock, the tickets offered with
    what each was paid, the choices, and the anti-forgery form value bound to ``token``."""
    from chalicelib.services.campaigns.refund_links import form_value
    from chalicelib.services.catalog import catalog
    from chalicelib.services.shared.pages import render
    from chalicelib.values import formatting

    actor = Actor.system(page.order.tenant_id, "refund-page")
    language = view.language or page.customer.language or "fr"
    performance = catalog.get_performance(actor, page.campaign.performance_id)
    venue = catalog.venues.get(actor, performance.venue_id)
    zone = venue.timezone or "Europe/Paris"
    shares = orders.paid_per_ticket(page.order, page.tickets)
    shown = page.offered or [t for t in page.tickets if int(t.position) in set(page.customer.positions)]
    keep = {"staff": view.staff_grant} if view.staff_grant else {}
    campaign = page.campaign
    return render(
        "refund.html.j2", language, page=page, staff=view.staff, errors=view.errors,
        show_name=catalog.products.get(actor, campaign.product_id).name, venue_name=venue.name,
        performance_date=formatting.datetime_text(campaign.original_starts_at, zone, language),
        new_performance_date=(formatting.datetime_text(campaign.new_starts_at, zone, language)
                              if campaign.new_starts_at else None),
        deadline_text=formatting.datetime_text(campaign.refund_deadline, zone, language),
        tickets=[{"position": int(t.position), "attendee_name": t.attendee_name, "tariff_name": t.tariff_name,
                  "paid_cents": shares[int(t.position)]} for t in shown],
        form_value=form_value(token), action_url=f"?{urlencode({**keep, 'lang': language})}",
        switch_url=f"?{urlencode({**keep, 'lang': 'en' if language == 'fr' else 'fr'})}",
        iban=view.typed.get("iban", ""), holder=view.typed.get("holder", ""))


def field_reasons(error: InvalidInput, language: str) -> dict[str, str]:
    """What the page says beside each field a choice was refused for, in the page's language."""
    english = language == "en"
    reasons = {}
    for problem in error.errors or []:
        name = "iban" if problem.field.endswith("iban") else "choice"
        if problem.french:
            reasons[name] = problem.message if english else problem.french
        else:  # a refusal from deeper down, not worded for spectators
            reasons[name] = "This choice is not offered." if english else "Ce choix n'est pas proposé."
    return reasons or {"choice": "Try again." if english else "Réessayez."}
