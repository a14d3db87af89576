"""Team notification rules: requests and responses."""
from __future__ import annotations

from datetime import datetime

from pydantic import Field, model_validator

from chalicelib.schemas.common import EmailAddress, Id, InputModel, Name, OutputModel


class TeamRuleIn(InputModel):
    name: Name
    addresses: list[EmailAddress] = Field(min_length=1, max_length=20)
    tariff_ids: list[Id] = Field(default_factory=list, max_length=100, description="Ticket types to watch")
    all_tariffs: bool = False
    active: bool = True

    @model_validator(mode="after")
    def _some_ticket_types(self):
        if not self.all_tariffs and not self.tariff_ids:
            raise ValueError("name ticket types in tariff_ids, or set all_tariffs")
        return self


class TeamRulePatch(InputModel):
    name: Name = None
    addresses: list[EmailAddress] = Field(default=None, min_length=1, max_length=20)
    tariff_ids: list[Id] = Field(default=None, max_length=100)
    all_tariffs: bool = None
    active: bool = None


class TeamRuleOut(OutputModel):
    id: str
    name: str
    addresses: list[str]
    tariff_ids: list[str]
    all_tariffs: bool
    active: bool
    version: int | None
    created_at: datetime

    @model_validator(mode="before")
    @classmethod
    def _sets_as_lists(cls, value):
        if hasattr(value, "addresses"):
            return {name: getattr(value, name) for name in cls.model_fields} | {
                "addresses": sorted(value.addresses or ()), "tariff_ids": sorted(value.tariff_ids or ())}
        return value
