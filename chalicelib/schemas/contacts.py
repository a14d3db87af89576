"""Contact requests and responses. System-filled fields appear in responses only."""
from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, model_validator

from chalicelib.schemas.common import EmailAddress, InputModel, Language, Name, OutputModel, PlainMap, ShortText

Title = Literal["M.", "Mme", "Mx", "Dr", "Me"]
CriterionName = Annotated[str, StringConstraints(min_length=1, max_length=100)]
CriterionValue = Annotated[str, StringConstraints(max_length=200)]
def _phone(value: str) -> str:
    """Kept in E.164 (``+33612345678``) whatever the writing; French numbers may omit the +33."""
    from chalicelib.values.phones import e164

    return e164(value)


Phone = Annotated[str, StringConstraints(min_length=3, max_length=30, pattern=r"^\+?[0-9 ().-]+$"),
                  AfterValidator(_phone), Field(description="06 12 34 56 78, +33 6 12 34 56 78, 0033 6…: kept in "
                                                            "E.164 (+33612345678)")]
Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
ContactType = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_-]{1,40}$")]


class EmailIn(InputModel):
    address: EmailAddress
    newsletter_consent: bool = False


class PhoneIn(InputModel):
    number: Phone
    kind: Literal["mobile", "home", "work"] = "mobile"


class AddressIn(InputModel):
    kind: Literal["home", "billing", "work", "delivery"] = "home"
    line1: Name
    line2: ShortText | None = None
    postcode: Annotated[str, StringConstraints(max_length=16)] | None = None
    city: Name
    country: Country = "FR"


class ContactIn(InputModel):
    title: Title | None = None
    first_name: ShortText | None = None
    last_name: Name
    language: Language = "fr"
    contact_type: ContactType | None = Field(default=None, description="The venue's kind of customer, a short code "
                                             "(individual, company, school, group...)")
    emails: list[EmailIn] = Field(default_factory=list, max_length=10)
    phones: list[PhoneIn] = Field(default_factory=list, max_length=10)
    addresses: list[AddressIn] = Field(default_factory=list, max_length=10)
    criteria: dict[CriterionName, CriterionValue] = Field(default_factory=dict, max_length=100)


class ContactPatch(InputModel):
    """Lists replace the contact's list (delivery facts of kept addresses survive);
    ``criteria`` is merged, a ``null`` value removes that criterion."""

    title: Title | None = None
    first_name: ShortText | None = None
    last_name: Name = None
    language: Language = None
    contact_type: ContactType | None = None
    emails: list[EmailIn] = Field(default=None, max_length=10)
    phones: list[PhoneIn] = Field(default=None, max_length=10)
    addresses: list[AddressIn] = Field(default=None, max_length=10)
    criteria: dict[CriterionName, CriterionValue | None] = Field(default=None, max_length=100)


class EmailOut(OutputModel):
    address: str
    newsletter_consent: bool
    undeliverable: bool
    complained: bool
    delivery_note: str | None = None
    delivery_noted_at: datetime | None = None


class PhoneOut(OutputModel):
    number: str
    kind: str


class AddressOut(OutputModel):
    kind: str
    line1: str
    line2: str | None = None
    postcode: str | None = None
    city: str
    country: str


class ContactOut(OutputModel):
    id: str
    title: str | None
    first_name: str | None
    last_name: str
    language: str
    contact_type: str | None = None
    emails: list[EmailOut]
    phones: list[PhoneOut]
    addresses: list[AddressOut]
    criteria: PlainMap
    system_fields: PlainMap = Field(description="Filled by the system; staff edits never change them")
    merged_into: str | None = Field(default=None, description="Set when this record was merged into another: "
                                                             "that one is the customer's record now")
    version: int | None
    created_at: datetime
    updated_at: datetime


class ContactSearch(InputModel):
    model_config = {"extra": "forbid", "strict": False, "defer_build": True}

    name: Annotated[str, StringConstraints(min_length=1, max_length=100)] | None = None
    q: Annotated[str, StringConstraints(min_length=1, max_length=200)] | None = Field(default=None, description=(
        "Find anyone by anything in their record: names, e-mail (whole or its start), phone (any writing), "
        "postcode, city, street words, customer or subscriber number, the number of one of their orders. "
        "Several words narrow (all must match, in any field); accents and case ignored; prefixes match. "
        "Exact numbers, e-mails and phones first, then names, then the rest."))
    limit: int = Field(default=50, ge=1, le=200)

    @model_validator(mode="after")
    def _one_way(self):
        if self.q is not None and self.name is not None:
            raise ValueError("search with q, or by name prefix with name, not both")
        return self
    cursor: Annotated[str, StringConstraints(max_length=2000)] | None = None


class MailingListIn(InputModel):
    name: Name
    description: ShortText | None = None
    newsletter: bool = Field(default=False, description="Where a newsletter consent ticked on a contact's e-mail "
                                                        "lands (and is withdrawn)")


class MailingListPatch(InputModel):
    name: Name = None
    description: ShortText | None = None
    newsletter: bool = None


class MailingListOut(OutputModel):
    id: str
    name: str
    description: str | None
    newsletter: bool
    created_at: datetime
    updated_at: datetime
    version: int | None


class MembershipChangeIn(InputModel):
    how: ShortText = Field(default="recorded by staff", description=(
        "How the consent (or its withdrawal) was given: at the box office, by phone, a signed form..."))


class MembershipEventOut(OutputModel):
    at: datetime
    action: str
    how: str
    by: str


class MembershipOut(OutputModel):
    list_id: str
    contact_id: str
    member: bool
    history: list[MembershipEventOut] = Field(description="Every join and leave, oldest first: the consent's proof")
