"""The public shop's cart: opening one, a line to add or change, the cart as the buyer sees it."""
from __future__ import annotations

from datetime import datetime

from pydantic import Field

from chalicelib.schemas.common import Id, InputModel, Language, OutputModel
from chalicelib.schemas.orders import ShopBuyerIn


class CartOpenIn(InputModel):
    channel_id: Id | None = Field(default=None, description="The point of sale (its refusal message for "
                                                            "geographic limits)")
    language: Language = Field(default="fr", description="The buyer's language for the cart's messages")


class CartLineIn(InputModel):
    """A quantity of unnumbered places, or the chosen seats (then ``quantity`` is their number)."""

    performance_id: Id
    tariff_id: Id
    quota_id: Id
    quantity: int | None = Field(default=None, ge=1, le=100)
    seat_ids: list[Id] | None = Field(default=None, min_length=1, max_length=100)


class CartLineChangeIn(InputModel):
    quantity: int | None = Field(default=None, ge=1, le=100, description="A line without seats")
    seat_ids: list[Id] | None = Field(default=None, min_length=1, max_length=100, description="A line with seats")


class CartCheckoutIn(InputModel):
    buyer: ShopBuyerIn


class CartLineOut(OutputModel):
    item_id: str
    performance_id: str
    tariff_id: str
    quota_id: str
    quantity: int
    seat_ids: list[str]
    seat_labels: list[str]
    unit_price_cents: int
    total_cents: int
    currency: str


class CartOut(OutputModel):
    cart: str = Field(description="The cart's token: the path's {cart} in every later call")
    state: str = Field(description="open, checked_out (see order_id), expired")
    hold_until: datetime = Field(description="The places are held until then (the hold is not extended by changes)")
    lines: list[CartLineOut]
    ticket_count: int
    total_cents: int
    currency: str | None
    order_id: str | None
