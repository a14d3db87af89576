"""Query of the printable documents: the language, if not the buyer's."""
from __future__ import annotations

from typing import Literal

from pydantic import ConfigDict, Field

from chalicelib.schemas.common import InputModel


class DocumentQuery(InputModel):
    model_config = ConfigDict(extra="forbid", strict=False, defer_build=True)

    lang: Literal["fr", "en"] | None = Field(default=None, description="Language of the document; "
                                                                      "the buyer's language by default")


class TicketPageQuery(DocumentQuery):
    n: int = Field(default=1, ge=1, le=100, description="Which ticket of the order (1, 2, ...)")
