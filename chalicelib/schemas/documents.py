"""Query of the printable documents (the language, if not the buyer's), and the credit notes' list."""
from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import ConfigDict, Field

from chalicelib.schemas.common import InputModel, OutputModel


class DocumentQuery(InputModel):
    model_config = ConfigDict(extra="forbid", strict=False, defer_build=True)

    lang: Literal["fr", "en"] | None = Field(default=None, description="Language of the document; "
                                                                      "the buyer's language by default")


class TicketPageQuery(DocumentQuery):
    n: int = Field(default=1, ge=1, le=100, description="Which ticket of the order (1, 2, ...)")


class CreditNoteOut(OutputModel):
    number: int
    reference: str = Field(description="As printed, e.g. AV-000001")
    refund_id: str
    invoice_number: int = Field(description="The invoice it corrects")
    amount_cents: int = Field(description="What the refund gave back, VAT included")
    issued_at: datetime
