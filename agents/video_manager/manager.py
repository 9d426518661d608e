"""The video manager's logic: streams, groups, analytics and agents over the Redis registry.

The REST routes and the Kafka agent protocol both call this one class, so an external REST agent and a
Kafka agent go through the same registry writes, assignment and restart rules.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from uuid import UUID

from agents.video_manager.bus import Bus
from agents.video_manager.callbacks import CallbackSender
from agents.video_manager.parameters import builtin_analytics, check_schema, validate_parameters
from agents.video_manager.registry import AgentRecord, Change, Registry, StreamRecord
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
from schemas.analytics import HttpCallback
from schemas.commands import StreamCommand
from schemas.errors import (
    NO_AGENT_FOR_ANALYTICS,
    NO_STREAMS_TO_PATCH,
    OBJECT_NOT_FOUND,
    STREAM_CONNECTION_LOST,
    SeleneError,
)
from schemas.status import AgentStatus, AutorestartStatus, StreamStatus
from schemas.streams import (
    Analytic,
    Autorestart,
    Group,
    Location,
    NotificationPolicy,
    Stream,
    StreamAnalytic,
    StreamConfig,
    StreamConfigAnalytic,
    StreamCreate,
    AnalyticCreate,
)

log = logging.getLogger(__name__)

PAUSABLE = frozenset({StreamStatus.PENDING, StreamStatus.IN_PROGRESS, StreamStatus.RESTART, StreamStatus.HANDLER_LOST})
RESUMABLE = frozenset({StreamStatus.PAUSE})
RUNNING_REPORTS = frozenset({StreamStatus.PENDING, StreamStatus.IN_PROGRESS, StreamStatus.RESTART})


def _now() -> datetime:
    return datetime.now(UTC)


def _release(record: StreamRecord) -> None:
    record.agent_id = None
    _forget_start(record)


def _forget_start(record: StreamRecord) -> None:
    """The agent must be sent this stream again (it restarted, or the send failed)."""
    record.started_version = None
    record.started_at = None


def _set_status(record: StreamRecord, status: StreamStatus, indexes: Iterable[int] | None = None) -> None:
    chosen = set(indexes) if indexes is not None else None
    for i, analytic in enumerate(record.stream.analytics):
        if chosen is None or i in chosen:
            analytic.status = status
    record.stream.status = status


class VideoManager:
    def __init__(self, registry: Registry, bus: Bus, settings: ManagerSettings) -> None:
        self.registry = registry
        self.bus = bus
        self.settings = settings
        self._callbacks = CallbackSender(settings, "status callback")
        # Configs are published off the request path, one at a time, so the topic gets them in order.
        self._outbox: asyncio.Queue[tuple[UUID, Stream | None]] = asyncio.Queue()
        self._deletions_seen: set[UUID] = set()
        self._publisher: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Seed the built-in analytics; every instance may do it, the first one wins."""
        self._publisher = asyncio.create_task(self._publish_loop(), name="manager-configs")
        for analytic in builtin_analytics(_now()):
            if await self.registry.analytics.get(analytic.analytic_id) is None:
                try:
                    await self.registry.analytics.create(
                        analytic.analytic_id, analytic, analytic.create_time, name=f"*:{analytic.analytic_name}"
                    )
                except SeleneError:
                    pass  # another manager seeded it first

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self._outbox.join(), 5)
        except TimeoutError:
            pass  # what is left stays marked unpublished; the next leader publishes it
        if self._publisher is not None:
            self._publisher.cancel()
            await asyncio.gather(self._publisher, return_exceptions=True)
        await self._callbacks.close()

    # -- streams ---------------------------------------------------------------------------------
    async def analytic_named(self, account_id: UUID, name: str) -> Analytic:
        """An account's own analytic of that name, else the built-in one."""
        for scope in (str(account_id), "*"):
            found = await self.registry.analytics.id_by_name(f"{scope}:{name}")
            if found is not None:
                analytic = await self.registry.analytics.get(found)
                if analytic is not None:
                    return analytic
        raise SeleneError(OBJECT_NOT_FOUND, f"analytic with name {name!r}")

    async def _agents(self) -> list[AgentRecord]:
        return await self.registry.agents.all()

    async def _check_capability(self, names: set[str]) -> None:
        if not any(names <= set(a.agent.analytic_names) for a in await self._agents()):
            raise SeleneError(NO_AGENT_FOR_ANALYTICS)

    async def _group_ids(self, account_id: UUID, body: StreamCreate) -> list[UUID]:
        groups: list[UUID] = []
        if body.group_id is not None:
            group = await self.registry.groups.get(body.group_id)
            if group is None or group.account_id != account_id:
                raise SeleneError(OBJECT_NOT_FOUND, f"group with id {body.group_id}")
            groups.append(group.group_id)
        if body.group_name is not None:
            found = await self.registry.groups.id_by_name(f"{account_id}:{body.group_name}")
            if found is None:
                raise SeleneError(OBJECT_NOT_FOUND, f"group with name {body.group_name!r}")
            if UUID(found) not in groups:
                groups.append(UUID(found))
        return groups

    async def _analytics(self, account_id: UUID, body: StreamCreate) -> list[StreamAnalytic]:
        autorestart = Autorestart.from_restart(body.restart)
        registered = [await self.analytic_named(account_id, requested.name) for requested in body.analytics]
        await self._check_capability({a.analytic_name for a in registered})
        return [
            StreamAnalytic(
                analytic_name=requested.name,
                parameters=validate_parameters(analytic, requested.parameters, f"analytics.{i}.parameters"),
                autorestart=autorestart.model_copy(),
            )
            for i, (requested, analytic) in enumerate(zip(body.analytics, registered, strict=True))
        ]

    async def create_stream(self, account_id: UUID, body: StreamCreate) -> Stream:
        analytics = await self._analytics(account_id, body)
        stream = Stream(
            account_id=account_id,
            analytics=analytics,
            create_time=_now(),
            data=body.data,
            description=body.description,
            groups=await self._group_ids(account_id, body),
            location=body.location or Location(),
            name=body.name,
            notification_policy=body.notification_policy or NotificationPolicy(),
            source=body.source,
            splittable=body.splittable,
            stream_id=uuid.uuid4(),
        )
        change = await self.registry.streams.create(StreamRecord(stream=stream))
        for_stream(log, stream.stream_id).info("stream created", extra={"analytics": [a.analytic_name for a in analytics]})
        await self._after(change)
        return stream

    async def get_stream(self, stream_id: UUID, accounts: set[UUID] | None) -> StreamRecord:
        record = await self.registry.streams.get(stream_id)
        if record is None or (accounts is not None and record.stream.account_id not in accounts):
            raise SeleneError(OBJECT_NOT_FOUND, f"stream with id {stream_id}")
        return record

    async def replace_stream(self, account_id: UUID, stream_id: UUID, body: StreamCreate) -> Stream:
        await self.get_stream(stream_id, {account_id})
        analytics = await self._analytics(account_id, body)
        groups = await self._group_ids(account_id, body)
        agents = {a.agent.agent_id: a for a in await self._agents()}
        names = {a.analytic_name for a in analytics}

        def replace(record: StreamRecord) -> None:
            old = record.stream
            paused = old.status == StreamStatus.PAUSE
            record.stream = old.model_copy(
                update={
                    "analytics": [a.model_copy(update={"status": old.status if paused else StreamStatus.PENDING}) for a in analytics],
                    "data": body.data, "description": body.description, "groups": groups,
                    "location": body.location or Location(), "name": body.name,
                    "notification_policy": body.notification_policy or NotificationPolicy(),
                    "source": body.source, "splittable": body.splittable, "version": old.version + 1,
                    "status": StreamStatus.PAUSE if paused else StreamStatus.PENDING, "last_error": None,
                }
            )
            # The agent keeps the stream when it can run the new analytics; it is told to start the new
            # version, and its reports of the old one get a stop.
            agent = agents.get(record.agent_id) if record.agent_id else None
            if paused or agent is None or not names <= set(agent.agent.analytic_names):
                _release(record)

        change = await self.registry.streams.update(stream_id, replace)
        assert change.before is not None and change.after is not None
        old_agent = change.before.agent_id
        if old_agent is not None and old_agent in agents and agents[old_agent].transport == "kafka":
            await self._command(old_agent, "stop", change.before)
        await self._after(change)
        await self.dispatch()
        return change.after.stream

    async def patch_stream(self, stream_id: UUID, action: str, accounts: set[UUID]) -> None:
        await self.get_stream(stream_id, accounts)
        if not await self._apply_action(stream_id, action):
            raise SeleneError(NO_STREAMS_TO_PATCH)

    async def _apply_action(self, stream_id: UUID, action: str) -> bool:
        """Pause or resume one stream; False when its status does not allow it."""
        allowed = PAUSABLE if action == "pause" else RESUMABLE

        def apply(record: StreamRecord) -> None:
            if record.stream.status not in allowed:
                return
            if action == "pause":
                _set_status(record, StreamStatus.PAUSE)
                _release(record)
            else:
                _set_status(record, StreamStatus.PENDING)
                for analytic in record.stream.analytics:
                    analytic.autorestart.current_attempt = 0
            record.restart_at = None

        change = await self.registry.streams.update(stream_id, apply, missing_ok=True)
        if change.after is None or change.after is change.before:
            return False
        await self._stop_on_agent(change)
        await self._after(change)
        return True

    async def delete_stream(self, stream_id: UUID, accounts: set[UUID]) -> bool:
        change = await self.registry.streams.delete(stream_id, accounts)
        if change.before is None:
            return False
        for_stream(log, stream_id).info("stream deleted")
        await self._stop_on_agent(change)
        self._outbox.put_nowait((stream_id, change.before.stream))
        return True

    async def _stop_on_agent(self, change: Change) -> None:
        """A Kafka agent that loses a stream is told at once; a REST agent learns it from its feedback."""
        before = change.before
        if before is None or before.agent_id is None or (change.after and change.after.agent_id == before.agent_id):
            return
        agent = await self.registry.agents.get(before.agent_id)
        if agent is not None and agent.transport == "kafka":
            await self._command(before.agent_id, "stop", before)

    async def _after(self, change: Change) -> None:
        """What follows every committed stream write: the config to processors, status callbacks."""
        record = change.after or change.before
        if record is None:
            return
        self._outbox.put_nowait((record.stream.stream_id, None))
        if change.after is not None and change.status_changed:
            self._notify(change.after.stream)

    # -- stream-config topic ---------------------------------------------------------------------
    @staticmethod
    def config_of(stream: Stream) -> StreamConfig:
        return StreamConfig(
            stream_id=stream.stream_id, account_id=stream.account_id, version=stream.version, data=stream.data,
            analytics=[
                StreamConfigAnalytic(index=i, analytic_name=a.analytic_name, parameters=a.parameters)
                for i, a in enumerate(stream.analytics)
            ],
            status=stream.status, name=stream.name, source=stream.source, location=stream.location,
        )

    async def publish_config(self, stream_id: UUID, deleted: Stream | None = None) -> None:
        """Publish the stream's latest config if a write left it unpublished; on failure the mark stays
        and the leader's next round retries. ``deleted``: the stream as it was, for the deleted marker."""
        mark = await self.registry.streams.unpublished_mark(stream_id)
        if mark is None:
            return
        try:
            record = await self.registry.streams.get(stream_id)
            if record is not None:
                await self.bus.config(self.config_of(record.stream))
            elif deleted is not None:
                await self.bus.deleted(self.config_of(deleted))
            else:
                await self.bus.tombstone(stream_id)
        except Exception as exc:  # noqa: BLE001 - the mark stays; the leader retries
            for_stream(log, stream_id).warning("stream config not published", extra={"error": str(exc)})
            return
        await self.registry.streams.mark_published(stream_id, mark)

    async def _publish_loop(self) -> None:
        while True:
            stream_id, deleted = await self._outbox.get()
            try:
                await self.publish_config(stream_id, deleted)
            except Exception:  # noqa: BLE001 - Redis away: the mark stays, the leader retries
                for_stream(log, stream_id).exception("stream config not published")
            finally:
                self._outbox.task_done()

    async def publish_unpublished(self) -> None:
        """Retry what is unpublished. A deletion is left one round to its own request, which holds the
        deleted stream and so can publish the deleted marker before the tombstone."""
        marks = await self.registry.streams.unpublished()
        for stream_id, mark in marks.items():
            if mark != "deleted" or stream_id in self._deletions_seen:
                self._outbox.put_nowait((stream_id, None))
        self._deletions_seen = {stream_id for stream_id, mark in marks.items() if mark == "deleted"}

    # -- notification_policy ---------------------------------------------------------------------
    def _notify(self, stream: Stream) -> None:
        policy = stream.notification_policy
        if not policy.enable:
            return
        payload = {
            "stream_id": str(stream.stream_id), "account_id": str(stream.account_id), "version": stream.version,
            "status": stream.status.luna_name, "time": _now().isoformat(),
            "error": stream.last_error.model_dump() if stream.last_error else None,
        }
        for callback in policy.stream_callbacks:
            if isinstance(callback, HttpCallback):
                self._callbacks.send(stream.stream_id, callback, payload)

    # -- agents ------------------------------------------------------------------------------------
    async def register_agent(
        self, registration: AgentRegistration | AgentAnnouncement, transport: str, agent_id: UUID | None = None
    ) -> AgentRegistered:
        """Register (or re-register) an agent; a returning agent runs nothing, so its streams are
        handed to it again."""
        agent_id = agent_id or uuid.uuid4()
        now = _now()
        existing = await self.registry.agents.get(agent_id)
        agent = Agent(
            agent_id=agent_id, status=AgentStatus.READY, create_time=existing.agent.create_time if existing else now,
            last_seen=now, alive_period=self.settings.alive_period, refresh_period=self.settings.refresh_period,
            **registration.model_dump(include=set(AgentRegistration.model_fields)),
        )
        record = AgentRecord(agent=agent, transport=transport)  # type: ignore[arg-type]
        if existing is None:
            await self.registry.agents.create(agent_id, record, now)
        else:

            def replace(r: AgentRecord) -> None:
                r.agent, r.transport = record.agent, record.transport

            await self.registry.agents.update(agent_id, replace)
            for stream_id in await self.registry.streams.ids_of_agent(agent_id):
                await self.registry.streams.update(stream_id, _forget_start, missing_ok=True)
        log.info("agent registered", extra={"agent_id": str(agent_id), "agent_name": agent.name, "transport": transport})
        return AgentRegistered(
            agent_id=agent_id, alive_period=self.settings.alive_period, refresh_period=self.settings.refresh_period
        )

    async def agent(self, agent_id: UUID) -> AgentRecord:
        record = await self.registry.agents.get(agent_id)
        if record is None:
            raise SeleneError(OBJECT_NOT_FOUND, f"agent with id {agent_id}")
        record.agent.stream_ids = await self.registry.streams.ids_of_agent(agent_id)
        return record

    async def agents(self) -> list[Agent]:
        found = []
        for record in await self.registry.agents.all():
            record.agent.stream_ids = await self.registry.streams.ids_of_agent(record.agent.agent_id)
            found.append(record.agent)
        return found

    async def remove_agent(self, agent_id: UUID) -> None:
        await self.agent(agent_id)
        await self.registry.agents.delete(agent_id)
        await self._requeue_streams_of(agent_id)
        log.info("agent removed", extra={"agent_id": str(agent_id)})

    async def _requeue_streams_of(self, agent_id: UUID) -> None:
        """The agent is gone: its streams are logged ``handler_lost``, then wait for another agent."""

        def lost(record: StreamRecord) -> None:
            if record.agent_id == agent_id:
                _set_status(record, StreamStatus.HANDLER_LOST)
                _release(record)

        def pending(record: StreamRecord) -> None:
            if record.stream.status == StreamStatus.HANDLER_LOST and record.agent_id is None:
                _set_status(record, StreamStatus.PENDING)

        for stream_id in await self.registry.streams.ids_of_agent(agent_id):
            for step in (lost, pending):
                await self._after(await self.registry.streams.update(stream_id, step, missing_ok=True))
            for_stream(log, stream_id).warning("agent lost, stream back to pending", extra={"agent_id": str(agent_id)})

    async def pull_streams(self, agent_id: UUID) -> list[Stream]:
        """LUNA's ``postAgentStreams``: the streams this agent must start, each handed out once per version."""
        await self.agent(agent_id)
        await self._touch(agent_id)
        started = []
        for stream_id in await self.registry.streams.ids_of_agent(agent_id):
            change = await self.registry.streams.update(stream_id, self._mark_started(agent_id), missing_ok=True)
            if change.after is not None and change.after is not change.before:
                started.append(change.after.stream)
        return started

    @staticmethod
    def _mark_started(agent_id: UUID) -> Callable[[StreamRecord], None]:
        def mark(record: StreamRecord) -> None:
            if record.agent_id == agent_id and record.started_version != record.stream.version:
                record.started_version = record.stream.version
                record.started_at = time.time()

        return mark

    async def _touch(self, agent_id: UUID) -> None:
        def touch(record: AgentRecord) -> None:
            record.agent.last_seen = _now()
            record.agent.status = AgentStatus.READY

        await self.registry.agents.update(agent_id, touch)

    async def feedback(self, agent_id: UUID, reports: list[StreamReport]) -> list[FeedbackAction]:
        """Take an agent's reports (its heartbeat); answer a stop for every stream version it must drop."""
        await self.agent(agent_id)
        await self._touch(agent_id)
        actions = []
        for report in reports:
            record = await self.registry.streams.get(report.stream_id)
            current = (
                record is not None and record.agent_id == agent_id and record.stream.version == report.version
                and record.stream.status != StreamStatus.PAUSE
            )
            if not current:
                if report.status in RUNNING_REPORTS:
                    actions.append(FeedbackAction(action="stop", stream_id=report.stream_id, version=report.version))
                continue
            change = await self.registry.streams.update(
                report.stream_id, self._apply_report(agent_id, report), frame_time=report.last_processed_frame_time,
                missing_ok=True,
            )
            if change.after is not None and change.status_changed:
                for_stream(log, report.stream_id).info(
                    "stream status", extra={"status": change.after.stream.status.luna_name, "agent_id": str(agent_id)}
                )
            await self._after(change)
        return actions

    def _apply_report(self, agent_id: UUID, report: StreamReport) -> Callable[[StreamRecord], None]:
        def apply(record: StreamRecord) -> None:
            stream = record.stream
            if record.agent_id != agent_id or stream.version != report.version:
                return  # changed since we looked: the next report gets its stop
            if report.status.is_terminal and (record.started_at is None or report.time.timestamp() < record.started_at):
                return  # the end of an earlier run of this version, reported before the agent got its new start
            indexes = report.analytic_indexes or range(len(stream.analytics))
            indexes = [i for i in indexes if 0 <= i < len(stream.analytics)]
            if report.last_error is not None:
                stream.last_error = report.last_error
            if report.status != StreamStatus.FAILURE:
                _set_status(record, report.status, indexes)
                if report.status == StreamStatus.DONE:
                    _release(record)
                return
            # Failure: each reported analytic restarts while its autorestart allows; a lost connection
            # does not use up an attempt (LUNA v5.89).
            lost = report.last_error is not None and report.last_error.error_code == STREAM_CONNECTION_LOST.code
            now = _now()
            delays = []
            for i in indexes:
                analytic = stream.analytics[i]
                restart = analytic.autorestart
                if restart.restart and (lost or restart.current_attempt < restart.attempt_count):
                    if not lost:
                        restart.current_attempt += 1
                    restart.last_attempt_time = now
                    restart.status = AutorestartStatus.IN_PROGRESS
                    analytic.status = StreamStatus.RESTART
                    delays.append(restart.delay)
                else:
                    restart.status = AutorestartStatus.FAILED if restart.restart else AutorestartStatus.DISABLED
                    analytic.status = StreamStatus.FAILURE
            if delays:
                stream.status = StreamStatus.RESTART
                record.restart_at = time.time() + max(delays)
            else:
                stream.status = StreamStatus.FAILURE
            _release(record)

        return apply

    # -- the leader's round ----------------------------------------------------------------------
    async def expire_agents(self) -> None:
        """Agents silent for longer than alive_period become not_ready and lose their streams."""
        deadline = _now() - timedelta(seconds=self.settings.alive_period)
        for record in await self.registry.agents.all():
            agent = record.agent
            if agent.status == AgentStatus.READY and agent.last_seen < deadline:

                def expire(r: AgentRecord) -> None:
                    if r.agent.last_seen < deadline:
                        r.agent.status = AgentStatus.NOT_READY

                updated = await self.registry.agents.update(agent.agent_id, expire)
                if updated.agent.status == AgentStatus.NOT_READY:
                    log.warning("agent not ready", extra={"agent_id": str(agent.agent_id), "last_seen": str(agent.last_seen)})
                    await self._requeue_streams_of(agent.agent_id)

    async def restart_due(self) -> None:
        """Streams whose autorestart delay has passed go back to pending."""

        def again(record: StreamRecord) -> None:
            if record.stream.status == StreamStatus.RESTART:
                for analytic in record.stream.analytics:
                    if analytic.status == StreamStatus.RESTART:
                        analytic.status = StreamStatus.PENDING
                record.stream.status = StreamStatus.PENDING
                record.restart_at = None

        for stream_id in await self.registry.streams.due_restarts(time.time()):
            await self._after(await self.registry.streams.update(stream_id, again, missing_ok=True))

    async def assign_pending(self) -> int:
        """Give pending streams, oldest first, to the least loaded ready agent that runs all their
        analytics and has a free slot. Returns how many were assigned."""
        pending = await self.registry.streams.pending_ids()
        if not pending:
            return 0
        agents = [a.agent for a in await self.registry.agents.all() if a.agent.status == AgentStatus.READY]
        load = {a.agent_id: len(await self.registry.streams.ids_of_agent(a.agent_id)) for a in agents}
        assigned = 0
        for stream_id in pending:
            if all(load[a.agent_id] >= a.max_stream_count for a in agents):
                break
            record = await self.registry.streams.get(stream_id)
            if record is None:
                continue
            names = {a.analytic_name for a in record.stream.analytics}
            fits = [a for a in agents if names <= set(a.analytic_names) and load[a.agent_id] < a.max_stream_count]
            if not fits:
                continue
            chosen = min(fits, key=lambda a: (load[a.agent_id] / a.max_stream_count, a.create_time))

            def take(r: StreamRecord, agent_id: UUID = chosen.agent_id) -> None:
                if r.stream.status == StreamStatus.PENDING and r.agent_id is None:
                    r.agent_id = agent_id

            change = await self.registry.streams.update(stream_id, take, missing_ok=True)
            if change.after is not None and change.after.agent_id == chosen.agent_id and change.after is not change.before:
                load[chosen.agent_id] += 1
                assigned += 1
                for_stream(log, stream_id).info("stream assigned", extra={"agent_id": str(chosen.agent_id)})
        return assigned

    async def dispatch(self) -> None:
        """Send a start to Kafka agents for every assigned stream version they have not been given."""
        for record in await self.registry.agents.all():
            if record.transport != "kafka" or record.agent.status != AgentStatus.READY:
                continue
            agent_id = record.agent.agent_id
            for stream_id in await self.registry.streams.ids_of_agent(agent_id):
                stream = await self.registry.streams.get(stream_id)
                if stream is None or stream.agent_id != agent_id or stream.started_version == stream.stream.version:
                    continue
                # Marked before sending, so that the agent's first report already finds its start on record.
                change = await self.registry.streams.update(stream_id, self._mark_started(agent_id), missing_ok=True)
                if change.after is None or change.after is change.before:
                    continue
                try:
                    await self._command(agent_id, "start", change.after)
                except Exception:
                    await self.registry.streams.update(stream_id, _forget_start, missing_ok=True)
                    raise

    async def round(self) -> None:
        await self.expire_agents()
        await self.restart_due()
        await self.assign_pending()
        await self.dispatch()
        await self.publish_unpublished()

    async def _command(self, agent_id: UUID, action: str, record: StreamRecord) -> None:
        stream = record.stream
        await self.bus.command(
            StreamCommand(
                agent_id=agent_id, action=action, stream_id=stream.stream_id, version=stream.version,  # type: ignore[arg-type]
                config=self.config_of(stream) if action == "start" else None, issued_at=_now(),
            )
        )
        for_stream(log, stream.stream_id).info(f"{action} sent", extra={"agent_id": str(agent_id), "version": stream.version})

    async def on_agent_message(self, message: AgentMessage) -> None:
        """One AgentMessage from ``selene.agent-feedback``."""
        if message.kind == "register":
            assert message.registration is not None
            registered = await self.register_agent(message.registration, "kafka", message.agent_id)
            await self.bus.command(
                StreamCommand(
                    agent_id=message.agent_id, action="registered", alive_period=registered.alive_period,
                    refresh_period=registered.refresh_period, issued_at=_now(),
                )
            )
            await self.dispatch()
        elif message.kind == "deregister":
            if await self.registry.agents.get(message.agent_id) is not None:
                await self.remove_agent(message.agent_id)
        else:
            if await self.registry.agents.get(message.agent_id) is None:
                # A heartbeat that carries its registration re-registers an agent the registry lost.
                if message.registration is None:
                    log.warning("heartbeat from an unregistered agent", extra={"agent_id": str(message.agent_id)})
                    return
                await self.register_agent(message.registration, "kafka", message.agent_id)
            for action in await self.feedback(message.agent_id, message.streams):
                await self.bus.command(
                    StreamCommand(
                        agent_id=message.agent_id, action="stop", stream_id=action.stream_id,
                        version=action.version, issued_at=_now(),
                    )
                )

    # -- groups ----------------------------------------------------------------------------------
    async def create_group(self, account_id: UUID, name: str, description: str | None) -> Group:
        group = Group(account_id=account_id, create_time=_now(), description=description, group_id=uuid.uuid4(), group_name=name)
        await self.registry.groups.create(group.group_id, group, group.create_time, name=f"{account_id}:{name}")
        return group

    async def group(self, group_id: UUID, accounts: set[UUID] | None) -> Group:
        group = await self.registry.groups.get(group_id)
        if group is None or (accounts is not None and group.account_id not in accounts):
            raise SeleneError(OBJECT_NOT_FOUND, f"group with id {group_id}")
        return group

    async def streams_of_group(self, group: Group) -> list[StreamRecord]:
        return [r for r in await self.registry.streams.all() if group.group_id in r.stream.groups]

    async def delete_group(self, group: Group, with_streams: bool) -> None:
        streams = await self.streams_of_group(group)

        def leave(r: StreamRecord) -> None:
            r.stream.groups = [g for g in r.stream.groups if g != group.group_id]

        await self.registry.groups.delete(group.group_id, name=f"{group.account_id}:{group.group_name}")
        for record in streams:
            if with_streams:
                await self.delete_stream(record.stream.stream_id, {group.account_id})
            else:
                change = await self.registry.streams.update(record.stream.stream_id, leave, missing_ok=True)
                await self._after(change)

    async def patch_group_streams(self, group: Group, action: str) -> None:
        """Apply the action to every stream of the group it can change; 44015 when none."""
        changed = [await self._apply_action(r.stream.stream_id, action) for r in await self.streams_of_group(group)]
        if not any(changed):
            raise SeleneError(NO_STREAMS_TO_PATCH)

    # -- analytics ---------------------------------------------------------------------------------
    async def create_analytic(self, account_id: UUID, body: AnalyticCreate) -> Analytic:
        check_schema(body.validation_schema)
        now = _now()
        analytic = Analytic(account_id=account_id, analytic_id=uuid.uuid4(), create_time=now, last_update_time=now, **body.model_dump())
        validate_parameters(analytic, {}, "default_parameters")  # the defaults must pass the analytic's own schema
        await self.registry.analytics.create(
            analytic.analytic_id, analytic, now, name=f"{account_id}:{analytic.analytic_name}"
        )
        return analytic

    async def analytic(self, analytic_id: UUID, accounts: set[UUID] | None) -> Analytic:
        analytic = await self.registry.analytics.get(analytic_id)
        visible = analytic is not None and (
            analytic.account_id is None or accounts is None or analytic.account_id in accounts
        )
        if not visible:
            raise SeleneError(OBJECT_NOT_FOUND, f"analytic with id {analytic_id}")
        assert analytic is not None
        return analytic

    async def own_analytic(self, analytic_id: UUID, account_id: UUID) -> Analytic:
        """An analytic the account may change: its own, never a built-in."""
        analytic = await self.registry.analytics.get(analytic_id)
        if analytic is None or analytic.account_id != account_id:
            raise SeleneError(OBJECT_NOT_FOUND, f"analytic with id {analytic_id}")
        return analytic
