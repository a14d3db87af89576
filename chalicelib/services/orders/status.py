"""An order's status, derived from its tickets and payment, and what staff may do in each.

Statuses (DOMAIN §2): ``unpaid`` (non payée), ``complete``, ``partially_complete`` ("X/Y
Complete": some tickets cancelled or refunded), ``refunded`` (all), ``cancelled`` (all),
``refunded_cancelled`` (none valid, a mix). A refunded ticket is also cancelled, so ticket
states are ``valid``, ``cancelled`` (not refunded) and ``refunded``.

The action matrix is the domain's table; the two statuses it does not list follow the
closest one: ``partially_complete`` acts as ``complete`` (its remaining tickets are
complete), ``refunded_cancelled`` as ``cancelled`` for what can still be refunded and as
``refunded`` otherwise. An action not allowed answers 409 and changes nothing.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable

from chalicelib.errors import Conflict

STATUSES = ("unpaid", "complete", "partially_complete", "refunded", "cancelled", "refunded_cancelled")
LABELS_FR = {"unpaid": "Non payée", "complete": "Complète", "partially_complete": "{valid}/{total} complète",
             "refunded": "Remboursée", "cancelled": "Annulée", "refunded_cancelled": "Remboursée/Annulée"}

ACTIONS: dict[str, frozenset[str]] = {
    "mark_paid": frozenset({"unpaid"}),
    "resend_confirmation": frozenset({"complete", "partially_complete"}),
    "view_ticket": frozenset({"unpaid", "complete", "partially_complete", "cancelled"}),
    "view_receipt": frozenset({"complete", "partially_complete", "refunded", "cancelled", "refunded_cancelled"}),
    "view_invoice": frozenset({"unpaid", "complete", "partially_complete", "cancelled"}),
    "refund": frozenset({"complete", "partially_complete", "cancelled", "refunded_cancelled"}),
    "cancel": frozenset({"unpaid", "complete", "partially_complete"}),
}


class ActionNotAllowed(Conflict):
    kind = "action-not-allowed"
    title = "This action is not allowed in the order's status"
    title_fr = "Cette action n'est pas permise dans le statut de la commande"


def derive_status(paid: bool, ticket_states: Iterable[str]) -> str:
    counts = Counter(ticket_states)
    total, valid = sum(counts.values()), counts["valid"]
    if total == 0:
        raise ValueError("an order has at least one ticket")
    if valid:
        if not paid:
            return "unpaid"
        return "complete" if valid == total else "partially_complete"
    if counts["refunded"] == total:
        return "refunded"
    if counts["cancelled"] == total:
        return "cancelled"
    return "refunded_cancelled"


def allowed_actions(status: str) -> list[str]:
    return [action for action, statuses in ACTIONS.items() if status in statuses]


def order_actions(status: str, paid: bool, payment_type: str | None = None) -> list[str]:
    """The order's allowed actions, less a refund when no money was ever received, and less
    "mark as paid" for a card order (only Stripe's confirmation completes it)."""
    return [action for action in allowed_actions(status) if (paid or action != "refund")
            and not (action == "mark_paid" and payment_type == "card")]


def ticket_actions(status: str, paid: bool, ticket_state: str) -> list[str]:
    """What staff may do with one attendee's ticket, within what the order's status allows."""
    allowed = set(allowed_actions(status))
    per_ticket = {
        "view_ticket": ticket_state == "valid",
        "cancel": ticket_state == "valid",
        "refund": paid and ticket_state != "refunded",
        "resend_confirmation": ticket_state == "valid",
    }
    return [action for action, possible in per_ticket.items() if possible and action in allowed]


def require_action(status: str, action: str) -> None:
    """409 (and nothing changed) unless ``action`` is allowed in ``status``."""
    if status not in ACTIONS[action]:
        raise ActionNotAllowed(f"'{action}' is not allowed on an order whose status is '{status}'; "
                               f"allowed: {', '.join(allowed_actions(status)) or 'nothing'}.")


def status_label(status: str, valid: int, total: int) -> str:
    return LABELS_FR[status].format(valid=valid, total=total)
