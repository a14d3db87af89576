"""Orders as the box office makes them: sales, options and reservations; buyer edits; payment.

:func:`place_order` prices each line from the catalog (tariff of the performance's show,
quota of that performance, seat of its venue), takes the places and seats, numbers the
order, and writes the order, its tickets, its listing entries and its audit event in **one
transaction**, whose conditions are the places themselves: ``remaining >= n`` on each
quota and "not yet sold" on each seat. Concurrent buyers therefore never oversell: the
transactions that would go below zero fail, and the buyer is told the places are gone.

Every later change goes through :func:`save_change`, which rewrites the order (version
checked), the tickets that changed, and the listing entries, with the audit event.
"""
from __future__ import annotations

import secrets
from collections import Counter as Tally
from dataclasses import dataclass
from typing import Any, Iterable

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock, ids
from chalicelib.errors import ConcurrentChange, Conflict, FieldError, InvalidInput, NotFound, ServiceUnavailable
from chalicelib.models.base import connection, tenant_key
from chalicelib.models.catalog import Performance, Quota, Seat, Tariff
from chalicelib.models.money import LedgerEntry
from chalicelib.models.orders import Buyer, Counter, Order, Payment, Ticket
from chalicelib.models.transactions import condition_refused
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.services.ledger import ledger
from chalicelib.services.orders.derived import derived_writes
from chalicelib.services.orders.status import derive_status, order_actions, require_action
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event, snapshot
from chalicelib.services.shared.records import get_record
from chalicelib.values.cents import allocate, vat_included

MAX_TICKETS = 40  # one transaction holds the order, its tickets, listing entries and places
TRANSACTION_ITEMS = 100  # DynamoDB's limit for one TransactWriteItems
PAID_ON_THE_SPOT = {"cash"}
DEFAULT_VAT_BP = 550


class SoldOut(Conflict):
    kind = "sold-out"
    title = "The places asked for are no longer available"
    title_fr = "Les places demandées ne sont plus disponibles"


class SeatTaken(Conflict):
    kind = "seat-taken"
    title = "A seat asked for is already taken"
    title_fr = "Une place demandée est déjà prise"


class SeatOfAnotherVenue(Conflict):
    kind = "seat-of-another-venue"
    title = "A seat asked for is not a seat of the performance's venue"
    title_fr = "Une place demandée n'est pas une place du lieu de la séance"


@dataclass
class PricedLine:
    performance: Performance
    tariff: Tariff
    quota: Quota
    seat: Seat | None
    attendee_name: str | None
    attendee_email: str | None
    subscription_id: str | None = None
    price_cents: int = 0


def _line_error(index: int, field: str, message: str) -> InvalidInput:
    return InvalidInput(message, errors=[FieldError(f"lines.{index}.{field}", message)])


def _reference(actor: Actor, model, record_id: str, index: int, field: str):
    try:
        return get_record(actor, model, record_id)
    except NotFound:
        raise _line_error(index, field, f"unknown {model.entity_type}") from None


def price_line(actor: Actor, index: int, line: dict) -> PricedLine:
    """A requested line checked against the catalog (422 naming ``lines.<i>.<field>``). A line of
    a subscription (``subscription_id``, set by the subscriptions service, never by staff's
    input) carries the subscription's tariff, whose terms the service checked hold the
    performance; its price is a share of that tariff (:func:`_subscription_prices`)."""
    performance = _reference(actor, Performance, line["performance_id"], index, "performance_id")
    if performance.status == "cancelled":
        raise _line_error(index, "performance_id", "this performance is cancelled")
    tariff = _reference(actor, Tariff, line["tariff_id"], index, "tariff_id")
    if tariff.product_id != performance.product_id and not line.get("subscription_id"):
        raise _line_error(index, "tariff_id", "not a tariff of this performance's show")
    quota = _reference(actor, Quota, line["quota_id"], index, "quota_id")
    if quota.performance_id != performance.id:
        raise _line_error(index, "quota_id", "not a quota of this performance")
    seat = None
    if line.get("seat_id"):
        seat = _reference(actor, Seat, line["seat_id"], index, "seat_id")
        if seat.venue_id != performance.venue_id:
            label = f"{seat.block} {seat.row} {seat.number}"
            raise SeatOfAnotherVenue(f"Seat {label} ({seat.id}) is a seat of another venue than the performance's.",
                                     errors=[FieldError(f"lines.{index}.seat_id", f"seat {seat.id} ({label}) is of "
                                                                                  "another venue")])
    return PricedLine(performance, tariff, quota, seat, line.get("attendee_name"), line.get("attendee_email"),
                      subscription_id=line.get("subscription_id"), price_cents=int(tariff.price_cents))


def _subscription_prices(lines: list[PricedLine]) -> None:
    """A subscription's tariff is the price of the whole subscription: its tickets share it, to
    the cent, in performance order (the rounding on the last), so they add up to the tariff."""
    bundles: dict[str, list[PricedLine]] = {}
    for line in lines:
        if line.subscription_id:
            bundles.setdefault(line.subscription_id, []).append(line)
    for bundle in bundles.values():
        bundle.sort(key=lambda line: line.performance.starts_at)
        for line, share in zip(bundle, _equal_shares(int(bundle[0].tariff.price_cents), len(bundle))):
            line.price_cents = share


def _equal_shares(total: int, count: int) -> list[int]:
    each = total // count
    return [each] * (count - 1) + [total - each * (count - 1)]


def next_number(tenant_id: str, sequence: str = "orders") -> int:
    """The next number of a per-tenant sequence (numbers of failed orders are not reused)."""
    counter = Counter(counter_key=tenant_key(tenant_id, sequence))
    counter.update(actions=[Counter.value.add(1)])
    return int(counter.value)


def _vat(tickets: list[Ticket], discount: int) -> int:
    """VAT included in what the buyer pays: the discount shared across tickets by price, then
    VAT computed per rate on what each rate's tickets cost."""
    shares = allocate(discount, [ticket.price_cents for ticket in tickets])
    net_by_rate: dict[int, int] = {}
    for ticket, share in zip(tickets, shares):
        net_by_rate[ticket.vat_rate_bp] = net_by_rate.get(ticket.vat_rate_bp, 0) + ticket.price_cents - share
    return sum(vat_included(net, rate) for rate, net in net_by_rate.items())


def seat_claim(tenant_id: str, order_id: str, performance_id: str, seat_id: str,
               subscription_id: str | None = None) -> UniqueKey:
    """The claim an order's ticket holds on its seat (naming the subscription a subscription's ticket is of)."""
    return UniqueKey(key=tenant_key(tenant_id, "seat_sold", performance_id, seat_id),
                     entity_type="order", entity_id=order_id, label="seat_id", subscription_id=subscription_id)


def _build(actor: Actor, draft: dict, lines: list[PricedLine], order_id: str) -> tuple[Order, list[Ticket]]:
    now = clock.now()
    tickets = [Ticket(order_key=tenant_key(actor.tenant_id, order_id), position=position, tenant_id=actor.tenant_id,
                      order_id=order_id, performance_id=line.performance.id, product_id=line.performance.product_id,
                      tariff_id=line.tariff.id, tariff_name=line.tariff.name, quota_id=line.quota.id,
                      seat_id=line.seat.id if line.seat else None,
                      seat_label=f"{line.seat.block} {line.seat.row} {line.seat.number}" if line.seat else None,
                      seat_category_id=line.seat.category_id if line.seat else None,
                      price_cents=line.price_cents, vat_rate_bp=DEFAULT_VAT_BP, subscription_id=line.subscription_id,
                      attendee_name=line.attendee_name, attendee_email=line.attendee_email, state="valid",
                      checkin_code=secrets.token_urlsafe(12))
               for position, line in enumerate(lines, start=1)]
    gross = sum(ticket.price_cents for ticket in tickets)
    discount = draft.get("discount_cents") or 0
    paid = draft["payment_type"] in PAID_ON_THE_SPOT and draft.get("kind", "sale") == "sale"
    order = Order(
        tenant_id=actor.tenant_id, id=order_id, number=next_number(actor.tenant_id), kind=draft.get("kind", "sale"),
        deadline=draft.get("deadline"), channel_id=draft.get("channel_id"), buyer=Buyer(**draft["buyer"]),
        payment_type=draft["payment_type"], paid=paid, paid_at=now if paid else None,
        by_instalments=draft.get("by_instalments") or None,
        promo_code=(draft.get("promo_code") or None), currency=lines[0].tariff.currency,
        tickets_cents=gross, discount_cents=discount, fees_cents=0,
        tax_cents=_vat(tickets, discount),
        total_cents=gross - discount, ticket_count=len(tickets),
        status=derive_status(paid, (ticket.state for ticket in tickets)),
        performance_ids={t.performance_id for t in tickets}, tariff_ids={t.tariff_id for t in tickets},
        product_ids={t.product_id for t in tickets}, created_by=actor.subject, created_at=now, updated_at=now,
    )
    return order, tickets


def _check_draft(draft: dict) -> None:
    if not draft["lines"] or len(draft["lines"]) > MAX_TICKETS:
        raise InvalidInput(f"An order has 1 to {MAX_TICKETS} tickets.",
                           errors=[FieldError("lines", f"1 to {MAX_TICKETS} lines")])
    if draft.get("kind", "sale") != "sale" and not draft.get("deadline"):
        raise InvalidInput("An option or a reservation needs a confirmation deadline.",
                           errors=[FieldError("deadline", "required for an option or a reservation")])
    seats = [(line["performance_id"], line.get("seat_id")) for line in draft["lines"] if line.get("seat_id")]
    if len(seats) != len(set(seats)):
        raise InvalidInput("The same seat appears twice.", errors=[FieldError("lines", "duplicate seat")])


def _check_references(actor: Actor, draft: dict) -> None:
    from chalicelib.models.catalog import SalesChannel
    from chalicelib.models.contacts import Contact
    from chalicelib.services.shared.records import require_reference

    if draft.get("channel_id"):
        require_reference(actor, SalesChannel, draft["channel_id"], "channel_id")
    if draft["buyer"].get("contact_id"):
        contact = require_reference(actor, Contact, draft["buyer"]["contact_id"], "buyer.contact_id")
        if contact.merged_into:
            raise InvalidInput(f"This customer record was merged into {contact.merged_into}: name that one.",
                               errors=[FieldError("buyer.contact_id", f"merged into {contact.merged_into}")])
        if contact.erasure_started_at:
            raise InvalidInput("This customer record was erased at the person's request.",
                               errors=[FieldError("buyer.contact_id", "erased")])


@dataclass(frozen=True)
class HeldPlaces:
    """Places a record other than an order already holds (a shop cart): taken out of their quotas
    (``places``: quota id → count) and seats claimed in its name (``seats``: (performance, seat)).
    An order placed with them takes them over in its own transaction instead of taking new ones."""

    owner_id: str
    places: dict[str, int]
    seats: frozenset[tuple[str, str]]


def place_order(actor: Actor, draft: dict, *, order_id: str | None = None,
                also: Iterable[tuple[Any, Any]] = (), held: HeldPlaces | None = None) -> tuple[Order, list[Ticket]]:
    """Make an order from a validated draft (see ``schemas/orders.py: OrderIn``); ``order_id``
    when the caller already claimed something in the order's name (the shop's hold slots);
    ``also``: the caller's records written in the order's own transaction, as ``(item,
    condition)`` pairs (the subscriptions a sale makes, on condition they do not exist yet);
    ``held``: places the caller's record holds, which the order takes over (a cart's checkout)."""
    _check_draft(draft)
    _check_references(actor, draft)
    lines = [price_line(actor, index, line) for index, line in enumerate(draft["lines"])]
    if len({line.tariff.currency for line in lines}) > 1:
        raise InvalidInput("All tickets of an order are in one currency.", errors=[FieldError("lines", "mixed")])
    _subscription_prices(lines)
    also = list(also)
    gross = sum(line.price_cents for line in lines)
    if (draft.get("discount_cents") or 0) > gross:
        raise InvalidInput(f"The discount exceeds what the tickets cost ({gross} cents).",
                           errors=[FieldError("discount_cents", f"at most {gross}, what the tickets cost")])
    order, tickets = _build(actor, draft, lines, order_id or ids.new_id())
    places = _place_changes(tickets, held)
    sale = _receive(actor, order, tickets, means=order.payment_type) if order.paid else None
    derived = derived_writes(None, order, tickets=tickets)
    items = (2 + len(tickets) + derived.item_count() + len(places) + sum(1 for ticket in tickets if ticket.seat_id)
             + (1 + ledger.items_for(sale[1]) if sale else 0) + len(also))
    if items > TRANSACTION_ITEMS:
        raise InvalidInput("This order spans too many performances, quotas and seats to be written at once; "
                           "split it in two.", errors=[FieldError("lines", "split the order")])
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(order, condition=Order.id.does_not_exist())
            for ticket in tickets:
                transaction.save(ticket)
            for quota_id, change in places.items():
                transaction.update(Quota(tenant_id=actor.tenant_id, id=quota_id),
                                   actions=[Quota.remaining.add(change)],
                                   condition=Quota.remaining >= -change if change < 0 else None,
                                   add_version_condition=False)
            for ticket in tickets:
                if ticket.seat_id:
                    transaction.save(seat_claim(actor.tenant_id, order.id, ticket.performance_id, ticket.seat_id,
                                                ticket.subscription_id), condition=_seat_free_for(ticket, held))
            derived.apply(transaction)
            if sale is not None:
                transaction.save(sale[0])
                ledger.write(transaction, sale[1])
            for item, condition in also:
                transaction.save(item, condition=condition)
            transaction.save(audit_event(actor, "order", order.id, "create", None, snapshot(order)))
    except TransactWriteError as error:
        if not condition_refused(error):  # races lost again and again, or DynamoDB throttling
            raise ServiceUnavailable("Many orders are being placed at this moment; nothing was charged or kept. "
                                     "Please try again in a few seconds.") from error
        raise SoldOut("Some of these places were just sold; nothing was charged or kept. "
                      "Choose again.") from error
    _announce(actor, order, tickets)
    return order, tickets


def _place_changes(tickets: list[Ticket], held: HeldPlaces | None) -> dict[str, int]:
    """What each quota's remaining places change by: minus the places the order takes, plus what
    ``held`` took already (so a cart's places pass to its order with no moment back on sale)."""
    taken = Tally(ticket.quota_id for ticket in tickets)
    given = Tally(held.places) if held else Tally()
    if held and not held.seats <= {(t.performance_id, t.seat_id) for t in tickets if t.seat_id}:
        raise ValueError("an order taking over held seats must take every one of them")
    changes = {quota_id: given[quota_id] - taken[quota_id] for quota_id in taken.keys() | given.keys()}
    return {quota_id: change for quota_id, change in changes.items() if change}


def _seat_free_for(ticket: Ticket, held: HeldPlaces | None):
    """A seat is the order's to claim when nobody holds it, or when ``held``'s owner does."""
    if held and (ticket.performance_id, ticket.seat_id) in held.seats:
        return UniqueKey.entity_id == held.owner_id
    return UniqueKey.key.does_not_exist()


def _announce(actor: Actor, order: Order, tickets: list[Ticket]) -> None:
    from chalicelib.services.orders import mails as order_mail

    if order.paid:  # a hold (option, reservation, card checkout) tells nobody until it is paid
        order_mail.send_confirmation(actor, order, tickets, reason="placed")
        order_mail.notify_team(actor, order, tickets)


def get_order(actor: Actor, order_id: str) -> Order:
    return get_record(actor, Order, order_id)


def tickets_of(order: Order) -> list[Ticket]:
    return list(Ticket.query(tenant_key(order.tenant_id, order.id), consistent_read=True))


def paid_per_ticket(order: Order, tickets: list[Ticket]) -> dict[int, int]:
    """What each ticket costs the buyer, by position: its price less its share of the order's
    discount (shared by price, to the cent, so the shares add up to the order's total)."""
    ranked = sorted(tickets, key=lambda ticket: int(ticket.position))
    shares = allocate(int(order.discount_cents or 0), [int(ticket.price_cents) for ticket in ranked])
    return {int(ticket.position): int(ticket.price_cents) - share for ticket, share in zip(ranked, shares)}


def _receive(actor: Actor, order: Order, tickets: list[Ticket], *, means: str,
             reference: str | None = None) -> tuple[Payment, LedgerEntry]:
    """The order paid now: its payment and the ledger's sale of its valid tickets."""
    shares = paid_per_ticket(order, tickets)
    sold = [ticket for ticket in tickets if ticket.state == "valid"]
    amount = sum(shares[int(ticket.position)] for ticket in sold)
    order.paid_cents = amount
    payment = Payment(order_key=tenant_key(order.tenant_id, order.id), payment_id=ids.new_id(),
                      tenant_id=order.tenant_id, order_id=order.id, amount_cents=amount, currency=order.currency,
                      means=means, reference=reference, received_at=clock.now(), recorded_by=actor.subject)
    effects = ((ticket, {"tickets_sold": 1, "gross_sales_cents": shares[int(ticket.position)]}) for ticket in sold)
    entry = ledger.new_entry(actor, order, "sale", ledger.lines_for(order.tenant_id, effects), amount_cents=amount,
                             means=means, reference=reference)
    return payment, entry


def payments_of(order: Order) -> list[Payment]:
    return list(Payment.query(tenant_key(order.tenant_id, order.id), consistent_read=True))


def save_change(actor: Actor, order: Order, before: Order, *, action: str, tickets: Iterable[Ticket] = (),
                also: Iterable[Any] = (), entry: LedgerEntry | None = None,
                details: dict[str, Any] | None = None) -> Order:
    """Write a change of ``order`` (and of ``tickets``, the new ``also`` items such as a
    payment, and the ledger ``entry`` with the metrics it moves), its listing entries and
    audit, atomically."""
    order.updated_at = clock.now()
    tickets = list(tickets)
    derived = derived_writes(before, order, tickets=tickets)
    after = {**(snapshot(order) or {}), **(details or {})}
    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(order)
            for ticket in tickets:
                transaction.save(ticket)
            for item in also:
                transaction.save(item)
            if entry is not None:
                ledger.write(transaction, entry)
            derived.apply(transaction)
            transaction.save(audit_event(actor, "order", order.id, action, snapshot(before), after))
    except TransactWriteError as error:
        raise ConcurrentChange("The order changed meanwhile; reload it and try again.") from error
    return order


def copy_of(order: Order) -> Order:
    """The order as read, kept to compute what a change replaces."""
    copy = Order()
    copy.deserialize(order.serialize())
    return copy


def edit_buyer(actor: Actor, order_id: str, buyer: dict) -> Order:
    order = get_order(actor, order_id)
    before = copy_of(order)
    order.buyer = Buyer(**{**order.buyer.as_dict(), **buyer})
    return save_change(actor, order, before, action="edit-buyer")


def change_buyer_record(actor: Actor, order_id: str, from_contact_id: str, to_contact_id: str) -> bool:
    """A merge: the order's buyer record ``from_contact_id`` becomes ``to_contact_id`` (audited);
    ``False`` when the order names another record (moved already, or never this one)."""
    for _ in range(5):
        order = get_order(actor, order_id)
        if order.buyer.contact_id != from_contact_id:
            return False
        before = copy_of(order)
        order.buyer.contact_id = to_contact_id
        try:
            save_change(actor, order, before, action="merge-buyer",
                        details={"from_contact_id": from_contact_id, "to_contact_id": to_contact_id})
            return True
        except ConcurrentChange:
            continue
    raise ConcurrentChange(f"Order {order_id} kept changing while its buyer's record was merged.")


ERASED_NAME = "Client effacé"
BUYER_PERSONAL = ("title", "first_name", "email", "address_line1", "address_line2", "postcode", "city")


def erase_buyer(actor: Actor, order_id: str, contact_id: str) -> bool:
    """Erasure of a person: the order's buyer (``contact_id``) and its tickets' attendees lose
    their personal data (the amounts, tickets and documents stay), and the order's past audit
    events lose them too. ``False`` when the order's buyer is someone else or erased already."""
    from chalicelib.services.shared.audit import scrub

    for _ in range(5):
        order = get_order(actor, order_id)
        if order.buyer.contact_id != contact_id:
            return False
        tickets = [ticket for ticket in tickets_of(order) if ticket.attendee_name or ticket.attendee_email]
        if order.buyer.last_name == ERASED_NAME and not tickets:
            break
        before = copy_of(order)
        for name in BUYER_PERSONAL:
            setattr(order.buyer, name, None)
        order.buyer.last_name = ERASED_NAME
        for ticket in tickets:
            ticket.attendee_name = ticket.attendee_email = None
        try:
            save_change(actor, order, before, action="erase-buyer", tickets=tickets, details={"erased": contact_id})
            break
        except ConcurrentChange:
            continue
    scrub(actor.tenant_id, "order", order_id, _forget_people)
    return True


def _forget_people(values: dict | None) -> dict | None:
    if not values:
        return values
    forgotten = dict(values)
    if isinstance(forgotten.get("buyer"), dict):
        forgotten["buyer"] = {name: (None if name in BUYER_PERSONAL else value)
                              for name, value in forgotten["buyer"].items()} | {"last_name": ERASED_NAME}
    return forgotten


class PaidByCardOnly(Conflict):
    kind = "paid-by-card-only"
    title = "A card order is paid only when Stripe confirms its payment"
    title_fr = "Une commande par carte n'est payée que lorsque Stripe confirme le paiement"


class PaidByInstalments(Conflict):
    kind = "paid-by-instalments"
    title = "An order paid by instalments is paid as each is collected"
    title_fr = "Une commande payée en plusieurs fois est payée à chaque échéance encaissée"


def mark_paid(actor: Actor, order_id: str, *, reference: str | None = None) -> Order:
    """Staff record the payment of a cheque, invoice or cash order: the payment is recorded, its
    tickets are valid, the buyer gets them by mail, the team is told. A card order is refused
    (409): only Stripe's webhook completes it, so no ticket is issued for money never taken."""
    order = get_order(actor, order_id)
    require_action(order.status, "mark_paid")
    if order.by_instalments:
        raise PaidByInstalments("This order is paid by instalments the collector takes from the payer's saved "
                                "means; each is recorded as it is collected.")
    if "mark_paid" not in order_actions(order.status, bool(order.paid), order.payment_type):
        raise PaidByCardOnly("This order is paid by card: it completes when Stripe confirms the payment. Take "
                             "another means of payment by changing the order, or send the buyer a card payment link.")
    return _complete(actor, order, means=order.payment_type, reference=reference)


def complete_free(actor: Actor, order_id: str) -> Order:
    """A card checkout that costs nothing (free tariffs, a full discount) completes at once:
    there is nothing for Stripe to take."""
    order = get_order(actor, order_id)
    require_action(order.status, "mark_paid")
    if int(order.total_cents) != 0:
        raise Conflict("Only an order that costs nothing completes without a payment.")
    return _complete(actor, order, means="free", reference=None)


def _complete(actor: Actor, order: Order, *, means: str, reference: str | None) -> Order:
    before = copy_of(order)
    order.paid, order.paid_at = True, clock.now()
    tickets = tickets_of(order)
    order.status = derive_status(True, (ticket.state for ticket in tickets))
    payment, sale = _receive(actor, order, tickets, means=means, reference=reference)
    save_change(actor, order, before, action="mark-paid", also=[payment], entry=sale,
                details={"payment": {"amount_cents": payment.amount_cents, "means": payment.means,
                                     "reference": reference}})
    from chalicelib.services.orders import mails as order_mail

    order_mail.send_confirmation(actor, order, tickets, reason="paid")
    order_mail.notify_team(actor, order, tickets)
    return order


def receive_instalment(actor: Actor, order: Order, *, amount_cents: int, means: str, reference: str,
                       also: Iterable[Any] = ()) -> Order:
    """One instalment of an order paid by instalments, collected: its payment, and in the ledger
    the sale of the order's tickets with the first instalment received (the sale is counted
    once, when money first comes in) or, after it, a payment that moves no figure. With the
    last, the order is paid. Written with ``also`` (the subscription that owed it) in one
    transaction; the caller makes it happen once (its own record of the instalment)."""
    before = copy_of(order)
    tickets = tickets_of(order)
    first = int(order.paid_cents or 0) == 0
    payment = Payment(order_key=tenant_key(order.tenant_id, order.id), payment_id=ids.new_id(),
                      tenant_id=order.tenant_id, order_id=order.id, amount_cents=amount_cents, currency=order.currency,
                      means=means, reference=reference, received_at=clock.now(), recorded_by=actor.subject)
    if first:
        shares = paid_per_ticket(order, tickets)
        effects = ((ticket, {"tickets_sold": 1, "gross_sales_cents": shares[int(ticket.position)]})
                   for ticket in tickets if ticket.state == "valid")
        entry = ledger.new_entry(actor, order, "sale", ledger.lines_for(order.tenant_id, effects),
                                 amount_cents=amount_cents, means=means, reference=reference)
    else:
        entry = ledger.new_entry(actor, order, "payment", [], amount_cents=amount_cents, means=means,
                                 reference=reference)
    order.paid_cents = int(order.paid_cents or 0) + amount_cents
    if order.paid_cents >= int(order.total_cents):
        order.paid, order.paid_at = True, clock.now()
        order.status = derive_status(True, (ticket.state for ticket in tickets))
    return save_change(actor, order, before, action="instalment-received", also=[payment, *also], entry=entry,
                       details={"payment": {"amount_cents": amount_cents, "means": means, "reference": reference}})


def attach_payment_intent(actor: Actor, order_id: str, intent_id: str) -> Order:
    order = get_order(actor, order_id)
    before = copy_of(order)
    order.payment_intent_id = intent_id
    return save_change(actor, order, before, action="payment-intent")
