"""The seat change forms of the console (a ticket's, a subscription's): the new seat typed as
on the venue's plan (block, row, number), who asked, and what happens to a price difference,
read into the API's seat change request; the form's change id, made with it, makes a second
send the same change. A refusal is said beside its field, or as the service's refusal."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

from chalicelib.handlers.console.frame import Refusal, Screen, form_body, refusal_of

FIELDS = ("block", "row", "number", "requested_by", "direction", "amount", "waived", "means", "reference", "note")
# A refused field of the API's request, as the form names it.
FORM_FIELDS = {"seat_id": "block", "price_difference.amount_cents": "amount", "price_difference.means": "means",
               "price_difference.direction": "direction", "price_difference.reference": "reference",
               "price_difference": "direction"}


@dataclass
class SeatForm:
    typed: dict[str, str]
    change_id: str
    errors: dict[str, str] = field(default_factory=dict)
    refusal: Refusal | None = None

    @classmethod
    def read(cls, screen: Screen) -> "SeatForm":
        from chalicelib.services.shared.form_requests import new_request_id

        return cls(typed={name: screen.value(name) for name in FIELDS},
                   change_id=screen.value("change_id", 64) or new_request_id())

    @property
    def status(self) -> int:
        return 409 if self.refusal else 422 if self.errors else 200

    def send(self, screen: Screen, venue_id: str, schema: str, change: Callable[[dict], Any]) -> bool:
        """The change asked for, made by ``change`` with the API's request; ``False`` (and the
        refusal kept for the page) when it was refused."""
        from chalicelib.errors import DomainError, InvalidInput
        from chalicelib.services.catalog import catalog

        try:
            typed = self.typed
            new_seat = catalog.seat_at(screen.actor, venue_id, typed["block"], typed["row"], typed["number"])
            if new_seat is None:
                raise InvalidInput.on("block", screen.say(
                    "aucune place de la salle à cet endroit (bloc, rang, numéro écrits comme sur le plan)",
                    "no seat of the venue at this place (block, row, number written as on the plan)"))
            change(form_body(self.request(screen, new_seat.id), schema).model_dump(exclude_none=True))
            return True
        except DomainError as refused:
            self.errors = {FORM_FIELDS.get(error.field, error.field.split(".")[-1]): screen.field_message(error)
                           for error in refused.errors}
            self.refusal = None if isinstance(refused, InvalidInput) else refusal_of(screen, refused)
            return False

    def request(self, screen: Screen, seat_id: str) -> dict:
        """The API's seat change: no price difference unless one is chosen; its amount typed in
        euros the French or English way (``Screen.hundredths``; none typed: for the schema to
        refuse)."""
        typed = self.typed
        request: dict[str, Any] = {"change_id": self.change_id, "seat_id": seat_id,
                                   "requested_by": typed["requested_by"], "note": typed["note"] or None}
        if typed["direction"]:
            amount: Any = screen.hundredths("amount") if typed["amount"] else None
            request["price_difference"] = {"direction": typed["direction"], "amount_cents": amount,
                                           "waived": bool(typed["waived"]), "means": typed["means"] or None,
                                           "reference": typed["reference"] or None}
        return request
