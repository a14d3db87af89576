"""Selling subscriptions at the box office: one payer, one or several holders, one order.

:func:`sell` checks the sale against the product's terms (the tariff is the product's, the
delivery mode and the payment plan are offered, a holder who chooses picks exactly N of the
offered performances, seats are of those performances), then places **one order** holding
every ticket of every subscription sold (one per performance, priced as a share of the
subscription's tariff) through the order machinery, so the places and seats are taken
together or not at all, and never oversold. The subscriptions, their audit events and the
instalments the collector owes are written **in the order's own transaction**.

Means of payment:
- at the box office (``cash``, ``cheque``): the subscription is paid with its order, at once
  (cash) or when staff record the cheque; the plan must be paid at once;
- saved (``sepa_debit``: the payer's SEPA mandate; ``card_alias``: the payer's saved card): the
  plan's schedule (:mod:`chalicelib.values.payment_plans`) is computed on the venue's clock,
  each instalment ``scheduled``, and one :class:`~chalicelib.models.subscriptions.InstalmentDue`
  per instalment tells the collector which day to charge it. The order is a sale paid as the
  instalments are collected (``payment_type`` ``sepa`` or ``card``: staff cannot mark it paid).

A holder without a subscriber number gets the venue's next one (a system field of the record:
searchable, and what the "subscriber" segment rule reads), after the sale.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from chalicelib.adapters import clock, ids
from chalicelib.config import settings
from chalicelib.errors import Conflict, InvalidInput
from chalicelib.models.catalog import Product, Seat, Tariff
from chalicelib.models.contacts import Contact
from chalicelib.models.orders import Order
from chalicelib.models.subscriptions import SAVED_MEANS, Subscription, SubscriptionTerms
from chalicelib.services.contacts import contacts
from chalicelib.services.orders import orders
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event, snapshot
from chalicelib.services.shared.form_requests import checked_request_id
from chalicelib.services.shared.records import by_ids, get_record
from chalicelib.services.subscriptions.collector import due_entry
from chalicelib.services.subscriptions.terms import get_terms, plan_of
from chalicelib.values.payment_plans import PaymentPlan, schedule

ORDER_PAYMENT_TYPE = {"cash": "cash", "cheque": "cheque", "sepa_debit": "sepa", "card_alias": "card"}



@dataclass
class Sale:
    order: Order
    subscriptions: list[Subscription]


@dataclass
class Placement:
    """What one order of subscriptions holds, checked: how it is paid, and each holder's
    subscription (its performances in date order, and its seats by performance)."""

    product: Product
    terms: SubscriptionTerms
    tariff: Tariff
    payer: Contact
    delivery_mode: str
    plan: PaymentPlan
    means: str  # cash, cheque, sepa_debit, card_alias; or "reservation" (paid later at the box office)
    saved_means_id: str | None
    holders: list[tuple[Contact, list[str], dict[str, str]]]  # (holder, performance ids, {performance: seat})
    instalment_count: int | None = None  # a renewal keeps last season's number of instalments
    renewed_from: list[str] | None = None  # the source subscription of each holder's, in the same order
    deadline: datetime | None = None  # a reservation's
    subscription_ids: list[str] | None = None  # chosen beforehand (a renewal marks its sources with them)
    order_id: str | None = None  # chosen beforehand (a console form's request: sold once)
    leave_anytime: list[bool] | None = None  # a tacit renewal without its legal notice, per holder


def sell(actor: Actor, draft: dict, *, order_id: str | None = None) -> Sale:
    """Sell the subscriptions ``draft`` describes (validated by ``schemas/subscriptions.py:
    SubscriptionSaleIn``); 422 naming the field for what the terms do not offer, 409 when
    places or seats are gone (nothing is then written). ``order_id``: the order's id when the
    request already has one (:func:`sell_once`)."""
    placement = check_sale(actor, draft)
    placement.order_id = order_id
    sale = place(actor, placement)
    _number_holders(actor, [holder for holder, _, _ in placement.holders])
    return sale


def sell_once(actor: Actor, draft: dict, request_id: str) -> tuple[Sale, bool]:
    """Sell ``draft`` under the order id ``request_id`` (made with the summary a console form
    confirms): the form sent again (a double click, a reload) answers the sale already made,
    never a second one, and gives its holders the numbers a crash after the sale left ungiven.
    The sale, and whether it was made now."""
    checked_request_id(request_id)
    made = sale_of(actor, request_id)
    if made is None:
        try:
            return sell(actor, draft, order_id=request_id), True
        except orders.SoldOut:  # the order's id was taken meanwhile: by this very request sent twice?
            made = sale_of(actor, request_id)
            if made is None:
                raise
    if made.order.buyer.contact_id != draft["payer_contact_id"] or any(
            subscription.product_id != draft["product_id"] for subscription in made.subscriptions):
        raise Conflict("This form's request id names another sale; open the sale's summary again.")
    _number_holders(actor, list(by_ids(actor, Contact, {s.holder_contact_id for s in made.subscriptions}).values()))
    return made, False


def sale_of(actor: Actor, order_id: str) -> Sale | None:
    """The subscriptions sale made as order ``order_id``, if there is one."""
    try:
        order = Order.get(actor.tenant_id, order_id, consistent_read=True)
    except Order.DoesNotExist:
        return None
    wanted = {ticket.subscription_id for ticket in orders.tickets_of(order) if ticket.subscription_id}
    if not wanted:
        return None
    found = by_ids(actor, Subscription, wanted)
    return Sale(order=order, subscriptions=sorted(found.values(), key=lambda subscription: subscription.id))


def check_sale(actor: Actor, draft: dict) -> Placement:
    """The sale ``draft`` describes, checked as :func:`sell` checks it, nothing written (the
    console's summary before the sale)."""
    product = get_record(actor, Product, draft["product_id"])
    terms = get_terms(actor, product.id)
    tariff = get_record(actor, Tariff, draft["tariff_id"]) if draft["tariff_id"] else None
    if tariff is None or tariff.product_id != product.id:
        raise InvalidInput.on("tariff_id", "not a tariff of this subscription")
    if draft["delivery_mode"] not in terms.delivery_modes:
        raise InvalidInput.on("delivery_mode", f"not offered (offered: {', '.join(terms.delivery_modes)})")
    plan = plan_of(terms, draft["plan_id"])
    saved_means_id = _means(actor, draft, plan)
    people = _people(actor, draft)
    holders = []
    for position, subscriber in enumerate(draft["subscribers"]):
        chosen = _chosen(terms, subscriber, position)
        holders.append((people[subscriber["holder_contact_id"]], chosen, _seats(actor, subscriber, chosen, position)))
    return Placement(product=product, terms=terms, tariff=tariff, payer=people[draft["payer_contact_id"]],
                     delivery_mode=draft["delivery_mode"], plan=plan, means=draft["means"],
                     saved_means_id=saved_means_id, holders=holders)


def place(actor: Actor, placement: Placement, *, also: list[tuple] = ()) -> Sale:
    """Write one order holding every ticket of the placement's subscriptions (a sale, or a
    reservation when ``means`` is ``reservation``), the subscriptions, their audit events and
    the collector's due entries, and ``also``, in one transaction (409 when places are gone)."""
    now = clock.now()
    tariff, payer = placement.tariff, placement.payer
    subscriptions, lines = [], []
    for index, (holder, chosen, seats) in enumerate(placement.holders):
        subscription = Subscription(
            tenant_id=actor.tenant_id,
            id=placement.subscription_ids[index] if placement.subscription_ids else ids.new_id(),
            product_id=placement.product.id,
            season_id=placement.product.season_id, tariff_id=tariff.id, holder_contact_id=holder.id,
            payer_contact_id=payer.id, order_id="", ticket_positions=[], performance_ids=chosen,
            price_cents=int(tariff.price_cents), currency=tariff.currency, delivery_mode=placement.delivery_mode,
            means=placement.means, saved_means_id=placement.saved_means_id, plan_id=placement.plan.id,
            instalments=_instalments(placement.plan, int(tariff.price_cents), placement.means, now,
                                     placement.instalment_count),
            tacit=bool(placement.product.tacit_renewal),
            renewed_from=placement.renewed_from[index] if placement.renewed_from else None,
            may_leave_anytime=bool(placement.leave_anytime[index]) if placement.leave_anytime else False,
            created_by=actor.subject, created_at=now, updated_at=now)
        subscription.set_index_keys()
        subscriptions.append(subscription)
        lines += [{"performance_id": performance_id, "tariff_id": tariff.id,
                   "quota_id": placement.terms.quotas[performance_id], "seat_id": seats.get(performance_id),
                   "subscription_id": subscription.id, "attendee_name": _name(holder)} for performance_id in chosen]
    order_id = placement.order_id or ids.new_id()
    position = 0
    for subscription in subscriptions:  # the order's tickets are numbered in the order of its lines
        subscription.order_id = order_id
        subscription.ticket_positions = list(range(position + 1, position + 1 + len(subscription.performance_ids)))
        position += len(subscription.performance_ids)
    reservation = placement.means == "reservation"
    order, _ = orders.place_order(actor, {
        "kind": "reservation" if reservation else "sale", "deadline": placement.deadline,
        "payment_type": "cheque" if reservation else ORDER_PAYMENT_TYPE[placement.means], "lines": lines,
        "by_instalments": placement.means in SAVED_MEANS,
        "buyer": {"contact_id": payer.id, "title": payer.title, "first_name": payer.first_name,
                  "last_name": payer.last_name, "language": payer.language,
                  "email": payer.emails[0].address if payer.emails else None}},
        order_id=order_id, also=[*_records(actor, subscriptions), *also])
    return Sale(order=order, subscriptions=subscriptions)


def _means(actor: Actor, draft: dict, plan: PaymentPlan) -> str | None:
    """The saved means the instalments are collected by (422 when the payer has no such means
    in use, or when a box-office means meets a plan in instalments)."""
    if draft["means"] not in SAVED_MEANS:
        if plan.instalments > 1:
            raise InvalidInput.on("plan_id", "instalments are collected by SEPA debit or a saved card, not at the box office")
        return None
    from chalicelib.services.money import saved_means

    kind = "sepa_debit" if draft["means"] == "sepa_debit" else "card"
    usable = {means.id for means in saved_means.usable_means(actor, draft["payer_contact_id"], kind=kind)}
    if draft.get("saved_means_id") not in usable:
        raise InvalidInput.on("saved_means_id", f"not a {kind.replace('_', ' ')} of the payer in use")
    return draft["saved_means_id"]


def _people(actor: Actor, draft: dict) -> dict[str, Contact]:
    """The payer and the holders, each the venue's and open (422 naming the field)."""
    wanted = {"payer_contact_id": draft["payer_contact_id"]}
    wanted.update({f"subscribers.{n}.holder_contact_id": subscriber["holder_contact_id"]
                   for n, subscriber in enumerate(draft["subscribers"])})
    found = by_ids(actor, Contact, wanted.values())
    for field, contact_id in wanted.items():
        contact = found.get(contact_id)
        if contact is None:
            raise InvalidInput.on(field, "unknown contact")
        if contact.closed:
            raise InvalidInput.on(field, "this record was merged into another or erased")
    return found


def _chosen(terms: SubscriptionTerms, subscriber: dict, position: int) -> list[str]:
    """The performances of one holder's subscription, in date order: all of them, or the N chosen."""
    picked = subscriber.get("performance_ids")
    field = f"subscribers.{position}.performance_ids"
    if terms.choose is None:
        if picked and set(picked) != set(terms.performance_ids):
            raise InvalidInput.on(field, "this subscription holds every performance it offers: name none")
        return list(terms.performance_ids)
    if not picked or len(set(picked)) != terms.choose or len(picked) != terms.choose:
        raise InvalidInput.on(field, f"choose exactly {terms.choose} different performances")
    unknown = [performance_id for performance_id in picked if performance_id not in terms.quotas]
    if unknown:
        raise InvalidInput.on(field, f"not offered by this subscription: {', '.join(unknown)}")
    return [performance_id for performance_id in terms.performance_ids if performance_id in picked]


def _seats(actor: Actor, subscriber: dict, chosen: list[str], position: int) -> dict[str, str]:
    """The holder's seats by performance, each for a performance of the subscription and a seat
    of the venue's (422 naming the field)."""
    seats = subscriber.get("seats") or {}
    if not set(seats) <= set(chosen):
        raise InvalidInput.on(f"subscribers.{position}.seats", "a seat for a performance not in the subscription")
    found = by_ids(actor, Seat, seats.values())
    for performance_id, seat_id in seats.items():
        if seat_id not in found:
            raise InvalidInput.on(f"subscribers.{position}.seats.{performance_id}", "unknown seat")
    return dict(seats)


def _name(contact: Contact) -> str:
    return " ".join(part for part in (contact.first_name, contact.last_name) if part)


def instalments_of(placement: Placement) -> list[dict]:
    """The instalments one subscription of ``placement`` is paid in if sold now (none: paid with
    the order at the box office)."""
    return _instalments(placement.plan, int(placement.tariff.price_cents), placement.means, clock.now(),
                        placement.instalment_count)


def _instalments(plan: PaymentPlan, price_cents: int, means: str, sold_at, count: int | None = None) -> list[dict]:
    if means not in SAVED_MEANS:
        return []  # paid with the order at the box office
    return [{"number": due.number, "due_on": due.due_on.isoformat(), "amount_cents": due.amount_cents,
             "state": "scheduled", "attempts": 0}
            for due in schedule(plan, price_cents, sold_at, settings.default_timezone, count=count)]


def _records(actor: Actor, subscriptions: list[Subscription]) -> list[tuple]:
    """What the order's transaction also writes: each subscription (new), its audit event, and
    the collector's due entries of its instalments."""
    records: list[tuple] = []
    for subscription in subscriptions:
        records.append((subscription, Subscription.id.does_not_exist()))
        records.append((audit_event(actor, "subscription", subscription.id, "sell", None, snapshot(subscription)),
                        None))
        records += [(due_entry(actor.tenant_id, subscription.id, due["number"], date.fromisoformat(due["due_on"])),
                     None) for due in subscription.instalments]
    return records


def _number_holders(actor: Actor, holders: list[Contact]) -> None:
    """Give each holder without one the venue's next subscriber number."""
    from chalicelib.services.shared.audit import plain

    for holder in {holder.id: holder for holder in holders}.values():
        if not (plain(holder.system_fields) or {}).get("subscriber_number"):
            number = orders.next_number(actor.tenant_id, "subscribers")
            contacts.record_system_fields(actor, holder.id, {"subscriber_number": str(number)})
