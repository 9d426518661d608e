"""Subtasks onto the tasks topic, each keyed by its subtask id so that they spread over the partitions
and so over the task workers of the consumer group."""

from __future__ import annotations

from infra.producer import Producer
from schemas.tasks import SubtaskMessage
from schemas.topics import TASKS


class SubtaskPublisher(Producer):
    async def publish(self, messages: list[SubtaskMessage]) -> None:
        await self.send_all(TASKS.name, ((str(m.subtask_id), m.model_dump_json().encode()) for m in messages))
