"""The manager's side of Kafka: stream configs and commands out, agents' messages in."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from uuid import UUID

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from pydantic import BaseModel, ValidationError

from schemas.agents import AgentMessage
from schemas.commands import StreamCommand
from schemas.errors import MESSAGE_INVALID
from schemas.streams import StreamConfig
from schemas.topics import AGENT_FEEDBACK, DEAD_LETTER, STREAM_COMMANDS, STREAM_CONFIGS
from infra.dead_letter import dead_letter_for
from infra.kafka import consumer_options, wait_for_positions
from infra.producer import Producer
from infra.rewind import RewindWatch

log = logging.getLogger(__name__)


class Bus(Producer):
    async def _send(self, topic: str, key: str, value: BaseModel | None) -> None:
        await self.send(topic, key, None if value is None else value.model_dump_json().encode())

    async def command(self, command: StreamCommand) -> None:
        await self._send(STREAM_COMMANDS.name, str(command.agent_id), command)

    async def commands(self, commands: list[StreamCommand]) -> None:
        """Many commands, handed over together and acknowledged in one wait."""
        await self.send_all(STREAM_COMMANDS.name, [(str(c.agent_id), c.model_dump_json().encode()) for c in commands])

    async def config(self, config: StreamConfig) -> None:
        await self._send(STREAM_CONFIGS.name, str(config.stream_id), config)

    async def deleted(self, config: StreamConfig) -> None:
        """The deleted marker, then the tombstone that lets compaction forget the stream."""
        await self.config(config.model_copy(update={"deleted": True}))
        await self.tombstone(config.stream_id)

    async def tombstone(self, stream_id: UUID) -> None:
        await self._send(STREAM_CONFIGS.name, str(stream_id), None)

    async def dead_letter(self, record: ConsumerRecord, reason: str) -> None:
        letter = dead_letter_for(record, MESSAGE_INVALID, reason, "video-manager")
        await self._send(DEAD_LETTER.name, record.topic, letter)


async def consume_agent_messages(
    bootstrap: str, bus: Bus, handle: Callable[[AgentMessage], Awaitable[None]], started: Callable[[], None]
) -> None:
    """Read every partition of the feedback topic from its end, without a consumer group: each manager
    instance sees all messages and only the leader acts, so a dead instance strands no partition. A
    partition whose log went back (the broker restarted empty) is read again from its new beginning."""
    consumer = AIOKafkaConsumer(
        AGENT_FEEDBACK.name, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="latest", **consumer_options()
    )
    await consumer.start()
    try:
        await wait_for_positions(consumer)
        started()
        rewinds = RewindWatch(consumer, "manager-feedback")
        while True:
            for records in (await consumer.getmany(timeout_ms=int(rewinds.every * 1000))).values():
                for record in records:
                    await _agent_message(bus, handle, record)
            await rewinds.check()
    finally:
        await consumer.stop()


async def _agent_message(bus: Bus, handle: Callable[[AgentMessage], Awaitable[None]], record: ConsumerRecord) -> None:
    try:
        message = AgentMessage.model_validate_json(record.value or b"")
    except ValidationError as exc:
        log.warning("invalid agent message", extra={"offset": record.offset, "error": str(exc)[:500]})
        await bus.dead_letter(record, f"{MESSAGE_INVALID.detail}: {exc}")
        return
    try:
        await handle(message)
    except Exception:  # noqa: BLE001 - one bad message must not stop the manager
        log.exception("agent message failed", extra={"agent_id": str(message.agent_id)})
