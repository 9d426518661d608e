"""The agent protocol: registration, heartbeats with per-stream reports, and the manager's actions.

Over REST it is LUNA's: ``createAgent`` → ``{agent_id, alive_period, refresh_period}``;
``postStreamsFeedback`` with ``[{stream_id, status, version, time, analytic_indexes}]`` → per-stream
``{action, stream_id, version}``. Over Kafka an agent picks its own ``agent_id`` and sends AgentMessage
on ``selene.agent-feedback``; the manager answers with StreamCommand on ``selene.stream-commands``.
An agent that is silent for longer than ``alive_period`` is ``not_ready`` and loses its streams.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from schemas.base import Body, Message
from schemas.errors import ErrorBody
from schemas.status import AgentStatus
from schemas.streams import Status


class _RegistrationFields(BaseModel):
    """What an agent declares about itself (LUNA client's ``Agent(...)``)."""

    name: str = Field(min_length=1, max_length=128)
    max_stream_count: int = Field(ge=1, description="Most streams the agent processes at once.")
    port: int | None = Field(default=None, ge=1, le=65535)
    api_version: int | None = Field(default=None, ge=1)
    analytic_names: list[str] = Field(min_length=1, description="Analytics the agent runs.")
    description: str | None = Field(default=None, max_length=512)

    @field_validator("analytic_names")
    @classmethod
    def _unique(cls, names: list[str]) -> list[str]:
        if len(set(names)) != len(names):
            raise ValueError("analytic_names has duplicates")
        return names


class AgentRegistration(Body, _RegistrationFields):
    """The REST registration body (LUNA ``createAgent``)."""

    model_config = ConfigDict(**Body.model_config)


class AgentAnnouncement(Message, _RegistrationFields):
    """The registration inside a Kafka AgentMessage: the same fields, unknown ones ignored."""

    model_config = ConfigDict(**Message.model_config)


class AgentRegistered(Body):
    """The answer to registration (LUNA: 201 ``{agent_id, alive_period, refresh_period}``), in seconds."""

    agent_id: UUID
    alive_period: float = Field(gt=0, description="Silence after which the agent counts as gone.")
    refresh_period: float = Field(gt=0, description="How often the agent reports (heartbeats).")

    @model_validator(mode="after")
    def _periods(self) -> AgentRegistered:
        if self.refresh_period >= self.alive_period:
            raise ValueError("refresh_period must be shorter than alive_period")
        return self


class StreamReport(Message):
    """One stream in an agent's feedback (LUNA client's ``StreamInfo``) plus Selene's health figures.

    A Message, as agents of a newer version may add fields; an empty ``analytic_indexes`` means the
    report covers all the stream's analytics.
    """

    stream_id: UUID
    status: Status
    version: int = Field(ge=1)
    time: datetime
    analytic_indexes: list[int] = Field(default_factory=list)
    last_error: ErrorBody | None = None
    last_processed_frame_time: float | None = Field(
        default=None, ge=0, description="Seconds since the stream start."
    )
    decoder: Literal["cpu", "cuda"] | None = None
    fps: float | None = Field(default=None, ge=0)
    dropped_frames: int | None = Field(
        default=None, ge=0, description="Frames the agent dropped in this run of the stream (queue full, not delivered)."
    )


class ProcessingReport(Message):
    """One stream in a worker's processing report: what its processors dropped."""

    stream_id: UUID
    frames_stale: int = Field(ge=0, description=(
        "Live frames this worker skipped since it started, as older than its stale-frame age when their turn came."))


class AgentFeedback(Body):
    """The REST feedback (and heartbeat) body: every stream the agent holds."""

    streams: list[StreamReport] = Field(default_factory=list)


class FeedbackAction(Body):
    """What the manager tells an agent to do with one stream version (LUNA: ``{"action": "stop", ...}``)."""

    action: Literal["start", "stop"]
    stream_id: UUID
    version: int = Field(ge=1)


class FeedbackResponse(Body):
    """The answer to feedback: LUNA's ``{"streams": [{"action", "stream_id", "version"}]}``."""

    streams: list[FeedbackAction] = Field(default_factory=list)


class Agent(Body):
    """A registered agent as the manager keeps it (GET ``/agents``)."""

    agent_id: UUID
    name: str
    max_stream_count: int = Field(ge=1)
    port: int | None = None
    api_version: int | None = None
    analytic_names: list[str]
    description: str | None = None
    status: AgentStatus
    create_time: datetime
    last_seen: datetime
    alive_period: float = Field(gt=0)
    refresh_period: float = Field(gt=0)
    stream_ids: list[UUID] = Field(default_factory=list, description="Streams assigned to the agent.")


class AgentsPage(Body):
    """``GET /agents``: registered agents, each once (LUNA v5.88 fixed duplicates)."""

    agents: list[Agent]


class AgentMessage(Message):
    """An agent's message on ``selene.agent-feedback`` (key ``agent_id``).

    ``register`` carries ``registration``; ``heartbeat`` (every refresh_period) carries the stream
    reports; ``deregister`` says goodbye so its streams are reassigned at once. A stream worker sends
    ``processing`` under an id of its own (it is no agent): its per-stream drops, as running totals, so a
    lost report costs nothing once the next one comes.
    """

    agent_id: UUID
    kind: Literal["register", "heartbeat", "deregister", "processing"]
    registration: AgentAnnouncement | None = None
    streams: list[StreamReport] = Field(default_factory=list)
    processing: list[ProcessingReport] = Field(default_factory=list)
    sent_at: datetime

    @model_validator(mode="after")
    def _registration(self) -> AgentMessage:
        if self.kind == "register" and self.registration is None:
            raise ValueError("a register message needs registration")
        return self
