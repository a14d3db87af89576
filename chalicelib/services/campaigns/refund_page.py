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
(a postponement) leaves the tickets valid for the new date. The customer then moves to
``made_choices`` with who chose (the spectator, or the staff member acting for them) and the
reference of the money movement that carries the choice.

**The choice and the money always agree.** The money services settle each ticket once (the
ticket's ``settlement`` and ``settlement_id`` are written in the same transaction as the
money), so the tickets are the truth and the customer's recorded choice follows them:

- a settlement that loses a race (the order changed meanwhile: a buyer edit, an invoice, a
  concurrent settlement; or a credit balance that moved) is tried again from fresh reads;
- tickets already settled *from this page* (a second submit, another tab, a retry after a
  crash between the money and the record) are not settled again: their movement is recorded
  as the choice, with its reference and who made it (read from the ledger entry's author);
- a refusal that moved no money (over-refund, nothing received) records nothing and says so;
- recording the choice is one conditional update (no choice yet), retried from a fresh read,
  so a concurrent visit cannot make it lost. Should it still fail after the money moved, the
  next view of the page (or submit) records it from the tickets.

Tickets settled by staff outside the page are not taken for the customer's choice: the page
says there is nothing left to choose.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta
from urllib.parse import urlencode

from chalicelib.adapters import clock
from chalicelib.errors import Conflict, DomainError, FieldError, InvalidInput
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
    title_fr = "La date limite de remboursement est passée"


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
    def closed(self) -> bool:
        """The performance was put back on: nothing is offered any more."""
        return self.campaign.status == "closed"

    @property
    def choices(self) -> list[str]:
        """What can be chosen now, in the campaign's order of preference."""
        if self.customer.choice or self.deadline_passed or not self.offered or self.closed:
            return []
        possible = ["refund", "credit", "donation"] if self.order.paid else []
        if self.campaign.kind == "postponement":
            possible.append("keep")
        return [choice for choice in ("keep", "refund", "credit", "donation")
                if choice in possible and choice in self.campaign.choices]


def page_for(address: PageAddress) -> RefundPage:
    """The page as it stands; a choice whose money moved but whose record was lost is recorded."""
    page = _read_page(address)
    if not page.customer.choice:
        made = _movement_from_page(page)
        if made is not None:
            _record_choice(page, *made)
            page = _read_page(address)
    return page


def _read_page(address: PageAddress) -> RefundPage:
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


class ChoiceNotMade(Conflict):
    """The choice was refused with nothing moved (say so on the page, in both languages)."""

    kind = "choice-not-made"
    title = "The choice could not be made; nothing was done"
    title_fr = "Le choix n'a pas pu être enregistré ; rien n'a été fait"

    def __init__(self, detail: str, french: str) -> None:
        super().__init__(detail, errors=[FieldError("choice", detail, french=french)])


SETTLE_ATTEMPTS = 4
PAGE_SUBJECT = "refund-page"
STAFF_SUBJECT = f"{PAGE_SUBJECT}:staff:"


def _page_actor(tenant_id: str, staff: str | None) -> Actor:
    """Who moves the money: the page, acting for the spectator or for the staff member named, so
    that the ledger, the audit trail and a recovered choice all say who chose."""
    return Actor.system(tenant_id, f"{STAFF_SUBJECT}{staff}" if staff else PAGE_SUBJECT)


def choose(page: RefundPage, choice: str, *, iban: str | None, holder: str | None, staff: str | None) -> RefundPage:
    """Make ``choice`` for the page's tickets (see the module's docstring); the page after it."""
    address = PageAddress(page.order.tenant_id, page.campaign.id, page.order.id)
    for _ in range(SETTLE_ATTEMPTS):
        if page.customer.choice:
            return page
        if page.deadline_passed or page.closed:
            raise DeadlinePassed("Choices can no longer be made here; nothing was done.")
        if not choice:
            raise InvalidInput("Choose one of the options.", errors=[
                FieldError("choice", "Choose one of the options.", french="Choisissez l'une des options.")])
        if choice not in page.choices:
            raise InvalidInput("This choice is not offered.", errors=[
                FieldError("choice", "This choice is not offered.", french="Ce choix n'est pas proposé.")])
        try:
            reference = _settle(_page_actor(page.order.tenant_id, staff), page, choice, iban=iban, holder=holder)
        except ChoiceNotMade:
            raise
        except Conflict:  # a concurrent change or settlement: fresh reads record a movement made meanwhile
            page = page_for(address)
            if not page.offered:
                return page
            continue
        _record_choice(page, choice, reference, f"staff:{staff}" if staff else "spectator")
        return _read_page(address)
    raise ChoiceNotMade("The order kept changing while your choice was made; nothing was done. Please try again.",
                        "La commande a changé pendant votre choix ; rien n'a été fait. Merci de réessayer.")


def _settle(actor: Actor, page: RefundPage, choice: str, *, iban: str | None, holder: str | None) -> str | None:
    """The money movement of ``choice`` for the offered tickets; its reference (``None`` to keep)."""
    from chalicelib.services.money import customer_money, refunds
    from chalicelib.services.money.quotes import OverRefund

    positions = [int(ticket.position) for ticket in page.offered]
    origin = {"origin_type": "campaign", "origin_id": page.campaign.id}
    try:
        if choice == "refund":
            bank = None
            if page.refund_means != "card":
                if not iban:
                    raise InvalidInput("Give the IBAN of the account to refund.", errors=[FieldError(
                        "iban", "Give the IBAN of the account to refund.",
                        french="Indiquez l'IBAN du compte à rembourser.")])
                bank = refunds.BankAccount(iban, holder)
            return refunds.request_refund(actor, page.order.id, positions, policy=campaigns.fee_policy(page.campaign),
                                          bank=bank, origin="refund-page").refund_id
        if choice == "credit":
            return customer_money.credit_tickets(actor, page.order.id, positions, **origin).entry_id
        if choice == "donation":
            return customer_money.donate_tickets(actor, page.order.id, positions, **origin).donation_id
    except OverRefund as error:
        raise ChoiceNotMade(str(error), "Ce montant ne peut pas être rendu ; rien n'a été fait. Contactez la "
                                        "billetterie.") from error
    return None  # keep: the tickets stay valid for the new date


def _movement_from_page(page: RefundPage) -> tuple[str, str, str] | None:
    """``(choice, reference, chosen_by)`` when the customer's tickets were settled from this page
    and nothing is left to choose, else ``None`` (tickets settled by staff are not a choice)."""
    from chalicelib.services.ledger.ledger import entries_of_order

    if page.offered:
        return None
    settled = {t.settlement_id: t.settlement for t in page.tickets
               if int(t.position) in set(page.customer.positions or []) and t.settlement}
    if len(settled) != 1:
        return None
    [(reference, choice)] = settled.items()
    entry = next((e for e in entries_of_order(page.order.tenant_id, page.order.id) if e.reference == reference), None)
    author = entry.recorded_by if entry else ""
    if author == f"system:{PAGE_SUBJECT}":
        return choice, reference, "spectator"
    if author.startswith(f"system:{STAFF_SUBJECT}"):
        return choice, reference, f"staff:{author.removeprefix(f'system:{STAFF_SUBJECT}')}"
    return None


def _record_choice(page: RefundPage, choice: str, reference: str | None, chosen_by: str) -> bool:
    """Record the choice on the customer (once: conditioned on no choice yet), audited; ``False``
    when a choice was already recorded (by a concurrent submit of the same movement)."""
    recorded = affected_customers.record_choice(page.customer, choice=choice, reference=reference,
                                                chosen_by=chosen_by)
    if recorded:
        record_action(Actor.system(page.order.tenant_id, PAGE_SUBJECT), "campaign_customer",
                      f"{page.campaign.id}.{page.order.id}", "choice",
                      {"choice": choice, "reference": reference, "chosen_by": chosen_by})
    return recorded


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


def field_reasons(error: DomainError, language: str) -> dict[str, str]:
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
