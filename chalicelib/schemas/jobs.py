"""Background jobs as staff see them (progress, status, errors) and the cancel request.

The kind's cursor is internal continuation state and is never shown.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field, field_validator

from chalicelib.schemas.common import InputModel, OutputModel, ShortText


class JobNoteOut(OutputModel):
    at: datetime
    text: str


class JobOut(OutputModel):
    id: str
    kind: str
    status: str = Field(description="queued | running | paused | succeeded | failed | cancelled")
    params: dict[str, Any]
    total: int | None = Field(description="Items to process; null until the job knows")
    done: int
    failed: int = Field(description="Items that could not be done (the job itself may still succeed)")
    skipped: int
    outcomes: dict[str, int] | None = Field(default=None, description=(
        "The job's own finer counts, e.g. suppressed (a notice not sent: the address is known to bounce)"))
    processed: int = Field(description="done + failed + skipped")
    percent: float | None = Field(description="Share processed, when the total is known")
    attempts: int = Field(description="Failed attempts of the current chunk (retried automatically)")
    last_error: str | None
    last_error_at: datetime | None
    notes: list[JobNoteOut] = Field(description="The latest progress messages and retried errors, oldest first")
    created_by: str
    cancelled_by: str | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime

    @field_validator("total", "done", "failed", "skipped", "attempts", mode="before")
    @classmethod
    def _whole(cls, value):
        return None if value is None else int(value)  # DynamoDB numbers come back as floats


class ExportDownloadOut(OutputModel):
    url: str = Field(description="Presigned GET URL of the CSV file (UTF-8 with BOM, ';' separated), "
                                 "valid 15 minutes")
    expires_at: datetime = Field(description="When the URL stops working; ask again for a new one")
    rows: int = Field(description="Rows in the file (orders, members of a segment...)")
    file_name: str


class CancelIn(InputModel):
    reason: ShortText | None = None
