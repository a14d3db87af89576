"""Subscriptions: a product's terms, a sale, a subscription with its instalments."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib.schemas.common import AwareDatetime, Id, InputModel, Name, OutputModel, PageQuery
from chalicelib.schemas.money import BusinessDay

DeliveryMode = Literal["new_card", "reload_card", "print_at_home", "box_office"]
PlanId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]{1,20}$")]


class OfferedPerformanceIn(InputModel):
    performance_id: Id
    quota_id: Id = Field(description="The quota of this performance subscriptions are sold from")
    part: Name | None = Field(default=None, description="A package's sub-package this performance belongs to "
                                                        "(e.g. \"Danse\"): a renewal keeps each sub-package's own "
                                                        "seats, matched by name from one season to the next")


class PaymentPlanIn(InputModel):
    id: PlanId = Field(description="e.g. once, 10x")
    label: Name = Field(description="As staff and payers read it, e.g. \"En 10 fois\"")
    instalments: int = Field(ge=1, le=12, description="1: paid at once")
    day_of_month: int = Field(default=5, ge=1, le=31, description="Instalments after the first fall on this day "
                                                                   "(a shorter month: its last day)")
    first_at_purchase: bool = Field(default=True, description="The first instalment is due the day of the sale; "
                                                              "the second at least 14 days later")


class TermsIn(InputModel):
    performances: list[OfferedPerformanceIn] = Field(min_length=1, max_length=40)
    choose: int | None = Field(default=None, ge=1, le=40, description="The holder chooses this many of the "
                                                                       "performances; none: all of them")
    delivery_modes: list[DeliveryMode] = Field(min_length=1, max_length=4)
    payment_plans: list[PaymentPlanIn] = Field(min_length=1, max_length=6)
    refusal_deadline: date | None = Field(default=None, description="Tacit renewal: the last day the payer may "
                                                                     "refuse it; the renewal notice goes between 3 "
                                                                     "and 1 month before (Code de la consommation, "
                                                                     "L215-1)")


class TermsOut(OutputModel):
    product_id: str = Field(validation_alias="id")
    performance_ids: list[str]
    quotas: dict[str, str]
    parts: dict[str, str] | None = Field(default=None, description="A package's sub-package of each performance "
                                                                    "that has one")
    choose: int | None
    delivery_modes: list[str]
    payment_plans: list[dict]
    refusal_deadline: date | None = None
    updated_at: datetime
    version: int | None


class SubscriberIn(InputModel):
    holder_contact_id: Id = Field(description="Who attends")
    performance_ids: list[Id] | None = Field(default=None, max_length=40,
                                             description="The performances chosen, when the terms say choose N")
    seats: dict[Id, Id] | None = Field(default=None, max_length=40, description="A seat per performance id")


class SubscriptionSaleIn(InputModel):
    product_id: Id
    tariff_id: Id
    payer_contact_id: Id = Field(description="Who pays; may pay for several holders")
    delivery_mode: DeliveryMode
    plan_id: PlanId
    means: Literal["cash", "cheque", "sepa_debit", "card_alias"] = Field(
        description="cash and cheque at the box office (paid at once); sepa_debit and card_alias: the payer's "
                    "saved means, charged by the instalment collector")
    saved_means_id: Id | None = Field(default=None, description="The payer's mandate or saved card")
    subscribers: list[SubscriberIn] = Field(min_length=1, max_length=10)


class InstalmentOut(OutputModel):
    number: int
    due_on: date
    amount_cents: int
    state: str
    attempts: int = 0


class SubscriptionOut(OutputModel):
    id: str
    product_id: str
    season_id: str
    tariff_id: str
    holder_contact_id: str
    payer_contact_id: str
    order_id: str
    ticket_positions: list[int]
    performance_ids: list[str]
    price_cents: int
    currency: str
    delivery_mode: str
    means: str
    saved_means_id: str | None
    plan_id: str
    instalments: list[InstalmentOut]
    state: str
    tacit: bool
    renewed_from: str | None
    renewed_into: str | None = None
    renewal_notice_at: datetime | None = None
    may_leave_anytime: bool = False
    held_seats: dict[str, str] | None = Field(default=None, description="A sabbatical's seats kept, by performance")
    created_at: datetime
    updated_at: datetime


class SaleOut(OutputModel):
    order_id: str
    order_number: int
    total_cents: int
    subscriptions: list[SubscriptionOut]


class SubscriptionQuery(PageQuery):
    model_config = ConfigDict(extra="forbid", strict=False, defer_build=True)

    product_id: Id | None = None
    season_id: Id | None = None
    payer_id: Id | None = None
    state: Literal["active", "in_arrears", "cancelled", "sabbatical"] | None = None


class CollectRunOut(OutputModel):
    due: int = Field(description="Instalments due now for this venue (the job charges them)")
    jobs: list[str] = Field(description="The jobs started (none when this hour's was started already)")


class RenewalRunIn(InputModel):
    source_product_id: Id = Field(description="Last season's subscription product")
    target_product_id: Id = Field(description="The new season's product (same kind, another season)")
    delivery_modes: list[DeliveryMode] = Field(min_length=1, max_length=4, description="The modes this run offers "
                                                                                    "(among the new product's)")
    fallback_mode: DeliveryMode | None = Field(default=None, description="When last season's mode is not offered "
                                                                         "and no replacement names one")
    mode_replacements: dict[DeliveryMode, DeliveryMode] | None = Field(
        default=None, description="A new mode for one no longer offered, e.g. {\"new_card\": \"reload_card\"}")
    tariffs: dict[Id, Id] | None = Field(default=None, max_length=50, description="Last season's tariff -> the new "
                                                                                  "one; unnamed: the tariff of the "
                                                                                  "same name")
    opt_out_criterion: Name | None = Field(default=None, description="The contact criterion that stops the tacit "
                                                                     "renewal (whoever pays decides); one staff "
                                                                     "gave at least one contact (422 otherwise)")
    on_error: Literal["nothing", "reservation"] = Field(description="What a subscription that cannot be renewed "
                                                                    "as asked becomes")
    reservation_deadline: AwareDatetime | None = Field(default=None, description="The reservations' deadline "
                                                                                 "(required when the run may make "
                                                                                 "reservations)")
    keep_seats: bool = True
    dry_run: bool = Field(default=False, description="Report what the run would do, writing nothing")


class SabbaticalIn(InputModel):
    target_product_id: Id = Field(description="The new season's product whose performances the seats are kept at")


class InstalmentsQuery(PageQuery):
    day: BusinessDay = Field(description="The day (venue's calendar, YYYY-MM-DD) the collector owes them")
    state: Literal["scheduled", "processing", "awaiting_payer", "failed", "paid"] | None = None


class DueInstalmentOut(OutputModel):
    subscription_id: str
    number: int
    due_at: datetime = Field(description="When the collector charges it (after a notice or a retry: that day)")
    amount_cents: int
    state: str
    attempts: int
    failure: str | None = None
    payer_contact_id: str
    holder_contact_id: str
    means: str
