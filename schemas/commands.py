"""The manager's commands to agents on ``selene.stream-commands`` (key ``agent_id``)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID, uuid4

from pydantic import Field, model_validator

from schemas.base import Message
from schemas.streams import StreamConfig


class StreamCommand(Message):
    """A command for one agent.

    ``start``: process ``config`` (stream ``stream_id`` at ``version``); ``stop``: stop that stream
    version; ``registered``: the answer to a Kafka registration, with ``alive_period`` and
    ``refresh_period`` in seconds.
    """

    command_id: UUID = Field(default_factory=uuid4)
    agent_id: UUID
    action: Literal["start", "stop", "registered"]
    stream_id: UUID | None = None
    version: int | None = Field(default=None, ge=1)
    config: StreamConfig | None = None
    alive_period: float | None = Field(default=None, gt=0)
    refresh_period: float | None = Field(default=None, gt=0)
    issued_at: datetime

    @model_validator(mode="after")
    def _fields_for_action(self) -> StreamCommand:
        if self.action in ("start", "stop") and (self.stream_id is None or self.version is None):
            raise ValueError(f"{self.action} needs stream_id and version")
        if self.action == "start":
            if self.config is None:
                raise ValueError("start needs config")
            if self.config.stream_id != self.stream_id or self.config.version != self.version:
                raise ValueError("config is for another stream or version")
        if self.action == "registered" and (self.alive_period is None or self.refresh_period is None):
            raise ValueError("registered needs alive_period and refresh_period")
        return self
