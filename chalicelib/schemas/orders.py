"""Order requests and responses: a box-office order, the staff list, order details, buyer edits."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from chalicelib.schemas.catalog import UTCDatetime
from chalicelib.schemas.common import (
    Cents,
    Code,
    EmailAddress,
    Id,
    InputModel,
    Language,
    Name,
    OutputModel,
    PageQuery,
    ShortText,
)
from chalicelib.values import french_ids

OrderKind = Literal["sale", "option", "reservation"]
BoxOfficePayment = Literal["cash", "card", "cheque", "invoice"]
OrderStatus = Literal["unpaid", "complete", "partially_complete", "refunded", "cancelled", "refunded_cancelled"]
Title = Literal["M.", "Mme", "Mx", "Dr", "Me"]
Postcode = Annotated[str, StringConstraints(max_length=16)]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


CompanySiret = Annotated[str, StringConstraints(max_length=40), AfterValidator(french_ids.check_siret),
                        Field(description="The buyer company's SIRET (14 digits; spaces allowed)")]
CompanyVatNumber = Annotated[str, StringConstraints(max_length=40), AfterValidator(french_ids.check_buyer_vat_number),
                             Field(description="The buyer company's intra-community VAT number")]


class CompanyFields(InputModel):
    """A business buyer: its name, SIRET and VAT number go on the invoice."""

    company_name: ShortText | None = None
    company_siret: CompanySiret | None = None
    company_vat_number: CompanyVatNumber | None = None


class BuyerFields(CompanyFields):
    title: Title | None = None
    first_name: ShortText | None = None
    last_name: Name
    email: EmailAddress | None = None
    language: Language = "fr"
    address_line1: ShortText | None = None
    address_line2: ShortText | None = None
    postcode: Postcode | None = None
    city: ShortText | None = None
    country: Country | None = None


class BuyerIn(BuyerFields):
    contact_id: Id | None = None


class BuyerPatch(CompanyFields):
    title: Title | None = None
    first_name: ShortText | None = None
    last_name: Name = None
    email: EmailAddress | None = None
    language: Language = None
    address_line1: ShortText | None = None
    address_line2: ShortText | None = None
    postcode: Postcode | None = None
    city: ShortText | None = None
    country: Country | None = None


class OrderLineIn(InputModel):
    performance_id: Id
    tariff_id: Id
    quota_id: Id
    seat_id: Id | None = None
    attendee_name: ShortText | None = None
    attendee_email: EmailAddress | None = None


class OrderIn(InputModel):
    """A box-office order. Cash is paid on the spot; card is paid when the card reader confirms
    the returned PaymentIntent (``client_secret``); cheque and invoice start unpaid; options and
    reservations are held unpaid until their deadline."""

    kind: OrderKind = "sale"
    payment_type: BoxOfficePayment
    deadline: UTCDatetime | None = None
    buyer: BuyerIn
    lines: list[OrderLineIn] = Field(min_length=1, max_length=40)
    promo_code: Code | None = None
    discount_cents: Cents = 0
    channel_id: Id | None = None


class BuyerOut(OutputModel):
    contact_id: str | None = None
    title: str | None = None
    first_name: str | None = None
    last_name: str
    email: str | None = None
    language: str
    address_line1: str | None = None
    address_line2: str | None = None
    postcode: str | None = None
    city: str | None = None
    country: str | None = None
    company_name: str | None = None
    company_siret: str | None = None
    company_vat_number: str | None = None


class TicketOut(OutputModel):
    position: int
    performance_id: str
    product_id: str
    tariff_id: str
    tariff_name: str
    quota_id: str | None
    seat_id: str | None
    seat_label: str | None
    price_cents: int
    attendee_name: str | None
    attendee_email: str | None
    state: str
    actions: list[str] = Field(default_factory=list, description="What staff may do with this attendee's ticket")


class PaymentOut(OutputModel):
    payment_id: str
    amount_cents: int
    currency: str
    means: str
    reference: str | None
    received_at: datetime
    recorded_by: str


class TotalsOut(OutputModel):
    tickets_cents: int
    discount_cents: int
    fees_cents: int
    tax_cents: int
    refunded_cents: int
    total_cents: int
    currency: str


class BuyerDeliveryOut(OutputModel):
    undeliverable: bool
    complained: bool
    last_event: str | None
    last_event_at: datetime | None


class OrderOut(OutputModel):
    id: str
    number: int
    kind: str
    deadline: datetime | None
    status: str
    status_label: str
    buyer: BuyerOut
    payment_type: str
    paid: bool
    paid_at: datetime | None
    promo_code: str | None
    totals: TotalsOut
    ticket_count: int
    tickets: list[TicketOut]
    actions: list[str] = Field(description="What staff may do with this order in its status")
    created_at: datetime
    created_by: str
    version: int | None
    payment_intent_id: str | None = None
    client_secret: str | None = Field(default=None, description="Card sales only, in the answer to their creation")
    payments: list[PaymentOut] = Field(default_factory=list, description="Money received for this order")
    buyer_delivery: BuyerDeliveryOut | None = Field(default=None, description=(
        "What the mail system learned of the buyer's address: known to bounce, complained (null: nothing bad)"))


class OrderRowOut(OutputModel):
    id: str = Field(validation_alias="order_id")
    number: int
    created_at: datetime
    kind: str
    status: str
    buyer_name: str
    buyer_email: str | None
    payment_type: str
    promo_code: str | None
    total_cents: int
    currency: str
    ticket_count: int
    deadline: datetime | None


class OrderQuery(PageQuery):
    """Filters combine; ``q`` (a number, or the start of a buyer's name) searches instead."""

    q: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    status: OrderStatus | None = None
    payment_type: Literal["card", "cheque", "invoice", "cash", "sepa"] | None = None
    promo_code: Code | None = None
    kind: OrderKind | None = None
    performance_id: Id | None = None
    tariff_id: Id | None = Field(default=None, description="Ticket type")
    product_id: Id | None = Field(default=None, description="Ticket name: the show, package or subscription")
    from_: UTCDatetime | None = Field(default=None, alias="from", description="Placed at or after")
    to: UTCDatetime | None = Field(default=None, description="Placed at or before")

    @model_validator(mode="after")
    def _search_or_filter(self):
        filtered = any(getattr(self, name) is not None for name in (
            "status", "payment_type", "promo_code", "kind", "performance_id", "tariff_id", "product_id", "from_", "to"))
        if self.q is not None and filtered:
            raise ValueError("search with q, or filter, not both")
        if self.from_ and self.to and self.to < self.from_:
            raise ValueError("'to' must not be before 'from'")
        return self


class ShopBuyerIn(BuyerFields):
    """Shop buyers give an address: it is where their tickets go. Anonymous input never names a
    customer record (no ``contact_id``): a shop order is not attached to a contact."""

    email: EmailAddress


class CheckoutIn(InputModel):
    buyer: ShopBuyerIn
    lines: list[OrderLineIn] = Field(min_length=1, max_length=40)


class CheckoutOut(OutputModel):
    order_id: str
    number: int
    total_cents: int
    currency: str
    status: str = Field(description="'unpaid' until Stripe confirms the payment; 'complete' at once for an order "
                                    "that costs nothing")
    payment_intent_id: str | None
    client_secret: str | None = Field(description="For Stripe.js to confirm the card payment in the browser (null "
                                                  "when there is nothing to pay)")
    hold_until: datetime | None = Field(description="The places are held for the buyer until then")


class OrderFiltersIn(InputModel):
    """The list's filters, for "all matching orders" in bulk actions."""

    status: OrderStatus | None = None
    payment_type: Literal["card", "cheque", "invoice", "cash", "sepa"] | None = None
    promo_code: Code | None = None
    kind: OrderKind | None = None
    performance_id: Id | None = None
    tariff_id: Id | None = None
    product_id: Id | None = None
    placed_from: UTCDatetime | None = None
    placed_to: UTCDatetime | None = None


class ResendConfirmationsIn(InputModel):
    """Either the selected orders, or ``filters`` for every order matching them (no limit)."""

    # The selected ids are kept in the job's params (16 000 characters of JSON at most):
    # services/order_selection.MAX_SELECTED. More orders are selected with the filters.
    order_ids: list[Id] | None = Field(default=None, min_length=1, max_length=500)
    filters: OrderFiltersIn | None = None

    @model_validator(mode="after")
    def _one_selection(self):
        if self.order_ids is None and self.filters is None:
            raise ValueError("give order_ids (the selected orders) or filters (every order matching them)")
        if self.order_ids is not None and self.filters is not None:
            raise ValueError("give order_ids or filters, not both")
        return self


class ExportOrdersIn(ResendConfirmationsIn):
    """The orders to export as CSV: the selected ones, or ``filters`` for every order matching
    them (no limit)."""


class CancelTicketsIn(InputModel):
    positions: list[Annotated[int, Field(ge=1, le=40)]] = Field(
        min_length=1, max_length=40, description="The tickets to cancel, by their position in the order (1, 2...)")
