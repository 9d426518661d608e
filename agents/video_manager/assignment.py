"""Assignment: pending streams to agents by capability and ``max_stream_count``, starts to Kafka agents,
and restarting streams back to pending once their autorestart delay has passed; streams with working
intervals paused outside them and pending again inside them. The leader runs these
in its round; a replaced stream and a registering agent get their starts at once."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from functools import partial
from uuid import UUID

from agents.video_manager import states
from agents.video_manager.commands import AgentCommands
from agents.video_manager.registry import Registry
from agents.video_manager.stream_writes import StreamWrites
from infra import metrics
from infra.logs import for_stream
from schemas.agents import Agent
from schemas.errors import NO_FREE_AGENT
from schemas.status import AgentStatus

log = logging.getLogger(__name__)


def _busy(agents: list[Agent], load: dict[UUID, int]) -> str:
    used, slots = sum(load[a.agent_id] for a in agents), sum(a.max_stream_count for a in agents)
    return f"{used} of {slots} streams, their max_stream_count"


def why_waiting(names: set[str], agents: list[Agent], load: dict[UUID, int]) -> str:
    """Why none of the ready ``agents`` takes a stream with analytics ``names``, when none has taken it."""
    able = [a for a in agents if names <= set(a.analytic_names)]
    if not able:
        return f"no ready agent runs all of its analytics ({', '.join(sorted(names))})"
    return f"every ready agent that runs its analytics is busy ({_busy(able, load)})"


class Assignment:
    def __init__(self, registry: Registry, writes: StreamWrites, commands: AgentCommands) -> None:
        self._registry = registry
        self._writes = writes
        self._commands = commands
        self._told: dict[UUID, str] = {}  # pending stream -> the reason its last_error gives, as written

    async def restart_due(self) -> None:
        """Streams whose autorestart delay has passed go back to pending."""
        now = datetime.now(UTC)
        for stream_id in await self._registry.streams.due_restarts(now.timestamp()):
            if (await self._writes.update(stream_id, partial(states.restart_if_due, now=now))).status_changed:
                metrics.RESTARTS.labels("stream").inc()

    async def follow_schedules(self) -> None:
        """Streams with working intervals pause outside them and go back to pending inside them."""
        now = datetime.now(UTC)
        for stream_id in await self._registry.streams.scheduled_ids():
            await self._writes.update(stream_id, partial(states.follow_schedule, now=now))

    async def assign_pending(self) -> int:
        """Give pending streams, oldest first, to the least loaded ready agent that runs all their
        analytics and has a free slot; a stream none can take gets a ``last_error`` saying why (written
        when the reason changes). Returns how many were assigned."""
        streams = self._registry.streams
        pending = await streams.pending_ids()
        self._told = {s: reason for s, reason in self._told.items() if s in set(pending)}
        if not pending:
            return 0
        agents = [a.agent for a in await self._registry.agents.all() if a.agent.status == AgentStatus.READY]
        load = {a.agent_id: len(await streams.ids_of_agent(a.agent_id)) for a in agents}
        assigned = 0
        for stream_id in pending:
            if not agents or all(load[a.agent_id] >= a.max_stream_count for a in agents):
                # Whatever its analytics: no slot anywhere (no record read for streams already told).
                await self._waiting(stream_id, f"every ready agent is busy ({_busy(agents, load)})"
                                    if agents else "no agent is ready")
                continue
            record = await streams.get(stream_id)
            if record is None:
                continue
            names = {a.analytic_name for a in record.stream.analytics}
            fits = [a for a in agents if names <= set(a.analytic_names) and load[a.agent_id] < a.max_stream_count]
            if not fits:
                await self._waiting(stream_id, why_waiting(names, agents, load))
                continue
            chosen = min(fits, key=lambda a: (load[a.agent_id] / a.max_stream_count, a.create_time))
            change = await self._writes.bookkeep(stream_id, partial(states.take, agent_id=chosen.agent_id))
            if change.after is not None and change.after.agent_id == chosen.agent_id and change.after is not change.before:
                load[chosen.agent_id] += 1
                assigned += 1
                for_stream(log, stream_id).info("stream assigned", extra={"agent_id": str(chosen.agent_id)})
        return assigned

    async def _waiting(self, stream_id: UUID, reason: str) -> None:
        """The stream's last_error says why it waits, and the log says so once per reason."""
        if self._told.get(stream_id) == reason:
            return
        change = await self._writes.bookkeep(stream_id, partial(states.wait_for_agent, error=NO_FREE_AGENT.body(reason)))
        self._told[stream_id] = reason
        if change.after is not None and change.after is not change.before:
            for_stream(log, stream_id).warning("stream waits for an agent", extra={"reason": reason})

    async def dispatch(self) -> None:
        """Send a start to Kafka agents for every assigned stream version they have not been given."""
        for record in await self._registry.agents.all():
            if record.transport != "kafka" or record.agent.status != AgentStatus.READY:
                continue
            agent_id = record.agent.agent_id
            for stream_id in await self._registry.streams.ids_of_agent(agent_id):
                await self._start(agent_id, stream_id)

    async def _start(self, agent_id: UUID, stream_id: UUID) -> None:
        stream = await self._registry.streams.get(stream_id)
        if stream is None or stream.agent_id != agent_id or stream.started_version == stream.stream.version:
            return
        # Marked before sending, so that the agent's first report already finds its start on record.
        mark = partial(states.mark_started, agent_id=agent_id, now=datetime.now(UTC))
        change = await self._writes.bookkeep(stream_id, mark)
        if change.after is None or change.after is change.before:
            return
        try:
            await self._commands.send(agent_id, "start", change.after)
        except Exception:
            await self._writes.bookkeep(stream_id, states.forget_start)
            raise
