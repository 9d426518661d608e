"""Subtasks onto the tasks topic, each keyed by its subtask id so that they spread over the partitions
and so over the task workers of the consumer group."""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from schemas.tasks import SubtaskMessage
from schemas.topics import TASKS


class SubtaskPublisher:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all")
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish(self, messages: list[SubtaskMessage]) -> None:
        if self._producer is None:
            raise RuntimeError("SubtaskPublisher used before start")
        sent = [
            await self._producer.send(TASKS.name, m.model_dump_json().encode(), key=str(m.subtask_id).encode())
            for m in messages
        ]
        for delivery in sent:
            await delivery
