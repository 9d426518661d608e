"""What the registry stores besides LUNA's objects: assignment and restart state."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from schemas.agents import Agent
from schemas.streams import Stream


class StreamRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    stream: Stream
    agent_id: UUID | None = None
    started_version: int | None = None  # the version last handed to agent_id; another one needs a start
    started_at: float | None = None  # epoch seconds of that hand-over
    restart_at: float | None = None  # epoch seconds of the next autorestart attempt
    schedule_paused: bool = False  # paused by its working intervals (not by a user): resumed when one opens
    revision: int = 0  # bumped on every write: tells the config publisher which write it has published


class AgentRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    agent: Agent
    transport: Literal["kafka", "rest"]
