"""LUNA's streams: create, read, replace (PUT), pause/resume, delete, one by one or a group's all at
once, and their status log, scoped to accounts (another account's stream is 11020, as if it did not
exist)."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime
from functools import partial
from uuid import UUID

from agents.video_manager import states
from agents.video_manager.analytic_service import AnalyticService
from agents.video_manager.assignment import Assignment
from agents.video_manager.commands import AgentCommands
from agents.video_manager.group_service import GroupService
from agents.video_manager.parameters import validate_parameters
from agents.video_manager.registry import Registry, StreamQuery, StreamRecord
from agents.video_manager.stream_writes import StreamWrites
from infra.logs import for_stream
from schemas.errors import BAD_INPUT_DATA, NO_AGENT_FOR_ANALYTICS, NO_STREAMS_TO_PATCH, OBJECT_NOT_FOUND, SeleneError
from schemas.streams import (
    AnalyticSchedule,
    Autorestart,
    Group,
    ShownStream,
    Stream,
    StreamAnalytic,
    StreamCreate,
    StreamLog,
)

log = logging.getLogger(__name__)


class StreamService:
    def __init__(
        self, registry: Registry, writes: StreamWrites, commands: AgentCommands, analytics: AnalyticService,
        groups: GroupService, assignment: Assignment,
    ) -> None:
        self._registry = registry
        self._writes = writes
        self._commands = commands
        self._analytics = analytics
        self._groups = groups
        self._assignment = assignment

    async def create(self, account_id: UUID, body: StreamCreate) -> Stream:
        analytics = await self._resolve_analytics(account_id, body)
        groups = await self._groups.resolve(account_id, body.group_id, body.group_name)
        record = states.created(uuid.uuid4(), account_id, body, analytics, groups, datetime.now(UTC))
        await self._writes.create(record)
        for_stream(log, record.stream.stream_id).info("stream created", extra={"analytics": [a.analytic_name for a in analytics]})
        return record.stream

    async def get(self, stream_id: UUID, accounts: set[UUID] | None) -> StreamRecord:
        record = await self._registry.streams.get(stream_id)
        if record is None or (accounts is not None and record.stream.account_id not in accounts):
            raise SeleneError(OBJECT_NOT_FOUND, f"stream with id {stream_id}")
        return record

    async def select(self, query: StreamQuery, offset: int = 0, limit: int = -1, desc: bool = False) -> tuple[int, list[StreamRecord]]:
        """How many streams match, and a page of them (``limit`` -1: all), oldest first unless ``desc``."""
        return await self._registry.streams.select(query, offset, limit, desc)

    async def shown(self, streams: list[Stream]) -> list[ShownStream]:
        """The streams as GET shows them: with what was dropped of each so far."""
        dropped = await self._registry.streams.dropped([s.stream_id for s in streams])
        return [ShownStream(**dict(s), frames_dropped=d) for s, d in zip(streams, dropped, strict=True)]

    async def replace(self, account_id: UUID, stream_id: UUID, body: StreamCreate) -> Stream:
        await self.get(stream_id, {account_id})
        analytics = await self._resolve_analytics(account_id, body)
        groups = await self._groups.resolve(account_id, body.group_id, body.group_name)
        agents = {a.agent.agent_id: a for a in await self._registry.agents.all()}
        runs = {agent_id: a.agent.analytic_names for agent_id, a in agents.items()}
        change = await self._writes.update(
            stream_id, partial(states.replace, body=body, analytics=analytics, groups=groups, agents=runs), missing_ok=False
        )
        assert change.before is not None and change.after is not None
        old_agent = agents.get(change.before.agent_id) if change.before.agent_id else None
        if old_agent is not None and old_agent.transport == "kafka":
            await self._commands.send(old_agent.agent.agent_id, "stop", change.before)
        await self._assignment.dispatch()
        return change.after.stream

    async def patch(self, stream_id: UUID, action: states.Action, accounts: set[UUID]) -> None:
        """Pause or resume; 44015 when the stream's status does not allow it."""
        await self.get(stream_id, accounts)
        if not await self.apply_action(stream_id, action):
            raise SeleneError(NO_STREAMS_TO_PATCH)

    async def apply_action(self, stream_id: UUID, action: states.Action) -> bool:
        """Pause or resume one stream; False when its status does not allow it (or it is gone)."""
        change = await self._writes.update(stream_id, partial(states.apply_action, action=action))
        if change.after is None or change.after is change.before:
            return False
        await self._commands.stop_on_agent(change)
        return True

    async def delete(self, stream_id: UUID, accounts: set[UUID]) -> bool:
        """False when there is no such stream of ``accounts``."""
        change = await self._writes.delete(stream_id, accounts)
        if change.before is None:
            return False
        for_stream(log, stream_id).info("stream deleted")
        await self._commands.stop_on_agent(change)
        return True

    async def of_group(self, group: Group) -> list[StreamRecord]:
        return (await self.select(StreamQuery(accounts={group.account_id}, group_ids={group.group_id})))[1]

    async def patch_group(self, group: Group, action: states.Action) -> None:
        """Apply the action to every stream of the group it can change; 44015 when none."""
        changed = [await self.apply_action(r.stream.stream_id, action) for r in await self.of_group(group)]
        if not any(changed):
            raise SeleneError(NO_STREAMS_TO_PATCH)

    async def delete_group(self, group: Group, with_streams: bool) -> None:
        """Delete the group; its streams go too with ``with_streams``, else they just leave it."""
        streams = await self.of_group(group)
        await self._groups.delete(group)
        for record in streams:
            if with_streams:
                await self.delete(record.stream.stream_id, {group.account_id})
            else:
                await self._writes.update(record.stream.stream_id, partial(states.leave_group, group_id=group.group_id))

    async def delete_of_group(self, group: Group, accounts: set[UUID]) -> None:
        for record in await self.of_group(group):
            await self.delete(record.stream.stream_id, accounts)

    async def logs(self, gte: datetime | None, lt: datetime | None, accounts: set[UUID]) -> list[StreamLog]:
        """The status log of ``accounts``' streams in ``[gte, lt)``, oldest first."""
        return [e for e in await self._registry.streams.log_entries(gte, lt) if e.account_id in accounts]

    async def delete_logs(self, lt: datetime | None, accounts: set[UUID]) -> int:
        """Delete ``accounts``' status log before ``lt`` (all of it without); how many entries went."""
        return await self._registry.streams.delete_log_entries(await self.logs(None, lt, accounts))

    async def _resolve_analytics(self, account_id: UUID, body: StreamCreate) -> list[StreamAnalytic]:
        """The body's analytics by name, their parameters validated; 44014 if no agent runs them all."""
        autorestart = Autorestart.from_restart(body.restart)
        registered = [await self._analytics.named(account_id, requested.name) for requested in body.analytics]
        names = {a.analytic_name for a in registered}
        if not any(names <= set(a.agent.analytic_names) for a in await self._registry.agents.all()):
            raise SeleneError(NO_AGENT_FOR_ANALYTICS)
        return [
            StreamAnalytic(
                analytic_name=requested.name,
                parameters=validate_parameters(analytic, requested.parameters, f"analytics.{i}.parameters"),
                autorestart=autorestart.model_copy(),
                schedules=_interval_schedules(requested.schedules, f"analytics.{i}.schedules"),
            )
            for i, (requested, analytic) in enumerate(zip(body.analytics, registered, strict=True))
        ]


def _interval_schedules(schedules: list[AnalyticSchedule], path: str) -> list[AnalyticSchedule]:
    """Schedules given as intervals; a schedule template's id is refused, as templates are not kept yet."""
    for i, schedule in enumerate(schedules):
        if schedule.intervals is None:
            raise SeleneError(BAD_INPUT_DATA, f"{path}.{i}: schedule templates (schedule_id) are not supported; "
                              "give intervals")
    return schedules
