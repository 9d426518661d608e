"""The dead-letter topic: a message Selene could not process, with the reason, never dropped."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from schemas.base import Message


class DeadLetter(Message):
    topic: str = Field(description="Topic the message came from.")
    partition: int | None = None
    offset: int | None = None
    key: str | None = Field(default=None, description="Original key, decoded as UTF-8 with replacement.")
    headers: dict[str, str] = Field(default_factory=dict)
    value: str = Field(description="Original value, Base64-encoded.")
    error_code: int = Field(description="LUNA/Selene error code (schemas.errors).")
    reason: str = Field(description="Why it could not be processed.")
    processor: str = Field(description="The processor that gave up on it.")
    failed_at: datetime
