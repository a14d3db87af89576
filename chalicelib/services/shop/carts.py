"""The public shop's cart: what a spectator adds, holds, changes and pays, without logging in.

A cart belongs to one venue and is reached by a **signed cart token** (the venue and the
cart's id, signed: a cart of another venue, or a made-up one, is a 404). It holds its places
**from the moment they are added**: each change is one transaction writing the cart (under its
version: two tabs changing one cart cannot both pass), the quotas' remaining places (taken
with the condition that enough remain, given back when a line shrinks or goes), and the seats,
claimed in the cart's name (``seat_sold`` unique keys of entity type ``cart``: nobody else can
buy or hold them meanwhile). The hold lasts ``CART_HOLD_MINUTES`` from the cart's opening and
is not extended by later changes, so a script cannot keep places by touching its cart.

Bounds, so a script cannot lock a performance: at most ``CART_MAX_ITEMS`` lines and
``CART_MAX_TICKETS`` places per cart, and ``CARTS_PER_CLIENT_HOUR`` carts opened per client
address (the one API Gateway saw) in a UTC hour, counted by one conditional write (a keyed
digest of the address, never the address).

Every addition runs the performance's **geographic limits** (:mod:`.geo_limits`) on the
connection's address, with the message of the cart's point of sale in the cart's language;
**checkout runs them again** for every performance, so a cart filled from elsewhere cannot
slip through. Checkout places the card order through the shop's checkout
(:func:`chalicelib.services.orders.checkout.shop_checkout`), which **takes over** the cart's
places and seats in the order's own transaction (no moment back on sale) and closes the cart
in it; a second checkout of the same cart answers the same order and payment.

A cart whose hold is over gives everything back: the follow-up schedule's ``expire-cart``
due action (written with the cart) calls :func:`expire_cart`; a checkout or a change of an
expired cart does it at once. Rules and examples: ``docs/shop.md``.
"""
from __future__ import annotations

from collections import Counter as Tally
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from chalicelib.adapters import clock, ids, signing
from chalicelib.config import settings
from chalicelib.errors import ConcurrentChange, Conflict, DomainError, FieldError, InvalidInput, NotFound
from chalicelib.models.base import TENANT_ID_PATTERN, connection, tenant_key
from chalicelib.models.carts import Cart, CartRate
from chalicelib.models.catalog import SalesChannel
from chalicelib.models.unique_keys import UniqueKey
from chalicelib.observability import logger
from chalicelib.services.shared.actors import Actor
from chalicelib.services.shared.audit import audit_event, snapshot
from chalicelib.services.shop import geo_limits
from chalicelib.values.text import in_language

TOKEN_PURPOSE = "shop-cart"
EXPIRE_ACTION = "expire-cart"
LAST_MINUTES_TO_PAY = timedelta(minutes=5)  # a checkout at the hold's last second still leaves time to type a card
KEPT_AFTER_END = timedelta(days=30)  # a closed cart's record (what it held, which order) is kept this long


class CartClosed(Conflict):
    kind = "cart-closed"
    title = "This cart is no longer open"
    title_fr = "Ce panier n'est plus ouvert"


class CartFull(Conflict):
    kind = "cart-full"
    title = "The cart holds as many places as it may"
    title_fr = "Le panier contient déjà autant de places qu'il peut"


class NotOnSale(Conflict):
    kind = "not-on-sale"
    title = "This performance is not on sale"
    title_fr = "Cette séance n'est pas en vente"


class TooManyCarts(DomainError):
    status = 429
    kind = "too-many-carts"
    title = "Too many carts opened from this connection"
    title_fr = "Trop de paniers ouverts depuis cette connexion"


def _say(cart_or_language: Cart | str, french: str, english: str) -> str:
    return in_language(cart_or_language if isinstance(cart_or_language, str) else cart_or_language.language,
                       french, english)


# -- the token ---------------------------------------------------------------------------------


def token_of(cart: Cart) -> str:
    """The cart's public handle: its venue and id, signed (valid a day past the hold's end)."""
    until = int((cart.expires_at + timedelta(days=1)).timestamp())
    return signing.sign(TOKEN_PURPOSE, {"t": cart.tenant_id, "c": cart.id}, expires_at=until)


def _cart_id(tenant_id: str, token: str) -> str:
    try:
        payload = signing.verify(TOKEN_PURPOSE, token)
    except signing.BadSignature:
        raise NotFound("No such cart.") from None
    if payload.get("t") != tenant_id:
        raise NotFound("No such cart.")
    return payload["c"]


def get_cart(tenant_id: str, token: str) -> Cart:
    """The cart ``token`` names, for the venue ``tenant_id`` (404 for anything else)."""
    if not TENANT_ID_PATTERN.match(tenant_id or ""):
        raise NotFound("No such shop.")
    try:
        return Cart.get(tenant_id, _cart_id(tenant_id, token), consistent_read=True)
    except Cart.DoesNotExist:
        raise NotFound("No such cart.") from None


# -- opening -------------------------------------------------------------------------------------


def _digest(client_address: str) -> str:
    return signing.keyed_digest("cart-client", client_address)


def open_cart(tenant_id: str, *, channel_id: str | None, language: str, client_address: str | None) -> Cart:
    """A new, empty cart holding nothing yet, its hold counted from now; 429 past the client
    address's carts for this hour."""
    if not TENANT_ID_PATTERN.match(tenant_id or ""):
        raise NotFound("No such shop.")
    if channel_id and not _channel_exists(tenant_id, channel_id):
        raise InvalidInput.on("channel_id", "unknown point of sale")
    now = clock.now()
    expires_at = now + timedelta(minutes=settings.cart_hold_minutes)
    cart = Cart(tenant_id=tenant_id, id=ids.new_id(), channel_id=channel_id, language=language, expires_at=expires_at,
                client_digest=_digest(client_address) if client_address else None, items=[],
                expires_on=expires_at + KEPT_AFTER_END)
    actor = _actor(tenant_id)
    from chalicelib.services.orders.follow_up import due_item

    try:
        with TransactWrite(connection=connection()) as transaction:
            transaction.save(cart, condition=Cart.id.does_not_exist())
            if client_address:
                _count_opening(transaction, tenant_id, cart.client_digest, now)
            transaction.save(due_item(tenant_id, cart.id, EXPIRE_ACTION, expires_at))
            transaction.save(audit_event(actor, "cart", cart.id, "open", None, snapshot(cart)))
    except TransactWriteError as error:
        if client_address and _failed_at(error, 3):  # puts (cart, due action, audit), then the count's update
            raise TooManyCarts(_say(language, "Trop de paniers ont été ouverts depuis cette connexion. Réessayez "
                                              "dans une heure.",
                                    "Too many carts were opened from this connection. Please try again in an "
                                    "hour.")) from error
        raise
    return cart


def _channel_exists(tenant_id: str, channel_id: str) -> bool:
    if not ids.is_id(channel_id):
        return False
    try:
        SalesChannel.get(tenant_id, channel_id)
        return True
    except SalesChannel.DoesNotExist:
        return False


def _count_opening(transaction: TransactWrite, tenant_id: str, digest: str, now: datetime) -> None:
    hour = now.replace(minute=0, second=0, microsecond=0)
    rate = CartRate(rate_key=tenant_key(tenant_id, "cart_rate", digest, hour.strftime("%Y%m%d%H")))
    transaction.update(rate, actions=[CartRate.opened.add(1), CartRate.hour.set(hour),
                                      CartRate.expires_on.set(hour + timedelta(hours=2))],
                       condition=CartRate.opened.does_not_exist() | (CartRate.opened < settings.carts_per_client_hour))


def _failed_at(error: TransactWriteError, index: int) -> bool:
    reasons = getattr(error, "cancellation_reasons", None) or []
    return len(reasons) > index and reasons[index] is not None and reasons[index].code == "ConditionalCheckFailed"


def _actor(tenant_id: str) -> Actor:
    return Actor.system(tenant_id, "shop")


# -- lines -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """What a buyer asks to add: one performance, tariff and quota, and a quantity or chosen seats."""

    performance_id: str
    tariff_id: str
    quota_id: str
    quantity: int | None = None
    seat_ids: tuple[str, ...] = ()


def add_line(tenant_id: str, token: str, line: Line, *, client_address: str | None) -> Cart:
    """Add ``line`` to the cart and hold its places (the same performance, tariff and quota
    without seats adds to the line already there)."""
    cart = _open(tenant_id, token)
    item = _priced_item(cart, line)
    geo_limits.check_location(tenant_id, line.performance_id, client_address, channel_id=cart.channel_id,
                              language=cart.language)
    same = next((kept for kept in cart.items if not item["seat_ids"] and not kept["seat_ids"]
                 and _same_place(kept, item)), None)
    if same is not None:
        items = [dict(kept, quantity=kept["quantity"] + item["quantity"]) if kept is same else kept
                 for kept in cart.items]
    else:
        items = [*cart.items, item]
    return _hold(cart, items, action="add", details={"item_id": same["id"] if same else item["id"]})


def change_line(tenant_id: str, token: str, item_id: str, *, quantity: int | None,
                seat_ids: tuple[str, ...] | None) -> Cart:
    """Change a line's quantity (a line without seats) or its seats (a line with seats)."""
    cart = _open(tenant_id, token)
    kept = _item(cart, item_id)
    if kept["seat_ids"]:
        if seat_ids is None:
            raise InvalidInput.on("seat_ids", "a line with seats changes by its seats")
        changed = _priced_item(cart, Line(kept["performance_id"], kept["tariff_id"], kept["quota_id"],
                                          seat_ids=tuple(seat_ids)))
    else:
        if quantity is None or seat_ids:
            raise InvalidInput.on("quantity", "a line without seats changes by its quantity")
        changed = dict(kept, quantity=quantity)
    items = [dict(changed, id=item_id) if entry["id"] == item_id else entry for entry in cart.items]
    return _hold(cart, items, action="change", details={"item_id": item_id})


def remove_line(tenant_id: str, token: str, item_id: str) -> Cart:
    """Take a line out of the cart: its places go back on sale at once."""
    cart = _open(tenant_id, token)
    _item(cart, item_id)
    return _hold(cart, [entry for entry in cart.items if entry["id"] != item_id], action="remove",
                 details={"item_id": item_id})


def _same_place(one: dict, other: dict) -> bool:
    return all(one[name] == other[name] for name in ("performance_id", "tariff_id", "quota_id"))


def _item(cart: Cart, item_id: str) -> dict:
    found = next((entry for entry in cart.items if entry["id"] == item_id), None)
    if found is None:
        raise NotFound(_say(cart, "Cette ligne n'est pas dans le panier.", "This line is not in the cart."))
    return found


def _priced_item(cart: Cart, line: Line) -> dict:
    """The line checked against the catalog (422 naming the field), on sale, priced."""
    from chalicelib.services.orders import orders

    seat_ids = tuple(dict.fromkeys(line.seat_ids))
    if len(seat_ids) != len(line.seat_ids):
        raise InvalidInput.on("seat_ids", "the same seat appears twice")
    if seat_ids and line.quantity not in (None, len(seat_ids)):
        raise InvalidInput.on("quantity", "with seats, the quantity is the number of seats")
    if not seat_ids and not line.quantity:
        raise InvalidInput.on("quantity", "a quantity, or seats")
    asked = {"performance_id": line.performance_id, "tariff_id": line.tariff_id, "quota_id": line.quota_id}
    priced = [_price(orders, cart, {**asked, "seat_id": seat_id}) for seat_id in seat_ids] or [_price(orders, cart,
                                                                                                       asked)]
    first = priced[0]
    _refuse_off_sale(cart, first.performance)
    return {"id": ids.new_id(), **asked, "quantity": len(seat_ids) or int(line.quantity),
            "seat_ids": list(seat_ids), "seat_labels": [f"{p.seat.block} {p.seat.row} {p.seat.number}" for p in priced
                                                        if p.seat],
            "unit_price_cents": int(first.price_cents), "currency": first.tariff.currency}


def _price(orders_module, cart: Cart, asked: dict):
    try:
        return orders_module.price_line(_actor(cart.tenant_id), 0, asked)
    except (InvalidInput, Conflict) as error:  # the orders' checks name ``lines.0.<field>``: here the line is the body
        fields = [FieldError(refused.field.removeprefix("lines.0.").replace("seat_id", "seat_ids"), refused.message)
                  for refused in error.errors]
        raise type(error)(error.detail, errors=fields) from None


def _refuse_off_sale(cart: Cart, performance) -> None:
    if performance.status != "scheduled" or performance.starts_at <= clock.now():
        raise NotOnSale(_say(cart, "Cette séance n'est pas en vente.", "This performance is not on sale."))


# -- holding: one transaction per change ----------------------------------------------------------


def _open(tenant_id: str, token: str) -> Cart:
    """The cart, if it may still change; one whose hold is over is released now and refused."""
    cart = get_cart(tenant_id, token)
    if cart.state == "open" and cart.expires_at <= clock.now():
        expire_cart(_actor(tenant_id), cart.id)
        cart = get_cart(tenant_id, token)
    if cart.state != "open":
        raise CartClosed(_closed_message(cart))
    return cart


def _closed_message(cart: Cart) -> str:
    if cart.state == "checked_out":
        return _say(cart, "Ce panier a été validé : sa commande est en cours de paiement.",
                    "This cart was checked out: its order is being paid.")
    if cart.state == "released":
        return _say(cart, "Le paiement n'a pas pu commencer : rien n'a été débité et les places ont été remises en "
                          "vente. Recommencez dans un instant.",
                    "The payment could not start: nothing was charged and the places went back on sale. Please "
                    "start again in a moment.")
    return _say(cart, "Le temps de réservation de ce panier est écoulé : ses places ont été remises en vente.",
                "This cart's hold time is over: its places went back on sale.")


def places_of(items: list[dict]) -> Tally:
    """Places held per quota."""
    held: Tally = Tally()
    for item in items:
        held[item["quota_id"]] += int(item["quantity"])
    return held


def seats_of(items: list[dict]) -> dict[tuple[str, str], str]:
    """Seats held, as (performance, seat) → the seat's label."""
    return {(item["performance_id"], seat_id): label for item in items
            for seat_id, label in zip(item["seat_ids"], item.get("seat_labels") or item["seat_ids"])}


def _check_bounds(cart: Cart, items: list[dict]) -> None:
    if len(items) > settings.cart_max_items:
        raise CartFull(_say(cart, f"Un panier contient au plus {settings.cart_max_items} lignes.",
                            f"A cart holds at most {settings.cart_max_items} lines."))
    if sum(int(item["quantity"]) for item in items) > settings.cart_max_tickets:
        raise CartFull(_say(cart, f"Un panier contient au plus {settings.cart_max_tickets} places.",
                            f"A cart holds at most {settings.cart_max_tickets} places."))


def _hold(cart: Cart, items: list[dict], *, action: str, details: dict, state: str | None = None) -> Cart:
    """Write the cart with ``items`` (and ``state``), taking and giving back places and seats."""
    from chalicelib.models.catalog import Quota
    from chalicelib.services.orders.orders import seat_claim

    if state is None:
        _check_bounds(cart, items)
    before = snapshot(cart)
    held_before, held_after = places_of(cart.items), places_of(items)
    seats_before, seats_after = seats_of(cart.items), seats_of(items)
    cart.items, cart.updated_at = items, clock.now()
    if state is not None:
        cart.state = state
    # DynamoDB answers a cancelled transaction's reasons in the order PynamoDB sends its items:
    # deletes, then puts, then updates; ``steps`` follows that order to name what failed.
    steps: list[tuple[str, Any]] = []
    try:
        with TransactWrite(connection=connection()) as transaction:
            for seat in sorted(seats_before.keys() - seats_after.keys()):
                transaction.delete(seat_claim(cart.tenant_id, cart.id, *seat),
                                   condition=UniqueKey.entity_id == cart.id)
                steps.append(("seat given back", seat))
            transaction.save(cart)  # version checked: another change of the cart meanwhile fails this
            steps.append(("cart", None))
            for seat in sorted(seats_after.keys() - seats_before.keys()):
                claim = seat_claim(cart.tenant_id, cart.id, *seat)
                claim.entity_type = "cart"
                transaction.save(claim, condition=UniqueKey.key.does_not_exist())
                steps.append(("seat", seats_after[seat]))
            transaction.save(audit_event(_actor(cart.tenant_id), "cart", cart.id, action, before,
                                         {**(snapshot(cart) or {}), **details}))
            steps.append(("audit", None))
            for quota_id in sorted(held_before.keys() | held_after.keys()):
                change = held_before[quota_id] - held_after[quota_id]
                if change:
                    transaction.update(Quota(tenant_id=cart.tenant_id, id=quota_id),
                                       actions=[Quota.remaining.add(change)],
                                       condition=Quota.remaining >= -change if change < 0 else None,
                                       add_version_condition=False)
                    steps.append(("quota", quota_id))
    except TransactWriteError as error:
        raise _refusal(cart, steps, error) from error
    return cart


def _refusal(cart: Cart, steps: list[tuple[str, Any]], error: TransactWriteError) -> DomainError:
    reasons = getattr(error, "cancellation_reasons", None) or []
    failed = [step for step, reason in zip(steps, reasons)
              if reason is not None and reason.code == "ConditionalCheckFailed"]
    from chalicelib.services.orders.orders import SeatTaken, SoldOut

    for what, value in failed:
        if what == "seat":
            return SeatTaken(_say(cart, f"La place {value} vient d'être prise ; choisissez-en une autre.",
                                  f"Seat {value} was just taken; please choose another."),
                             errors=[FieldError("seat_ids", f"{value}: taken")])
        if what == "quota":
            return SoldOut(_say(cart, "Il n'y a plus assez de places pour cette séance à ce tarif.",
                                "There are not enough places left for this performance at this price."))
    return _changed_meanwhile(cart)


def _changed_meanwhile(cart: Cart) -> ConcurrentChange:
    return ConcurrentChange(_say(cart, "Le panier a changé entre-temps (un autre onglet ?) ; rechargez-le.",
                                 "The cart changed meanwhile (another tab?); reload it."))


# -- the end of a cart ----------------------------------------------------------------------------


EXPIRED, NOT_OPEN, NOT_OVER = "expired", "not open", "hold not over"


EXPIRY_ATTEMPTS = 3


def expire_cart(actor: Actor, cart_id: str) -> str:
    """Give back what a cart whose hold is over holds: ``expired``, or why nothing was done.
    Changed or checked out meanwhile, it is read again (a few times; then the error is raised and
    the schedule's job tries later)."""
    for attempt in range(1, EXPIRY_ATTEMPTS + 1):
        try:
            cart = Cart.get(actor.tenant_id, cart_id, consistent_read=True)
        except Cart.DoesNotExist:
            return NOT_OPEN
        if cart.state != "open":
            return NOT_OPEN
        if cart.expires_at > clock.now():
            return NOT_OVER
        try:
            _hold(cart, [], action="expire", details={"reason": "hold time over"}, state="expired")
        except ConcurrentChange:
            if attempt == EXPIRY_ATTEMPTS:
                raise
            continue
        logger.info("cart expired, places given back", extra={"cart_id": cart.id})
        return EXPIRED
    raise AssertionError("the loop returns or raises")


@dataclass(frozen=True)
class CartCheckout:
    """A checked-out cart: the order placed and how to pay it (see orders' ``Checkout``)."""

    cart: Cart
    checkout: Any


def check_out(tenant_id: str, token: str, buyer: dict, *, client_address: str | None) -> CartCheckout:
    """Pay the cart: the geographic limits again, then the card order taking over its places
    and seats, closing the cart in the same transaction. Asked again, the same order."""
    from chalicelib.services.orders import checkout, orders

    cart = get_cart(tenant_id, token)
    if cart.state == "checked_out":
        return CartCheckout(cart, checkout.checkout_of(_actor(tenant_id), cart.order_id))
    cart = _open(tenant_id, token)
    if not cart.items:
        raise Conflict(_say(cart, "Le panier est vide.", "The cart is empty."))
    for performance_id in sorted({item["performance_id"] for item in cart.items}):
        geo_limits.check_location(tenant_id, performance_id, client_address, channel_id=cart.channel_id,
                                  language=cart.language)
    held = orders.HeldPlaces(owner_id=cart.id, places=dict(places_of(cart.items)),
                             seats=frozenset(seats_of(cart.items)))
    cart.state, cart.order_id = "checked_out", ids.new_id()
    until = max(cart.expires_at, clock.now() + LAST_MINUTES_TO_PAY)
    try:
        made = checkout.shop_checkout(tenant_id, {"buyer": buyer, "channel_id": cart.channel_id,
                                                  "lines": order_lines(cart.items)},
                                      client_address=client_address, until=until, held=held, also=[(cart, None)],
                                      order_id=cart.order_id)
    except checkout.PaymentUnavailable:  # the order's places went back on sale: so did the cart's
        _mark_released(tenant_id, token)
        raise
    except orders.SoldOut:  # the cart's places are its own: what failed is the cart, changed or ended meanwhile
        current = get_cart(tenant_id, token)
        if current.state != "open":
            raise CartClosed(_closed_message(current)) from None
        raise _changed_meanwhile(cart) from None
    return CartCheckout(cart, made)


def check_out_directly(tenant_id: str, draft: dict, *, client_address: str | None):
    """The shop's checkout of lines sent at once (no cart): the same geographic limits, in the
    buyer's language, then the card order."""
    from chalicelib.services.orders import checkout

    language = draft["buyer"].get("language") or "fr"
    if TENANT_ID_PATTERN.match(tenant_id or ""):
        for performance_id in sorted({line["performance_id"] for line in draft["lines"]}):
            geo_limits.check_location(tenant_id, performance_id, client_address, channel_id=draft.get("channel_id"),
                                      language=language)
    return checkout.shop_checkout(tenant_id, draft, client_address=client_address)


def _mark_released(tenant_id: str, token: str) -> None:
    cart = get_cart(tenant_id, token)
    if cart.state == "checked_out":
        before = snapshot(cart)
        cart.state = "released"
        try:
            with TransactWrite(connection=connection()) as transaction:
                transaction.save(cart)
                transaction.save(audit_event(_actor(tenant_id), "cart", cart.id, "release",
                                             before, {**(snapshot(cart) or {}), "reason": "payment unavailable"}))
        except TransactWriteError:
            logger.warning("cart not marked released after its payment could not start", extra={"cart_id": cart.id})


def order_lines(items: list[dict]) -> list[dict]:
    """The order's lines for the cart's items: one per seat, or ``quantity`` of the same."""
    lines = []
    for item in items:
        asked = {"performance_id": item["performance_id"], "tariff_id": item["tariff_id"],
                 "quota_id": item["quota_id"]}
        lines += ([{**asked, "seat_id": seat_id} for seat_id in item["seat_ids"]]
                  or [dict(asked) for _ in range(int(item["quantity"]))])
    return lines


def line_total(item: dict) -> int:
    return int(item["unit_price_cents"]) * int(item["quantity"])


def total_of(cart: Cart) -> int:
    return sum(line_total(item) for item in cart.items)
