"""Check-in values: what a ticket's QR code carries, and the check at the door.

The value is a token signed for the purpose ``checkin`` (:mod:`chalicelib.adapters.signing`)
over the tenant, the order, the ticket's position and the ticket's random ``checkin_code``,
with one-letter keys to keep the QR code small. A forged or altered value fails its
signature; a genuine value still checks in only while its ticket is valid (not cancelled
nor refunded), its order is paid, and the ticket still has that check-in code (a code can
be renewed to void printed copies).

The scanning API is not built yet: :func:`check_in` is the service it will call.
"""
from __future__ import annotations

from chalicelib.adapters import signing
from chalicelib.errors import Conflict
from chalicelib.models.base import TENANT_ID_PATTERN, tenant_key
from chalicelib.models.orders import Order, Ticket
from chalicelib.services.shared.actors import Actor

PURPOSE = "checkin"


class CheckinRefused(Conflict):
    """The value does not admit anyone; ``reason`` says why (for the scanner's screen and logs):
    ``forged``, ``unknown``, ``cancelled``, ``refunded``, ``unpaid``, ``superseded``."""

    kind = "checkin-refused"
    title = "This ticket does not admit entry"
    title_fr = "Ce billet ne permet pas l'entrée"

    def __init__(self, detail: str, *, reason: str) -> None:
        super().__init__(detail)
        self.reason = reason


def checkin_value(ticket: Ticket) -> str:
    """The signed value printed in the ticket's QR code."""
    return signing.sign(PURPOSE, {"t": ticket.tenant_id, "o": ticket.order_id, "p": int(ticket.position),
                                  "c": ticket.checkin_code})


def _payload(value: str) -> dict:
    if not isinstance(value, str) or len(value) > 1000:
        raise CheckinRefused("This is not one of our tickets.", reason="forged")
    try:
        payload = signing.verify(PURPOSE, value.strip())
    except signing.BadSignature:
        raise CheckinRefused("This ticket's code is not genuine (altered or forged).", reason="forged") from None
    if (not isinstance(payload, dict) or not isinstance(payload.get("t"), str)
            or not TENANT_ID_PATTERN.match(payload["t"]) or not isinstance(payload.get("o"), str)
            or not isinstance(payload.get("p"), int) or not isinstance(payload.get("c"), str)):
        raise CheckinRefused("This ticket's code is not genuine.", reason="forged")
    return payload


def read_checkin_value(value: str) -> tuple[str, str, int]:
    """``(tenant_id, order_id, position)`` of a genuine value; :class:`CheckinRefused` (reason
    ``forged``) if it was altered, truncated, forged or signed for another purpose."""
    payload = _payload(value)
    return payload["t"], payload["o"], payload["p"]


def check_in(actor: Actor, value: str) -> Ticket:
    """The ticket a scanned value admits, or :class:`CheckinRefused` saying why not.

    Another tenant's genuine ticket is refused as unknown, exactly like a ticket that does
    not exist. Nothing is written: whether a ticket was already scanned is not recorded yet.
    """
    payload = _payload(value)
    if payload["t"] != actor.tenant_id:
        raise CheckinRefused("This ticket is not for this organisation's events.", reason="unknown")
    try:
        ticket = Ticket.get(tenant_key(actor.tenant_id, payload["o"]), payload["p"], consistent_read=True)
    except Ticket.DoesNotExist:
        raise CheckinRefused("No such ticket.", reason="unknown") from None
    if ticket.checkin_code != payload["c"]:
        raise CheckinRefused("This ticket was replaced by a newer one; ask for the current ticket.",
                             reason="superseded")
    if ticket.state != "valid":
        raise CheckinRefused(f"This ticket was {ticket.state}.", reason=ticket.state)
    try:
        order = Order.get(actor.tenant_id, ticket.order_id, consistent_read=True)
    except Order.DoesNotExist:
        raise CheckinRefused("No such order.", reason="unknown") from None
    if not order.paid:
        raise CheckinRefused("This order is not paid yet: its tickets are not valid until it is.", reason="unpaid")
    return ticket
