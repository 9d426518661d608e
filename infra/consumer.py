"""The shape of the Kafka services embedded beside the stores (the sink, the watch-list matcher): a consumer
group with manual commits, a producer for what they emit, and a drain task, with explicit start/wait/stop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord

from infra.dead_letter import dead_letter_for
from infra.kafka import consumer_options
from schemas.errors import ErrorCode
from schemas.topics import DEAD_LETTER

log = logging.getLogger(__name__)


class ConsumerService:
    name = "consumer"

    def __init__(self, bootstrap: str, group_id: str, topics: list[str], **consumer: Any) -> None:
        self.bootstrap, self.group_id, self.topics = bootstrap, group_id, topics
        self._consumer_args = consumer
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Join the group and start draining; raises if the broker cannot be reached."""
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap)
        self._consumer = AIOKafkaConsumer(
            *self.topics, bootstrap_servers=self.bootstrap, group_id=self.group_id, enable_auto_commit=False,
            auto_offset_reset="earliest", **self._consumer_args, **consumer_options(),
        )
        try:
            await self._producer.start()
            await self._consumer.start()
        except BaseException:
            await self._close()
            raise
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def stop(self) -> None:
        """Stop without committing what is not done: it is redelivered, and results are idempotent."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._close()

    async def wait(self) -> None:
        """Until the drain loop ends: only by stop() or a crash (which it raises)."""
        if self._task is not None:
            await self._task

    async def _close(self) -> None:
        for client in (self._consumer, self._producer):
            if client is not None:
                await client.stop()
        self._consumer = self._producer = None

    async def dead_letter(self, record: ConsumerRecord, error: ErrorCode, reason: str) -> None:
        assert self._producer is not None
        letter = dead_letter_for(record, error, reason, self.name)
        log.warning("record sent to dead letter", extra={"topic": record.topic, "offset": record.offset, "reason": reason})
        await self._producer.send_and_wait(DEAD_LETTER.name, letter.model_dump_json().encode(), key=record.topic.encode())

    async def _run(self) -> None:
        raise NotImplementedError
