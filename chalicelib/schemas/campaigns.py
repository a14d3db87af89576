"""Postponement and cancellation campaigns, their affected customers, and the delivery diagnosis."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from chalicelib.schemas.catalog import UTCDatetime
from chalicelib.schemas.common import EmailAddress, Id, InputModel, LongText, OutputModel, PageQuery

CampaignKind = Literal["postponement", "cancellation"]
Choice = Literal["refund", "credit", "donation", "keep"]
CustomerState = Literal["not_notified", "mail_sent", "mail_read", "made_choices"]


class FeePolicyIn(InputModel):
    kind: Literal["none", "fixed", "percent"] = "none"
    fixed_cents: int = Field(default=0, ge=0, le=100_000)
    percent_bp: int = Field(default=0, ge=0, le=10_000)


class CampaignIn(InputModel):
    performance_id: Id
    kind: CampaignKind
    new_starts_at: UTCDatetime | None = Field(default=None, description="Postponement: the new date and time")
    refund_deadline: UTCDatetime = Field(description="Until when spectators may choose on their refund page")
    choices: list[Choice] | None = Field(default=None, min_length=1, max_length=4, description=(
        "What spectators may choose; default: refund, credit, donation (and keep, for a postponement)"))
    fee_policy: FeePolicyIn | None = Field(default=None, description="What a refund keeps (default: nothing)")
    mail_message: LongText | None = Field(default=None, description="Your own words, added to the notice")


class CampaignPatch(InputModel):
    mail_message: LongText | None = Field(description="Your own words in the next notices (null: none); checked "
                                                      "against the mail content rules")


class CampaignOut(OutputModel):
    id: str
    kind: str
    performance_id: str
    product_id: str
    performance_label: str | None = None
    original_starts_at: datetime
    new_starts_at: datetime | None = None
    refund_deadline: datetime
    choices: list[str]
    fee_kind: str
    fee_fixed_cents: int
    fee_percent_bp: int
    mail_message: str | None = None
    status: str = Field(description="building (customers being gathered), ready, or build_stopped (the build "
                                    "did not finish: POST .../rebuild)")
    build_job_id: str | None = None
    created_by: str
    created_at: datetime


class CustomerQuery(PageQuery):
    state: CustomerState | None = None
    q: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = Field(
        default=None, description="An order number, or part of the buyer's name (accents and case ignored)")


class TenantCustomerQuery(PageQuery):
    state: CustomerState | None = None
    performance_id: Id | None = None
    product_id: Id | None = Field(default=None, description="The show (or package)")
    kind: CampaignKind | None = None


class CustomerOut(OutputModel):
    campaign_id: str
    order_id: str
    order_number: int
    buyer_name: str
    email: str | None = None
    contact_id: str | None = None
    ticket_count: int
    amount_cents: int
    payment_type: str
    state: str
    state_label: str
    notified_at: datetime | None = None
    read_at: datetime | None = None
    choice: str | None = None
    chosen_by: str | None = None
    chosen_at: datetime | None = None
    delivery: str | None = Field(default=None, description="What the mail system learned of the last notice: sent, delivered, "
                                             "bounced_permanent, complained, suppressed...")
    delivery_at: datetime | None = None
    delivery_detail: str | None = Field(default=None, description="Why, for a notice that did not go or came back "
                                                                  "(e.g. address known to bounce)")
    kind: str
    show_id: str
    performance_id: str
    performance_starts_at: datetime
    refund_deadline: datetime
    deadline_passed: bool
    refund_url: str


class CountsOut(OutputModel):
    not_notified: int
    mail_sent: int
    mail_read: int
    made_choices: int


class NotifyIn(InputModel):
    order_ids: list[Id] | None = Field(default=None, max_length=500, description="Selected customers; all not "
                                                                                  "notified when left out")


class ResendIn(InputModel):
    address: EmailAddress | None = Field(default=None, description="A corrected address (kept for this customer)")


class LinkOut(OutputModel):
    url: str
    expires_at: datetime | None = None


class DiagnosisQuery(InputModel):
    model_config = ConfigDict(extra="forbid", strict=False, defer_build=True)

    override: bool = Field(default=False, description="Diagnose before the 5 days (the show is close)")


class DiagnosisOut(OutputModel):
    campaign_id: str
    days_since_notification: float | None
    counts: dict[str, int]
    totals: dict[str, int]
    reaction_rate: float
    domains: list[dict]
    verdict: dict
    method: str
