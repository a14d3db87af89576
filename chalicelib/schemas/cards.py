"""Season cards as staff see them: card sites and their agent's configuration, printers with
what their agent reports, print jobs, mass prints, cards, and check-in by card."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, model_validator

from chalicelib.schemas.common import Id, InputModel, Name, OutputModel, PageQuery, ShortText

JobState = Literal["queued", "taken", "printed", "failed", "uncertain", "cancelled"]
Uid = Annotated[str, StringConstraints(pattern=r"^[0-9A-Fa-f]{8,20}$"),
                Field(description="The chip's UID, hexadecimal without separators (7-byte NXP: 14 characters)")]
DeliveryMode = Literal["new_card", "reload_card", "print_at_home", "box_office"]


class SiteIn(InputModel):
    name: Name
    venue_id: Id | None = Field(default=None, description="The venue whose name the cards printed here show")


class SiteOut(OutputModel):
    id: str
    name: str
    venue_id: str | None
    queue_name: str = Field(description="The site's SQS FIFO print queue")
    has_logo: bool = Field(default=False, description="The cards printed here show the venue's logo")
    created_at: datetime


class LogoIn(InputModel):
    image_base64: str = Field(min_length=8, max_length=254_000,
                              description="The venue's logo, PNG or JPEG, base64 (at most 190 KB once decoded, "
                                          "so that the request stays within its size limit); printed on the front "
                                          "of the site's cards, 110 pixels high")


class AgentConfigOut(OutputModel):
    site_id: str
    file_name: str
    config: str = Field(description="The agent's configuration file (TOML), with the site's agent key: keep it secret")


class PrinterIn(InputModel):
    site_id: Id
    name: Name
    model: Name = Field(description="e.g. Evolis Primacy 2")
    encoder: bool = Field(description="A contactless encoder reads each card's UID")


class PrinterPatch(InputModel):
    name: Name = None
    model: Name = None
    encoder: bool = None
    active: bool = Field(default=None, description="false: out of service (no new print on it)")


class PrinterQuery(PageQuery):
    site_id: Id | None = None


class PrinterOut(OutputModel):
    id: str
    site_id: str
    name: str
    model: str
    encoder: bool
    active: bool
    state: str = Field(description="unknown (no heartbeat yet) | ready | warning | error | offline")
    reasons: list[str] | None = Field(description="The printer's own reasons: feeder_empty, ribbon_low...")
    ribbon_remaining: int | None
    current_job_id: str | None
    queue_length: int = Field(description="Its jobs queued or taken by the agent")
    last_contact_at: datetime | None = Field(description="When its agent was last heard of")
    reported_at: datetime | None = Field(description="The agent's time of the state shown")
    agent_version: str | None


class PrintIn(InputModel):
    printer_id: Id


class PrintJobOut(OutputModel):
    id: str
    site_id: str
    printer_id: str
    subscription_id: str
    holder_contact_id: str
    batch_job_id: str | None = Field(description="The mass print (a job) that made it")
    encode: bool
    state: str = Field(description="queued | taken | printed | failed | uncertain | cancelled")
    reason: str | None = Field(description="Why it failed or is uncertain (docs/card-printing-protocol.md)")
    detail: str | None
    uid: str | None
    flags: list[str] | None = Field(description="uid_conflict (the UID is another card's: nothing bound), "
                                                "uid_missing, cancel_too_late, resolved_by_staff")
    card_id: str | None
    sent_at: datetime | None
    state_at: datetime | None
    cancel_requested_at: datetime | None
    replaced_by: str | None = Field(description="An uncertain job printed again: the new job")
    created_at: datetime
    updated_at: datetime


class PrintJobQuery(PageQuery):
    printer_id: Id | None = None
    state: JobState | None = None

    @model_validator(mode="after")
    def _one_listing(self):
        if self.printer_id is None and self.state is None:
            raise ValueError("give printer_id, state, or both")
        return self


class MassPrintIn(InputModel):
    product_id: Id
    printer_id: Id
    delivery_mode: DeliveryMode = "new_card"


class ResolveIn(InputModel):
    decision: Literal["printed", "reprint"] = Field(description="printed: the card came out (bind it); "
                                                                "reprint: print a new card")
    uid: Uid | None = Field(default=None, description="printed: the UID, if the agent read none")
    printer_id: Id | None = Field(default=None, description="reprint: another printer")


class RevokeIn(InputModel):
    reason: Annotated[ShortText, StringConstraints(min_length=1)]


class CardOut(OutputModel):
    id: str
    uid: str | None
    holder_contact_id: str
    subscription_ids: list[str]
    state: str = Field(description="active | revoked")
    site_id: str
    printer_id: str
    revoked_at: datetime | None
    revoked_reason: str | None
    created_at: datetime


class CardCheckinIn(InputModel):
    model_config = ConfigDict(extra="forbid", strict=True, defer_build=True, str_strip_whitespace=True)

    performance_id: Id
    uid: Annotated[str, StringConstraints(min_length=8, max_length=40)] | None = Field(
        default=None, description="As the reader gives it (separators and case do not matter)")
    code: Annotated[str, StringConstraints(min_length=1, max_length=1000)] | None = Field(
        default=None, description="Or the code of the card's QR code")

    @model_validator(mode="after")
    def _one_means(self):
        if (self.uid is None) == (self.code is None):
            raise ValueError("give the card's uid or its code, one of them")
        return self


class CardCheckinOut(OutputModel):
    order_id: str
    position: int
    performance_id: str
    attendee_name: str | None
