"""LUNA's agent protocol, for REST agents and Kafka agents alike: register, pull the streams to start,
report (the feedback, which is also the heartbeat) and be answered with stops; an agent silent for
longer than ``alive_period`` is not_ready and its streams go to other agents (``handler_lost``).

``on_message`` turns a Kafka agent's messages into the same calls, and their answers into commands; a
stream worker's processing reports become the streams' ``frames_dropped.processing``.
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Literal
from uuid import UUID

from agents.video_manager import states
from agents.video_manager.assignment import Assignment
from agents.video_manager.commands import AgentCommands
from agents.video_manager.registry import AgentRecord, Registry
from agents.video_manager.stream_writes import StreamWrites
from infra.logs import for_stream
from infra.settings import ManagerSettings
from schemas.agents import (
    Agent,
    AgentAnnouncement,
    AgentMessage,
    AgentRegistered,
    AgentRegistration,
    FeedbackAction,
    StreamReport,
)
from schemas.errors import OBJECT_NOT_FOUND, SeleneError
from schemas.status import AgentStatus
from schemas.streams import Stream

log = logging.getLogger(__name__)


class AgentProtocol:
    def __init__(
        self, registry: Registry, writes: StreamWrites, commands: AgentCommands, assignment: Assignment,
        settings: ManagerSettings,
    ) -> None:
        self._registry = registry
        self._writes = writes
        self._commands = commands
        self._assignment = assignment
        self._settings = settings

    async def register(
        self, registration: AgentRegistration | AgentAnnouncement, transport: Literal["kafka", "rest"],
        agent_id: UUID | None = None,
    ) -> AgentRegistered:
        """Register (or re-register) an agent; a returning agent runs nothing, so its streams are
        handed to it again."""
        agent_id = agent_id or uuid.uuid4()
        now = datetime.now(UTC)
        existing = await self._registry.agents.get(agent_id)
        agent = Agent(
            agent_id=agent_id, status=AgentStatus.READY, create_time=existing.agent.create_time if existing else now,
            last_seen=now, alive_period=self._settings.alive_period, refresh_period=self._settings.refresh_period,
            **registration.model_dump(include=set(AgentRegistration.model_fields)),
        )
        record = AgentRecord(agent=agent, transport=transport)
        if existing is None:
            await self._registry.agents.create(agent_id, record, now)
        else:

            def replace(r: AgentRecord) -> None:
                r.agent, r.transport = record.agent, record.transport

            await self._registry.agents.update(agent_id, replace)
            for stream_id in await self._registry.streams.ids_of_agent(agent_id):
                await self._writes.bookkeep(stream_id, states.forget_start)
        log.info("agent registered", extra={"agent_id": str(agent_id), "agent_name": agent.name, "transport": transport})
        return AgentRegistered(
            agent_id=agent_id, alive_period=self._settings.alive_period, refresh_period=self._settings.refresh_period
        )

    async def get(self, agent_id: UUID) -> AgentRecord:
        """The agent with the streams it holds; 11020 for an unknown one."""
        record = await self._registry.agents.get(agent_id)
        if record is None:
            raise SeleneError(OBJECT_NOT_FOUND, f"agent with id {agent_id}")
        record.agent.stream_ids = await self._registry.streams.ids_of_agent(agent_id)
        return record

    async def all(self) -> list[Agent]:
        """Every registered agent, each with the streams it holds."""
        found = []
        for record in await self._registry.agents.all():
            record.agent.stream_ids = await self._registry.streams.ids_of_agent(record.agent.agent_id)
            found.append(record.agent)
        return found

    async def remove(self, agent_id: UUID) -> None:
        await self.get(agent_id)
        await self._registry.agents.delete(agent_id)
        await self._requeue_streams_of(agent_id)
        log.info("agent removed", extra={"agent_id": str(agent_id)})

    async def expire(self, heard_since: datetime) -> None:
        """Agents silent for longer than alive_period become not_ready and lose their streams.

        ``heard_since`` is when this leader began to hear agents: heartbeats sent before it (while the
        API was down, or to a follower that ignores them) were never read, so an agent is only silent
        for an alive_period this leader listened through."""
        deadline = datetime.now(UTC) - timedelta(seconds=self._settings.alive_period)
        for record in await self._registry.agents.all():
            agent = record.agent
            if agent.status == AgentStatus.READY and max(agent.last_seen, heard_since) < deadline:
                updated = await self._registry.agents.update(agent.agent_id, partial(states.expire, deadline=deadline))
                if updated.agent.status == AgentStatus.NOT_READY:
                    log.warning("agent not ready", extra={"agent_id": str(agent.agent_id), "last_seen": str(agent.last_seen)})
                    await self._requeue_streams_of(agent.agent_id)

    async def _requeue_streams_of(self, agent_id: UUID) -> None:
        """The agent is gone: its streams are logged ``handler_lost``, then wait for another agent."""
        for stream_id in await self._registry.streams.ids_of_agent(agent_id):
            await self._writes.update(stream_id, partial(states.handler_lost, agent_id=agent_id))
            await self._writes.update(stream_id, states.pending_again)
            for_stream(log, stream_id).warning("agent lost, stream back to pending", extra={"agent_id": str(agent_id)})

    async def _touch(self, agent_id: UUID) -> None:
        await self._registry.agents.update(agent_id, partial(states.touch, now=datetime.now(UTC)))

    async def pull_streams(self, agent_id: UUID) -> list[Stream]:
        """LUNA's ``postAgentStreams``: the streams this agent must start, each handed out once per version."""
        await self.get(agent_id)
        await self._touch(agent_id)
        started = []
        for stream_id in await self._registry.streams.ids_of_agent(agent_id):
            mark = partial(states.mark_started, agent_id=agent_id, now=datetime.now(UTC))
            change = await self._writes.bookkeep(stream_id, mark)
            if change.after is not None and change.after is not change.before:
                started.append(change.after.stream)
        return started

    async def feedback(self, agent_id: UUID, reports: list[StreamReport]) -> list[FeedbackAction]:
        """Take an agent's reports (its heartbeat); answer a stop for every stream version it must drop."""
        await self.get(agent_id)
        await self._touch(agent_id)
        actions = []
        dropped: dict[UUID, int] = {}
        for report in reports:
            if not states.is_current(await self._registry.streams.get(report.stream_id), agent_id, report):
                if report.status in states.RUNNING_REPORTS:
                    actions.append(FeedbackAction(action="stop", stream_id=report.stream_id, version=report.version))
                continue
            if report.dropped_frames is not None:
                dropped[report.stream_id] = report.dropped_frames
            apply = partial(states.apply_report, agent_id=agent_id, report=report, now=datetime.now(UTC))
            change = await self._writes.update(report.stream_id, apply, frame_time=report.last_processed_frame_time)
            if change.after is not None and change.status_changed:
                for_stream(log, report.stream_id).info(
                    "stream status", extra={"status": change.after.stream.status.luna_name, "agent_id": str(agent_id)}
                )
        await self._registry.streams.set_dropped(dropped, "agent")
        return actions

    async def on_message(self, message: AgentMessage) -> None:
        """One AgentMessage from ``selene.agent-feedback``."""
        if message.kind == "register":
            assert message.registration is not None
            registered = await self.register(message.registration, "kafka", message.agent_id)
            await self._commands.registered(message.agent_id, registered)
            await self._assignment.dispatch()
        elif message.kind == "processing":  # a stream worker's drops, under its own id
            counts = {r.stream_id: r.frames_stale for r in message.processing}
            await self._registry.streams.set_dropped(counts, f"processing:{message.agent_id}")
        elif message.kind == "deregister":
            if await self._registry.agents.get(message.agent_id) is not None:
                await self.remove(message.agent_id)
        else:
            if await self._registry.agents.get(message.agent_id) is None:
                # A heartbeat that carries its registration re-registers an agent the registry lost.
                if message.registration is None:
                    log.warning("heartbeat from an unregistered agent", extra={"agent_id": str(message.agent_id)})
                    return
                await self.register(message.registration, "kafka", message.agent_id)
            for action in await self.feedback(message.agent_id, message.streams):
                await self._commands.stop(message.agent_id, action.stream_id, action.version)
