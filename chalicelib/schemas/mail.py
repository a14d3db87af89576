"""Mail requests and responses: notifications, resend, preview, a venue's wording overrides."""
from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from chalicelib.schemas.common import EmailAddress, InputModel, Language, OutputModel, PlainMap

TemplateName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{1,60}$")]
BlockText = Annotated[str, StringConstraints(max_length=4000)]


class StatusEventOut(OutputModel):
    status: str
    at: datetime
    detail: str | None = None


class NotificationOut(OutputModel):
    id: str
    recipient: str
    recipient_domain: str
    template: str
    language: str
    subject: str | None
    concerns_type: str
    concerns_id: str
    contact_id: str | None
    campaign_id: str | None
    essential: bool
    provider_message_id: str | None
    status: str
    status_at: datetime
    timeline: list[StatusEventOut]
    resent_from: str | None
    created_at: datetime = Field(validation_alias="made_at")


class NotificationQuery(InputModel):
    """Exactly one way to select: an entity, a recipient address, or a domain in a campaign or a day."""

    model_config = {"extra": "forbid", "strict": False, "defer_build": True}

    entity_type: Annotated[str, StringConstraints(pattern=r"^[a-z_]{1,40}$")] | None = None
    entity_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    recipient: EmailAddress | None = None
    domain: Annotated[str, StringConstraints(max_length=253, pattern=r"^[A-Za-z0-9.-]+$")] | None = None
    campaign_id: Annotated[str, StringConstraints(max_length=64)] | None = None
    day: date | None = None
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Annotated[str, StringConstraints(max_length=2000)] | None = None

    @model_validator(mode="after")
    def _one_selection(self):
        chosen = [bool(self.entity_type and self.entity_id), bool(self.recipient), bool(self.domain)]
        if sum(chosen) != 1:
            raise ValueError("give exactly one of: entity_type + entity_id, recipient, domain")
        return self


class ResendIn(InputModel):
    address: EmailAddress | None = None


ContextKey = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,40}$")]
ContextText = Annotated[str, StringConstraints(max_length=1000)]
ContextValue = ContextText | int | bool | None | Annotated[list[ContextText | int], Field(max_length=50)]


class PreviewIn(InputModel):
    template: TemplateName
    language: Language = "fr"
    context: Annotated[dict[ContextKey, ContextValue], Field(max_length=60)] | None = Field(
        default=None, description="The values the template shows; its sample's when omitted (60 keys at most)")


class PreviewOut(OutputModel):
    template: str
    language: str
    subject: str
    text: str
    html: str
    problems: list[str]


class OverrideIn(InputModel):
    blocks: dict[Annotated[str, StringConstraints(max_length=40)], BlockText] = Field(max_length=10)


class OverrideOut(OutputModel):
    template: str
    language: str
    blocks: PlainMap
    updated_at: datetime


class TemplateListOut(OutputModel):
    templates: list[str]
