"""Commands to Kafka agents on ``selene.stream-commands``: start and stop a stream version, registered.

A REST agent gets no commands: it pulls its starts and learns its stops from its feedback's answer.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from agents.video_manager.bus import Bus
from agents.video_manager.outbox import config_of
from agents.video_manager.registry import AgentRecord, Change, StreamRecord
from infra.logs import for_stream
from infra.redis_collection import Collection
from schemas.agents import AgentRegistered
from schemas.commands import StreamCommand

log = logging.getLogger(__name__)


class AgentCommands:
    def __init__(self, bus: Bus, agents: Collection[AgentRecord]) -> None:
        self._bus = bus
        self._agents = agents

    async def send(self, agent_id: UUID, action: Literal["start", "stop"], record: StreamRecord) -> None:
        """Start (with its config) or stop the record's current version."""
        await self._bus.command(_command(agent_id, action, record))
        _sent(agent_id, action, record)

    async def start_all(self, starts: list[tuple[UUID, StreamRecord]]) -> None:
        """Start each record's current version on its agent, all sent before one wait for the broker."""
        await self._bus.commands([_command(agent_id, "start", record) for agent_id, record in starts])
        for agent_id, record in starts:
            _sent(agent_id, "start", record)

    async def stop(self, agent_id: UUID, stream_id: UUID, version: int) -> None:
        """The answer to a report of a version the agent must drop."""
        await self._bus.command(
            StreamCommand(agent_id=agent_id, action="stop", stream_id=stream_id, version=version, issued_at=datetime.now(UTC))
        )

    async def registered(self, agent_id: UUID, registered: AgentRegistered) -> None:
        await self._bus.command(
            StreamCommand(
                agent_id=agent_id, action="registered", alive_period=registered.alive_period,
                refresh_period=registered.refresh_period, issued_at=datetime.now(UTC),
            )
        )

    async def stop_on_agent(self, change: Change) -> None:
        """A Kafka agent that loses a stream is told at once; a REST agent learns it from its feedback."""
        before = change.before
        if before is None or before.agent_id is None or (change.after and change.after.agent_id == before.agent_id):
            return
        if await self.is_kafka(before.agent_id):
            await self.send(before.agent_id, "stop", before)

    async def is_kafka(self, agent_id: UUID) -> bool:
        agent = await self._agents.get(agent_id)
        return agent is not None and agent.transport == "kafka"


def _command(agent_id: UUID, action: Literal["start", "stop"], record: StreamRecord) -> StreamCommand:
    stream = record.stream
    return StreamCommand(
        agent_id=agent_id, action=action, stream_id=stream.stream_id, version=stream.version,
        config=config_of(stream) if action == "start" else None, issued_at=datetime.now(UTC),
    )


def _sent(agent_id: UUID, action: str, record: StreamRecord) -> None:
    stream = record.stream
    for_stream(log, stream.stream_id).info(f"{action} sent", extra={"agent_id": str(agent_id), "version": stream.version})
