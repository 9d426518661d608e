"""Assignment: pending streams to agents by capability and ``max_stream_count``, starts to Kafka agents,
and restarting streams back to pending once their autorestart delay has passed; streams with working
intervals paused outside them and pending again inside them. The leader runs these
in its round; a replaced stream and a registering agent get their starts at once."""

from __future__ import annotations

import heapq
import logging
from datetime import UTC, datetime
from functools import partial
from uuid import UUID

from agents.video_manager import states
from agents.video_manager.commands import AgentCommands
from agents.video_manager.registry import Registry, StreamRecord
from agents.video_manager.registry.streams import BULK_CHUNK
from agents.video_manager.stream_writes import StreamWrites, Transition
from infra import metrics
from infra.logs import for_stream
from schemas.agents import Agent
from schemas.errors import NO_FREE_AGENT
from schemas.status import AgentStatus, StreamStatus

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
        when the reason changes). A Kafka agent's streams are marked started in the same write and
        their starts sent together. Returns how many were assigned.

        Streams go a chunk per transaction: the chunk's records are read, the agents chosen and the
        writes applied in one round, so 10,000 streams take some forty rounds, not tens of thousands."""
        streams = self._registry.streams
        pending = await streams.pending_ids()
        waiting = set(pending)
        self._told = {s: reason for s, reason in self._told.items() if s in waiting}
        if not pending:
            return 0
        ready = [a for a in await self._registry.agents.all() if a.agent.status == AgentStatus.READY]
        agents = [a.agent for a in ready]
        kafka = {a.agent.agent_id for a in ready if a.transport == "kafka"}
        load = dict(zip([a.agent_id for a in agents], await streams.counts_of_agents([a.agent_id for a in agents]), strict=True))
        assigned = 0
        for start in range(0, len(pending), BULK_CHUNK):
            chunk = pending[start : start + BULK_CHUNK]
            if not agents or all(load[a.agent_id] >= a.max_stream_count for a in agents):
                # Whatever their analytics: no slot anywhere (no record read for streams already told).
                busy = f"every ready agent is busy ({_busy(agents, load)})" if agents else "no agent is ready"
                chunk = [s for s in chunk if self._told.get(s) != busy]
                if not chunk:
                    continue
            planned = _Plan(agents, load, kafka, self._told, datetime.now(UTC))
            changes = await self._writes.bookkeep_many(chunk, planned.transitions)
            starts: list[tuple[UUID, StreamRecord]] = []
            for stream_id, change in changes.items():
                if change.after is None or change.after is change.before:
                    continue
                agent_id = change.after.agent_id
                if agent_id is not None and agent_id == planned.chosen.get(stream_id):
                    load[agent_id] += 1
                    assigned += 1
                    for_stream(log, stream_id).info("stream assigned", extra={"agent_id": str(agent_id)})
                    if agent_id in kafka and change.after.started_version == change.after.stream.version:
                        starts.append((agent_id, change.after))
                elif stream_id in planned.reasons:
                    for_stream(log, stream_id).warning("stream waits for an agent", extra={"reason": planned.reasons[stream_id]})
            self._told.update(planned.reasons)
            await self._start_all(starts)
        return assigned

    async def dispatch(self) -> None:
        """Send a start to Kafka agents for every assigned stream version they have not been given."""
        ready = {
            r.agent.agent_id for r in await self._registry.agents.all()
            if r.transport == "kafka" and r.agent.status == AgentStatus.READY
        }
        unstarted = await self._registry.streams.unstarted_ids()
        held = [(agent_id, stream_id) for stream_id, agent_id in unstarted.items() if agent_id in ready]
        for start in range(0, len(held), BULK_CHUNK):
            chunk = held[start : start + BULK_CHUNK]
            owner = dict((stream_id, agent_id) for agent_id, stream_id in chunk)
            now = datetime.now(UTC)

            def plan(records: list[StreamRecord | None]) -> list[Transition | None]:
                return [
                    partial(states.mark_started, agent_id=r.agent_id, now=now)
                    if r is not None and r.agent_id == owner[r.stream.stream_id] and r.started_version != r.stream.version
                    else None
                    for r in records
                ]

            changes = await self._writes.bookkeep_many([stream_id for _, stream_id in chunk], plan)
            await self._start_all([
                (owner[stream_id], change.after) for stream_id, change in changes.items()
                if change.after is not None and change.after is not change.before
            ])

    async def _start_all(self, starts: list[tuple[UUID, StreamRecord]]) -> None:
        """Send the starts of streams marked started (marked before sending, so that an agent's first
        report already finds its start on record); if sending fails, they are marked unsent again."""
        if not starts:
            return
        try:
            await self._commands.start_all(starts)
        except Exception:
            ids = [record.stream.stream_id for _, record in starts]
            await self._writes.bookkeep_many(ids, lambda records: [states.forget_start] * len(records))
            raise


class _Plan:
    """One chunk's choices, made again from the same committed load whenever its transaction retries.

    The least loaded agent comes off a heap per set of analytics (rebuilt lazily: an entry whose load
    changed is pushed again with its new one), so a choice costs a few heap operations, not a scan of
    every agent."""

    def __init__(self, agents: list[Agent], load: dict[UUID, int], kafka: set[UUID], told: dict[UUID, str], now: datetime) -> None:
        self._agents, self._load, self._kafka, self._told, self._now = agents, load, kafka, told, now
        self.chosen: dict[UUID, UUID] = {}
        self.reasons: dict[UUID, str] = {}  # the streams told why they wait, by this chunk's write

    def transitions(self, records: list[StreamRecord | None]) -> list[Transition | None]:
        self.chosen, self.reasons = {}, {}
        load = dict(self._load)
        free = sum(max(a.max_stream_count - load[a.agent_id], 0) for a in self._agents)
        heaps: dict[frozenset[str], list[tuple[float, datetime, int, int]]] = {}
        out: list[Transition | None] = []
        for record in records:
            if record is None or record.stream.status != StreamStatus.PENDING or record.agent_id is not None:
                out.append(None)
                continue
            stream_id = record.stream.stream_id
            names = frozenset(a.analytic_name for a in record.stream.analytics)
            if free <= 0:
                reason = f"every ready agent is busy ({_busy(self._agents, load)})" if self._agents else "no agent is ready"
            else:
                if names not in heaps:
                    heaps[names] = [self._entry(i, load) for i, a in enumerate(self._agents)
                                    if names <= set(a.analytic_names) and load[a.agent_id] < a.max_stream_count]
                    heapq.heapify(heaps[names])
                chosen = self._least_loaded(heaps[names], load)
                if chosen is not None:
                    load[chosen.agent_id] += 1
                    free -= 1
                    self.chosen[stream_id] = chosen.agent_id
                    out.append(partial(_take, agent_id=chosen.agent_id, start=chosen.agent_id in self._kafka, now=self._now))
                    continue
                reason = why_waiting(set(names), self._agents, load)
            if self._told.get(stream_id) == reason:
                out.append(None)
                continue
            self.reasons[stream_id] = reason
            out.append(partial(states.wait_for_agent, error=NO_FREE_AGENT.body(reason)))
        return out

    def _entry(self, index: int, load: dict[UUID, int]) -> tuple[float, datetime, int, int]:
        agent = self._agents[index]
        used = load[agent.agent_id]
        return (used / agent.max_stream_count, agent.create_time, index, used)

    def _least_loaded(self, heap: list[tuple[float, datetime, int, int]], load: dict[UUID, int]) -> Agent | None:
        """The fitting agent with the lowest load ratio (the oldest on a tie), pushed back with one more."""
        while heap:
            _, _, index, used = heap[0]
            agent = self._agents[index]
            current = load[agent.agent_id]
            if current >= agent.max_stream_count:
                heapq.heappop(heap)
            elif current != used:  # taken from through another set of analytics meanwhile
                heapq.heapreplace(heap, self._entry(index, load))
            else:
                heapq.heapreplace(heap, (
                    (current + 1) / agent.max_stream_count, agent.create_time, index, current + 1
                ))
                return agent
        return None


def _take(record: StreamRecord, agent_id: UUID, start: bool, now: datetime) -> None:
    """Assignment, and for a Kafka agent the start's hand-over in the same write."""
    states.take(record, agent_id)
    if start:
        states.mark_started(record, agent_id, now)
