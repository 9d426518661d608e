"""The agent side of the control plane (schemas/agents.py, schemas/commands.py) over Kafka.

The agent picks its own ``agent_id``, registers on ``selene.agent-feedback`` until the manager answers
``registered`` on ``selene.stream-commands``, then heartbeats every ``refresh_period`` with a report per
stream, and at once when a stream's status or error changes. ``start``/``stop`` commands for a stream
version older than one already seen are stale and ignored.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import uuid
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.structs import TopicPartition
from pydantic import ValidationError

from infra.claimcheck import ClaimCheck
from agents.video_agent.publisher import FramePublisher
from agents.video_agent.runner import StreamRunner
from infra.logs import for_stream
from infra.settings import AgentSettings
from schemas.agents import AgentAnnouncement, AgentMessage
from schemas.commands import StreamCommand
from schemas.streams import StreamConfig
from schemas.topics import AGENT_FEEDBACK, STREAM_COMMANDS
from infra.kafka import consumer_options
from infra.rewind import RewindWatch

log = logging.getLogger(__name__)
_FINAL_REPORTS = 3  # feedback travels through Kafka (at least once); repeats cover a manager restart


class VideoAgent:
    def __init__(
        self,
        settings: AgentSettings,
        bootstrap: str,
        publisher: FramePublisher,
        claims: ClaimCheck | None = None,
        agent_id: UUID | None = None,
    ) -> None:
        self.settings = settings
        self.bootstrap = bootstrap
        self.publisher = publisher
        self.claims = claims
        self.agent_id = agent_id or uuid.uuid4()
        self.name = settings.name or socket.gethostname()
        self.refresh_period = settings.register_retry
        self.alive_period: float | None = None
        self.registered = asyncio.Event()
        self.runners: dict[UUID, StreamRunner] = {}
        self._versions: dict[UUID, int] = {}  # the newest version seen per stream, to spot stale commands
        self._final_reports: dict[UUID, int] = {}  # heartbeats sent since a stream finished
        self._changed = asyncio.Event()
        self._producer: AIOKafkaProducer | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    async def run(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set, then stop every stream and say goodbye."""
        self._loop = asyncio.get_running_loop()
        consumer = await self._subscribe()
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=False)
        await self._producer.start()
        tasks = [asyncio.create_task(self._listen(consumer)), asyncio.create_task(self._report_loop())]
        try:
            await stop.wait()
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await asyncio.gather(*(r.stop() for r in self.runners.values()))
            with contextlib.suppress(Exception):
                await self._send("deregister")
            await self._producer.stop()
            await consumer.stop()

    def notify(self) -> None:
        """Thread-safe: a stream's status or error changed, report now."""
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed during shutdown
                self._loop.call_soon_threadsafe(self._changed.set)

    async def _subscribe(self) -> AIOKafkaConsumer:
        # No consumer group: every agent reads every partition and keeps the commands keyed by its id.
        # Positions are fixed before registering, so the manager's answer cannot slip past unread.
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=None, enable_auto_commit=False, **consumer_options()
        )
        await consumer.start()
        partitions = consumer.partitions_for_topic(STREAM_COMMANDS.name) or set()
        if not partitions:
            await consumer._client.force_metadata_update()  # noqa: SLF001 - aiokafka has no public refresh
            partitions = consumer.partitions_for_topic(STREAM_COMMANDS.name) or {0}
        assigned = [TopicPartition(STREAM_COMMANDS.name, p) for p in sorted(partitions)]
        consumer.assign(assigned)
        await consumer.seek_to_end(*assigned)
        for tp in assigned:
            await consumer.position(tp)
        return consumer

    async def _listen(self, consumer: AIOKafkaConsumer) -> None:
        # A broker restarted empty starts the commands log again at 0: read it from there (RewindWatch).
        rewinds = RewindWatch(consumer, "agent-commands")
        while True:
            for records in (await consumer.getmany(timeout_ms=int(rewinds.every * 1000))).values():
                for record in records:
                    await self._command(record.key, record.value)
            await rewinds.check()

    async def _command(self, key: bytes | None, value: bytes | None) -> None:
        if key is not None and key != str(self.agent_id).encode():
            return
        try:
            command = StreamCommand.model_validate_json(value or b"")
        except ValidationError as exc:
            log.warning("invalid stream command ignored", extra={"error": str(exc)[:500]})
            return
        if command.agent_id != self.agent_id:
            return
        try:
            await self._handle(command)
        except Exception:  # noqa: BLE001 - one bad command must not stop the agent listening
            log.exception("stream command failed", extra={"command_id": str(command.command_id)})

    async def _handle(self, command: StreamCommand) -> None:
        if command.action == "registered":
            assert command.refresh_period is not None
            self.refresh_period, self.alive_period = command.refresh_period, command.alive_period
            if not self.registered.is_set():
                log.info("registered", extra={"agent_id": str(self.agent_id), "refresh_period": self.refresh_period})
            self.registered.set()
            self._changed.set()
            return
        assert command.stream_id is not None and command.version is not None
        stream_log = for_stream(log, command.stream_id, version=command.version)
        newest = self._versions.get(command.stream_id, 0)
        if command.version < newest:
            stream_log.info("stale command ignored", extra={"action": command.action, "newest_version": newest})
            return
        self._versions[command.stream_id] = command.version
        current = self.runners.get(command.stream_id)
        if command.action == "stop":
            if current is not None:
                del self.runners[command.stream_id]
                self._final_reports.pop(command.stream_id, None)
                await current.stop()
                self._changed.set()
            return
        assert command.config is not None
        if current is not None and current.version == command.version and current.active:
            return  # a repeated start of what is already running
        if current is not None:
            del self.runners[command.stream_id]
            self._final_reports.pop(command.stream_id, None)
            await current.stop()
        if sum(r.active for r in self.runners.values()) >= self.settings.max_stream_count:
            stream_log.warning("start refused: max_stream_count streams already running")
            return
        self.start_stream(command.config)

    def start_stream(self, config: StreamConfig) -> StreamRunner:
        runner = StreamRunner(config, self.publisher, self.settings, self.notify, self.claims)
        self.runners[config.stream_id] = runner
        runner.start()
        self._changed.set()
        return runner

    async def _report_loop(self) -> None:
        while True:
            self._changed.clear()
            try:
                await self._send("heartbeat" if self.registered.is_set() else "register")
                if self.registered.is_set():
                    self._forget_finished()
            except Exception as exc:  # noqa: BLE001 - the broker may be away; try again next period
                log.warning("feedback not sent", extra={"error": str(exc)})
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), self.refresh_period)

    def _forget_finished(self) -> None:
        """A finished stream (done, failure) is reported in a few heartbeats, then dropped."""
        for stream_id, runner in list(self.runners.items()):
            if runner.active:
                continue
            self._final_reports[stream_id] = sent = self._final_reports.get(stream_id, 0) + 1
            if sent >= _FINAL_REPORTS:
                del self.runners[stream_id], self._final_reports[stream_id]

    async def _send(self, kind: Literal["register", "heartbeat", "deregister"]) -> None:
        assert self._producer is not None
        message = AgentMessage(
            agent_id=self.agent_id,
            kind=kind,
            registration=AgentAnnouncement(
                name=self.name,
                max_stream_count=self.settings.max_stream_count,
                analytic_names=self.settings.analytic_names,
            )
            if kind == "register"
            else None,
            streams=[r.state.report() for r in self.runners.values()] if kind == "heartbeat" else [],
            sent_at=datetime.now(UTC),
        )
        await self._producer.send_and_wait(
            AGENT_FEEDBACK.name, message.model_dump_json().encode(), key=str(self.agent_id).encode()
        )
