"""The renewal run: last season's subscriptions of a product taken into the new season's product.

A run (a job, started by staff; ``dry_run`` first, on request) walks the source product's
subscriptions and renews each **order's** subscriptions together (a payer who bought for
themselves and two others gets one new order), by the rules of the field's back offices:

- **Tacit** (the source subscription renews tacitly): a **sale paid automatically** with the
  previous means. SEPA reuses the payer's mandate (same RUM); a card alias the same card; both
  keep last season's number of instalments, with the dates and amounts rule of the new
  product's plan (the plan of the same id, else the plan with that many instalments, else the
  first in instalments). Any other means (cash, cheque): the payer's saved card, in as many
  instalments as before. No usable means: the **on-error** rule.
  A tacit renewal whose payer was not told in time (:mod:`.renewal_notice`) may be left at any
  time: the renewed subscription says so (``may_leave_anytime``).
- **Not tacit**: a **reservation** the subscriber pays later, with the run's deadline; it is
  followed up in the options list like any reservation.
- **Delivery mode**: last season's if the run offers it; else the mode the run's replacements
  name for it (``{"new_card": "reload_card"}``); else the run's **fallback**; none: on-error.
  When several modes are possible because duplicate cards were issued after a lost card
  (``duplicates_issued``), the fallback (reported as ``mode:fallback_duplicates``); no fallback:
  on-error, reason ``duplicates_no_fallback``.
- **Opting out: whoever pays decides.** The run names a contact criterion ("Arrêt du
  renouvellement automatique"); a payer holding it (with a value other than no) stops every
  subscription they pay for; a holder holding it stops only theirs. A criterion no contact of the
  venue was ever given is refused before the run starts (a misspelling would renew everyone who
  opted out; :mod:`chalicelib.services.contacts.criteria`).
- **Seats** (``keep_seats``): at each new performance, the seat the holder had at that venue if
  it is free; else the first free seat of the same category in the venue's order (block, row,
  number); none free: on-error. A holder without a seat gets none. A package of sub-packages
  (terms naming each performance's ``part``) keeps each sub-package's own seat at a venue,
  matched by the part's name; a package spanning several venues keeps one seat per venue.
- **On error**: ``nothing`` (the subscription is reported, not renewed) or ``reservation``.
- A new product that lets the holder choose N performances cannot carry last season's choice:
  on-error, reason ``holder_must_choose``.
- A subscription on **sabbatical** (:mod:`.sabbatical`) was renewed into a placeholder of the new
  season (the season's run passes over it); the next season's run renews the placeholder like
  any subscription, with the seats it kept, its means and its number of instalments.

**Each source subscription is renewed at most once**, whatever crashes and re-runs: the new
order's transaction also marks the source subscriptions with their renewal's id
(``renewed_into``, on condition none is there yet), so a re-run adds 0 and a crash leaves
either everything or nothing.

**The report** is the job's counters (``done``: renewed subscriptions, as sales or
reservations; ``skipped``: opted out, cancelled, already renewed; ``failed``: errors not turned
into a reservation) and its ``outcomes``: per outcome and per reason (``sale``, ``reservation``,
``opt_out_payer``, ``error:no_means``...), and, for a dry run, ``projected:YYYY-MM-DD``: the
cents the sales would collect on that day. A dry run writes nothing but the job's progress.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from chalicelib.adapters import clock, ids
from chalicelib.config import settings
from chalicelib.errors import Conflict, InvalidInput, NotFound
from chalicelib.models.base import tenant_key
from chalicelib.models.catalog import Performance, Product, Seat, Tariff
from chalicelib.models.contacts import Contact
from chalicelib.models.jobs import Job
from chalicelib.models.orders import Ticket
from chalicelib.models.subscriptions import SAVED_MEANS, Subscription, SubscriptionTerms
from chalicelib.services.contacts import criteria
from chalicelib.services.jobs.framework import ChunkBudget, ChunkResult, job_kind, start_job
from chalicelib.services.orders.orders import SoldOut
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import plain
from chalicelib.services.shared.paging import Page
from chalicelib.services.shared.records import by_ids, get_record, require_reference
from chalicelib.services.subscriptions.renewal_seats import Seating
from chalicelib.services.subscriptions.selling import Placement, place
from chalicelib.services.subscriptions.terms import BUNDLE_KINDS, get_terms
from chalicelib.values.payment_plans import PaymentPlan, schedule
from chalicelib.values.text import fold

RENEW = "subscriptions.renew"
ORDERS_REMEMBERED = 50  # in the cursor: far more than the orders a chunk's end can cut
DRY_SEATS_CARRIED = 400  # a dry run's seats handed out from pools, carried to the next chunk (the cursor is small)
PLACE_ATTEMPTS = 3  # an order's write, when seats handed out were sold meanwhile (each time seated again)
NO_ANSWERS = {"non", "no", "false", "0", ""}



# -- starting a run --------------------------------------------------------------------------


def check_products(actor: Actor, source_id: str, target_id: str) -> tuple[Product, Product]:
    """Last season's product and the new season's, of one kind (422 naming the field)."""
    source = require_reference(actor, Product, source_id, "source_product_id")
    target = require_reference(actor, Product, target_id, "target_product_id")
    if target.kind not in BUNDLE_KINDS or target.kind != source.kind:
        raise InvalidInput.on("target_product_id", f"a {source.kind} renews into a {source.kind} of the new season")
    if target.season_id == source.season_id:
        raise InvalidInput.on("target_product_id", "the new season's product: this one is of the same season")
    get_terms(actor, target.id)
    return source, target


def start_run(actor: Actor, params: dict) -> Job:
    """Check the run's parameters (422 naming the field, before anything starts) and start it."""
    source, target = check_products(actor, params["source_product_id"], params["target_product_id"])
    terms = get_terms(actor, target.id)
    offered = set(terms.delivery_modes)
    for position, mode in enumerate(params["delivery_modes"]):
        if mode not in offered:
            raise InvalidInput.on(f"delivery_modes.{position}", "not a delivery mode of the new product")
    if params.get("fallback_mode") and params["fallback_mode"] not in params["delivery_modes"]:
        raise InvalidInput.on("fallback_mode", "must be one of the run's delivery modes")
    for old, new in (params.get("mode_replacements") or {}).items():
        if new not in params["delivery_modes"]:
            raise InvalidInput.on(f"mode_replacements.{old}", "must be one of the run's delivery modes")
    targets = {tariff.id for tariff in Tariff.by_product.query(tenant_key(actor.tenant_id, target.id))}
    sources = {tariff.id for tariff in Tariff.by_product.query(tenant_key(actor.tenant_id, source.id))}
    for old, new in (params.get("tariffs") or {}).items():
        if old not in sources:
            raise InvalidInput.on(f"tariffs.{old}", "not a tariff of the source product")
        if new not in targets:
            raise InvalidInput.on(f"tariffs.{old}", "not a tariff of the new product")
    criterion = params.get("opt_out_criterion")
    if criterion and not criteria.exists(actor.tenant_id, criterion):
        # A misspelt criterion would renew everyone who opted out.
        raise InvalidInput.on("opt_out_criterion", "no contact of the venue was ever given this criterion")
    deadline = params.get("reservation_deadline")
    if deadline is not None and deadline <= clock.now():
        raise InvalidInput.on("reservation_deadline", "must be in the future")
    if (params["on_error"] == "reservation" or not source.tacit_renewal) and deadline is None:
        raise InvalidInput.on("reservation_deadline", "required: this run may make reservations")
    stored = {**params, "reservation_deadline": deadline.isoformat() if deadline else None}
    return start_job(actor, RENEW, stored)


# -- deciding one order's renewal ------------------------------------------------------------


@dataclass
class Run:
    """What a run reads once per chunk: the new product, its terms and tariffs, the run's rules."""

    params: dict
    target: Product
    terms: SubscriptionTerms
    source_performances: list[Performance]  # last season's
    tariffs: dict[str, Tariff]  # the new product's, by id
    previous_tariffs: dict[str, Tariff]  # last season's product's, by id (read once, not per subscription)
    performances: dict[str, Performance]  # the new product's, by id
    deadline: datetime | None
    seating: Seating  # the new performances' seats, read once per chunk and handed out in memory
    source_parts: dict[str, str]  # last season's sub-package of each performance that has one

    @property
    def source_by_id(self) -> dict[str, Performance]:
        return {performance.id: performance for performance in self.source_performances}

    @classmethod
    def of(cls, actor: Actor, params: dict) -> "Run":
        target = get_record(actor, Product, params["target_product_id"])
        terms = get_terms(actor, target.id)
        tariffs = {tariff.id: tariff for tariff in Tariff.by_product.query(tenant_key(actor.tenant_id, target.id))}
        deadline = params.get("reservation_deadline")
        source_terms = get_terms(actor, params["source_product_id"])
        previous = Tariff.by_product.query(tenant_key(actor.tenant_id, params["source_product_id"]))
        source_performances = list(by_ids(actor, Performance, source_terms.performance_ids).values())
        return cls(params=params, target=target, terms=terms, tariffs=tariffs,
                   previous_tariffs={tariff.id: tariff for tariff in previous},
                   source_performances=source_performances,
                   performances=by_ids(actor, Performance, terms.performance_ids),
                   deadline=datetime.fromisoformat(deadline) if deadline else None,
                   seating=Seating(actor.tenant_id, params["source_product_id"], source_performances),
                   source_parts=dict(source_terms.parts or {}))


@dataclass
class Decision:
    source: Subscription
    outcome: str  # sale, reservation, skip, error
    reason: str = ""
    tariff: Tariff | None = None
    mode: str | None = None
    seats: dict[str, str] = field(default_factory=dict)
    mode_reason: str = ""  # "fallback_duplicates": the fallback taken because duplicate cards were issued


def _opted_out(contact: Contact | None, criterion: str | None) -> bool:
    if not criterion or contact is None:
        return False
    held = {fold(name): fold(str(value)) for name, value in (plain(contact.criteria) or {}).items()}
    return fold(criterion) in held and held[fold(criterion)] not in NO_ANSWERS


def _mode(run: Run, source: Subscription) -> tuple[str | None, str]:
    """The renewal's delivery mode and, when it is the fallback for a reason to report, that reason."""
    if int(source.duplicates_issued or 0) > 0:
        # Duplicates were issued after a lost card: several cards, so several modes are possible
        # (which card to reload?). The rule takes the run's fallback.
        return run.params.get("fallback_mode"), "fallback_duplicates"
    offered = run.params["delivery_modes"]
    if source.delivery_mode in offered:
        return source.delivery_mode, ""
    replacement = (run.params.get("mode_replacements") or {}).get(source.delivery_mode)
    return replacement or run.params.get("fallback_mode"), ""


def tariff_for(actor: Actor, run: Run, source: Subscription) -> Tariff | None:
    """The new product's tariff for ``source``: the run's mapping, else the tariff of the same name."""
    mapped = (run.params.get("tariffs") or {}).get(source.tariff_id)
    if mapped:
        return run.tariffs.get(mapped)
    previous = run.previous_tariffs.get(source.tariff_id)
    if previous is None:
        return None
    return next((tariff for tariff in run.tariffs.values() if fold(tariff.name) == fold(previous.name)), None)


def _decide(actor: Actor, run: Run, source: Subscription, people: dict[str, Contact]) -> Decision:
    criterion = run.params.get("opt_out_criterion")
    if source.state == "cancelled":
        return Decision(source, "skip", "cancelled")
    if source.renewed_into:
        return Decision(source, "skip", "already_renewed")
    if source.tacit and _opted_out(people.get(source.payer_contact_id), criterion):
        return Decision(source, "skip", "opt_out_payer")
    if source.tacit and _opted_out(people.get(source.holder_contact_id), criterion):
        return Decision(source, "skip", "opt_out_holder")
    holder = people.get(source.holder_contact_id)
    if holder is None or holder.closed or people.get(source.payer_contact_id) is None \
            or people[source.payer_contact_id].closed:
        return Decision(source, "error", "record_closed")
    if run.terms.choose is not None:
        return Decision(source, "error", "holder_must_choose")
    tariff = tariff_for(actor, run, source)
    if tariff is None:
        return Decision(source, "error", "no_tariff")
    mode, why = _mode(run, source)
    if mode is None:
        return Decision(source, "error", "duplicates_no_fallback" if why else "no_delivery_mode", tariff=tariff)
    seats, missing = _seats(actor, run, source)
    if missing:
        return Decision(source, "error", "no_seat", tariff=tariff, mode=mode)
    return Decision(source, "sale" if source.tacit else "reservation", "", tariff=tariff, mode=mode, seats=seats,
                    mode_reason=why)


def seats_for(actor: Actor, run: Run, source: Subscription) -> tuple[dict[str, str], bool]:
    """The seats a renewal of ``source`` would give its holder (and whether one is missing)."""
    return _seats(actor, run, source)


def _seats(actor: Actor, run: Run, source: Subscription, *, fresh: bool = False) -> tuple[dict[str, str], bool]:
    """The holder's seat at each new performance (module docstring; :mod:`.renewal_seats`),
    taken in the chunk's memory; whether one could not be found."""
    if not run.params.get("keep_seats", True):
        return {}, False
    had = _previous_seats(actor, run, source)
    parts = run.terms.parts or {}
    wanted = []
    for performance_id in run.terms.performance_ids:
        performance = run.performances[performance_id]
        seat = _matching(had, parts.get(performance_id), performance.venue_id)
        if seat is not None:  # no seat there last season: none now
            wanted.append((performance, seat))
    return run.seating.seats_for(wanted, fresh=fresh)


def _matching(had: dict[tuple[str, str], tuple[str, str | None]], part: str | None,
              venue_id: str) -> tuple[str, str | None] | None:
    """The seat last season for a new performance: its sub-package's (by name) at its venue, else
    the holder's first at that venue."""
    return had.get((fold(part or ""), venue_id)) or next(
        (seat for (_, venue), seat in had.items() if venue == venue_id), None)


def _previous_seats(actor: Actor, run: Run, source: Subscription) -> dict[tuple[str, str], tuple[str, str | None]]:
    """The holder's seat last season by (sub-package, venue), with its category, the first in date
    order: its tickets' seats, or the seats a sabbatical kept."""
    if source.held_seats:
        categories = {seat.id: seat.category_id for seat in by_ids(actor, Seat, source.held_seats.values()).values()}
        held = [(performance_id, seat_id, categories[seat_id]) for performance_id, seat_id in source.held_seats.items()
                if seat_id in categories]
    else:
        positions = {int(position) for position in source.ticket_positions or []}
        tickets = Ticket.query(tenant_key(actor.tenant_id, source.order_id)) if source.order_id else []
        held = [(ticket.performance_id, ticket.seat_id, ticket.seat_category_id) for ticket in tickets
                if int(ticket.position) in positions and ticket.seat_id]
    performances = {**run.source_by_id, **by_ids(actor, Performance, {performance_id for performance_id, _, _ in held
                                                                      if performance_id not in run.source_by_id})}
    seats: dict[tuple[str, str], tuple[str, str | None]] = {}
    for performance_id, seat_id, category_id in sorted(
            (entry for entry in held if entry[0] in performances), key=lambda entry: performances[entry[0]].starts_at):
        part = fold(run.source_parts.get(performance_id) or "")
        seats.setdefault((part, performances[performance_id].venue_id), (seat_id, category_id))
    return seats


# -- carrying it out -------------------------------------------------------------------------


def instalment_count(source: Subscription) -> int:
    """How many instalments last season's subscription was paid in (a sabbatical carries its own)."""
    return int(source.carried_instalments or 0) or max(1, len(source.instalments or []))


def _plan(run: Run, source: Subscription) -> PaymentPlan:
    count = instalment_count(source)
    plans = [PaymentPlan(**plan) for plan in run.terms.payment_plans]
    return next((plan for plan in plans if plan.id == source.plan_id), None) \
        or next((plan for plan in plans if plan.instalments == count), None) \
        or next((plan for plan in plans if plan.instalments > 1), plans[0])


def _saved_means(actor: Actor, source: Subscription) -> tuple[str, str] | None:
    """How the renewed sale is collected: (means, saved means id), or ``None`` without a usable one."""
    from chalicelib.services.money import saved_means

    if source.means in SAVED_MEANS and source.saved_means_id:
        kind = "sepa_debit" if source.means == "sepa_debit" else "card"
        usable = {means.id for means in saved_means.usable_means(actor, source.payer_contact_id, kind=kind)}
        return (source.means, source.saved_means_id) if source.saved_means_id in usable else None
    cards = saved_means.usable_means(actor, source.payer_contact_id, kind="card")
    return ("card_alias", cards[0].id) if cards else None


def renew_order(actor: Actor, run: Run, sources: list[Subscription], *, dry_run: bool,
                lines: list[ReportLine] | None = None) -> Counter:
    """Renew the subscriptions of one source order (those of the source product not renewed yet);
    a dry run adds to ``lines``, when given, what it decided for each (the report's detail)."""
    people = by_ids(actor, Contact, {sub.payer_contact_id for sub in sources} | {sub.holder_contact_id
                                                                                 for sub in sources})
    decisions = [_decide(actor, run, source, people) for source in sources]
    tally: Counter = Counter()
    sales = [decision for decision in decisions if decision.outcome == "sale"]
    reservations = [decision for decision in decisions if decision.outcome == "reservation"]
    means = _saved_means(actor, sources[0]) if sales else None
    if sales and means is None:
        for decision in sales:
            decision.outcome, decision.reason = "error", "no_means"
        sales = []
    for decision in decisions:
        if decision.outcome == "error" and run.params["on_error"] == "reservation" and decision.tariff and \
                decision.reason not in ("record_closed", "no_tariff"):
            decision.outcome = "reservation"
            reservations.append(decision)
        elif decision.outcome in ("skip", "error"):
            tally[f"{decision.outcome}:{decision.reason}"] += 1
            run.seating.give_back(decision.seats)  # not renewed: its seats are free for the others
    for group, placed_as in ((sales, "sale"), (reservations, "reservation")):
        for decision in group:
            decision.mode = decision.mode or run.params.get("fallback_mode") or run.params["delivery_modes"][0]
    if dry_run and lines is not None:
        lines.extend(ReportLine.of(decision) for decision in decisions)
    for group, placed_as in ((sales, "sale"), (reservations, "reservation")):
        for tariff_id, mode in sorted({(decision.tariff.id, decision.mode) for decision in group}):
            same = [decision for decision in group if (decision.tariff.id, decision.mode) == (tariff_id, mode)]
            tally += _carry_out(actor, run, same, placed_as, means, people, dry_run=dry_run)
    return tally


def _carry_out(actor: Actor, run: Run, decisions: list[Decision], placed_as: str, means: tuple[str, str] | None,
               people: dict[str, Contact], *, dry_run: bool) -> Counter:
    tally: Counter = Counter()
    first = decisions[0].source
    plan = _plan(run, first)
    count = instalment_count(first) if placed_as == "sale" else None
    if dry_run:
        tally[placed_as] += len(decisions)
        tally += _mode_reasons(decisions)
        if placed_as == "sale":
            for decision in decisions:
                for due in schedule(plan, int(decision.tariff.price_cents), clock.now(), settings.default_timezone,
                                    count=count):
                    tally[f"projected:{due.due_on.isoformat()}"] += due.amount_cents
        return tally
    new_ids = [ids.new_id() for _ in decisions]
    for decision, new_id in zip(decisions, new_ids):
        decision.source.renewed_into = new_id
    for attempt in range(1, PLACE_ATTEMPTS + 1):
        try:
            place(actor, _placement(run, decisions, placed_as, means, people, plan, count, new_ids),
                  also=[(decision.source, Subscription.renewed_into.does_not_exist()) for decision in decisions]
                  + _reloaded_cards(actor, decisions, new_ids))
        except SoldOut:
            # One transaction: places gone, a seat sold meanwhile, or a source marked by another run.
            reason = _why_not_placed(actor, run, decisions, last=attempt == PLACE_ATTEMPTS)
            if reason is None:
                continue  # seats sold meanwhile: the decisions were seated again
            tally[reason] += len(decisions)
            return tally
        tally[placed_as] += len(decisions)
        return tally + _mode_reasons(decisions)
    return tally


@dataclass(frozen=True)
class ReportLine:
    """One source subscription in a dry run's detail: what a real run would do with it."""

    subscription_id: str
    order_id: str
    holder_contact_id: str
    payer_contact_id: str
    outcome: str  # sale, reservation, skip, error
    reason: str  # why skipped or refused (opt_out_payer, no_means, no_seat...); "" when renewed
    tariff_id: str | None
    previous_mode: str
    mode: str | None
    mode_reason: str  # fallback_duplicates: the fallback taken because duplicate cards were issued
    seats: dict[str, str]  # new performance id -> seat id

    @classmethod
    def of(cls, decision: Decision) -> "ReportLine":
        source = decision.source
        renewed = decision.outcome in ("sale", "reservation")
        return cls(subscription_id=source.id, order_id=source.order_id or "",
                   holder_contact_id=source.holder_contact_id, payer_contact_id=source.payer_contact_id,
                   outcome=decision.outcome, reason=decision.reason,
                   tariff_id=decision.tariff.id if decision.tariff else None,
                   previous_mode=source.delivery_mode, mode=decision.mode if renewed else None,
                   mode_reason=decision.mode_reason if renewed else "", seats=dict(decision.seats) if renewed else {})

    @property
    def fell_back(self) -> bool:
        """Renewed in another delivery mode than last season's (replaced, or the fallback)."""
        return self.mode is not None and self.mode != self.previous_mode


def _mode_reasons(decisions: list[Decision]) -> Counter:
    """``mode:<reason>`` for the renewals whose delivery mode the rule chose for a reason to report."""
    return Counter(f"mode:{decision.mode_reason}" for decision in decisions if decision.mode_reason)


def _placement(run: Run, decisions: list[Decision], placed_as: str, means: tuple[str, str] | None,
               people: dict[str, Contact], plan: PaymentPlan, count: int | None, new_ids: list[str]) -> Placement:
    first = decisions[0].source
    return Placement(
        product=run.target, terms=run.terms, tariff=decisions[0].tariff, payer=people[first.payer_contact_id],
        delivery_mode=decisions[0].mode, plan=plan, means=means[0] if placed_as == "sale" else "reservation",
        saved_means_id=means[1] if placed_as == "sale" else None,
        holders=[(people[decision.source.holder_contact_id], list(run.terms.performance_ids), decision.seats)
                 for decision in decisions],
        instalment_count=count, renewed_from=[decision.source.id for decision in decisions],
        deadline=run.deadline if placed_as == "reservation" else None, subscription_ids=new_ids,
        leave_anytime=[placed_as == "sale" and decision.source.tacit and not decision.source.renewal_notice_at
                       for decision in decisions])


def _why_not_placed(actor: Actor, run: Run, decisions: list[Decision], *, last: bool) -> str | None:
    """After a refused write: the outcome to report, or ``None`` when seats sold meanwhile were
    replaced (the write is to be tried again)."""
    again = Subscription.batch_get([(actor.tenant_id, decision.source.id) for decision in decisions],
                                   consistent_read=True)
    if any(source.renewed_into for source in again):
        for decision in decisions:
            run.seating.give_back(decision.seats)
        return "skip:already_renewed"
    if not run.seating.drop_lost([decision.seats for decision in decisions]) or last:
        for decision in decisions:
            run.seating.give_back(decision.seats)
        return "error:sold_out"  # places gone (the quota), not a seat
    reseated = []
    for decision in decisions:
        seats, missing = _seats(actor, run, decision.source, fresh=True)
        if missing:
            for chosen in reseated:
                run.seating.give_back(chosen)
            return "error:no_seat"
        reseated.append(seats)
    for decision, seats in zip(decisions, reseated):
        decision.seats = seats
    return None


def _reloaded_cards(actor: Actor, decisions: list[Decision], new_ids: list[str]) -> list[tuple]:
    """Season cards, delivery mode "reload existing card": each new subscription goes onto the card
    its holder has, in the new order's own transaction (no print; see services/cards/binding.py)."""
    if decisions[0].mode != "reload_card":
        return []
    from chalicelib.services.cards.binding import reloaded_cards

    return reloaded_cards(actor, [(decision.source, new_id) for decision, new_id in zip(decisions, new_ids)])


# -- the job ---------------------------------------------------------------------------------


@job_kind(RENEW, max_items=200)
def renew(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget) -> ChunkResult:
    """The source product's subscriptions, newest first, a source order at a time."""
    return walk(actor, params, cursor, budget)


def walk(actor: Actor, params: dict, cursor: dict | None, budget: ChunkBudget,
         lines: list[ReportLine] | None = None) -> ChunkResult:
    """Renew the source subscriptions from ``cursor`` on, order by order, within ``budget``: a
    run's chunk, or a page of a dry run's detail (``lines`` then gets what each would become)."""
    run = Run.of(actor, params)
    dry_run = bool(params.get("dry_run"))
    if dry_run:  # the seats earlier chunks would have written
        run.seating.assume_handed((cursor or {}).get("dry_seats") or {})
    key = tenant_key(actor.tenant_id, params["source_product_id"])
    after = (cursor or {}).get("after")
    tally: Counter = Counter()
    # The orders taken most recently, in walk order: an order's subscriptions are near each other
    # in the walk, and one cut by a chunk's end must not be taken again by the next chunk.
    done_orders: dict[str, None] = dict.fromkeys((cursor or {}).get("orders_seen", []))
    query = Subscription.by_product.query(key, scan_index_forward=False, limit=budget.items_left,
                                          last_evaluated_key=after)
    for entry in query:
        if not budget.take():
            break
        after = {"product_key": {"S": key}, "id": {"S": entry.id}, "tenant_id": {"S": actor.tenant_id}}
        source = Subscription.get(actor.tenant_id, entry.id, consistent_read=True)
        if source.order_id in done_orders:
            continue
        done_orders[source.order_id] = None
        tally += renew_order(actor, run, _siblings(actor, source), dry_run=dry_run, lines=lines)
    more = query.last_evaluated_key is not None or budget.items_left == 0
    done = tally["sale"] + tally["reservation"]
    skipped = sum(count for name, count in tally.items() if name.startswith("skip:"))
    failed = sum(count for name, count in tally.items() if name.startswith("error:"))
    following = {"after": after, "orders_seen": list(done_orders)[-ORDERS_REMEMBERED:]}
    if dry_run:
        following["dry_seats"] = run.seating.handed_from_pools(limit=DRY_SEATS_CARRIED)
    return ChunkResult(cursor=following if more else None,
                       done=done, skipped=skipped, failed=failed, outcomes=dict(tally))


def _siblings(actor: Actor, source: Subscription) -> list[Subscription]:
    """The source product's subscriptions sold in the same order as ``source`` (its payer's),
    read consistently: their versions guard the renewal's marks."""
    found = [(actor.tenant_id, entry.id)
             for entry in Subscription.by_payer.query(tenant_key(actor.tenant_id, source.payer_contact_id))]
    subscriptions = Subscription.batch_get(found, consistent_read=True) if found else []
    return sorted((sub for sub in subscriptions if sub.order_id == source.order_id
                   and sub.product_id == source.product_id), key=lambda sub: sub.id)


# -- following runs --------------------------------------------------------------------------


def list_runs(actor: Actor, *, limit: int, cursor: str | None) -> Page[Job]:
    """The venue's renewal runs, newest first: a page of its jobs, the renewal runs kept (a
    page may hold fewer than asked, with a cursor to go on; jobs have no index by kind)."""
    from chalicelib.services.jobs.framework import list_jobs

    page = list_jobs(actor, limit=limit, cursor=cursor)
    return Page(items=[job for job in page.items if job.kind == RENEW], next_cursor=page.next_cursor)


def get_run(actor: Actor, job_id: str) -> Job:
    """A renewal run of the venue (404 for another job, or another venue's)."""
    from chalicelib.services.jobs.framework import get_job

    job = get_job(actor, job_id)
    if job.kind != RENEW:
        raise NotFound(f"Job {job_id} is not a renewal run.")
    return job


def real_run_params(job: Job) -> dict:
    """The parameters of the real run a dry run stands for: the same, writing this time (409
    unless ``job`` is a finished dry run)."""
    if not job.params.get("dry_run"):
        raise Conflict("Only a dry run's report starts the real run.")
    if job.status != "succeeded":
        raise Conflict("This dry run has not finished: its report is not complete.")
    return {**job.params, "dry_run": False}

