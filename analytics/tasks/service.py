"""Creating, reading, cancelling and deleting tasks: what the API does with them. A task is planned into
subtasks here (its kind's ``plan``), stored, and its subtasks published for the workers."""

from __future__ import annotations

import logging
from typing import Any
from uuid import UUID

from analytics.tasks.kinds import KINDS
from analytics.tasks.publisher import SubtaskPublisher
from analytics.tasks.resources import Resources
from analytics.tasks.results import Result, Results
from analytics.tasks.store import ended, now
from schemas.base import Body
from schemas.errors import (
    SUBTASKS_NOT_SENT,
    TASK_NO_RESULT_YET,
    TASK_NOT_CANCELLABLE,
    TASK_NOT_FOUND,
    TASK_RESULT_NOT_FOUND,
    TASK_RESULT_UNAVAILABLE,
    SeleneError,
)
from schemas.tasks import Subtask, SubtaskMessage, Task, TaskStatus, TaskType

log = logging.getLogger(__name__)


class Tasks:
    def __init__(self, res: Resources, publisher: SubtaskPublisher) -> None:
        self.res = res
        self.store = res.store
        self.results = Results(res.storage)
        self.publisher = publisher

    async def start(self) -> None:
        await self.results.start()

    async def create(
        self, account_id: UUID, task_type: TaskType, content: Body, description: str = "", schedule_id: int | None = None
    ) -> Task:
        parts: list[dict[str, Any]] = await KINDS[task_type].plan(self.res, account_id, content)
        task_id = await self.store.next_id("task")
        last = await self.store.next_id("subtask", len(parts))
        created = now()
        subtasks = [
            Subtask(subtask_id=last - len(parts) + 1 + i, task_id=task_id, index=i, subtask_status=TaskStatus.pending,
                    create_time=created, last_update_time=created, content=part)
            for i, part in enumerate(parts)
        ]
        task = Task(
            task_id=task_id, account_id=account_id, create_time=created, last_update_time=created, task_type=task_type,
            task_status=TaskStatus.pending, count_task_parts_all=len(parts), content=content.model_dump(mode="json"),
            description=description, schedule_id=schedule_id,
        )
        await self.store.add_task(task, subtasks)
        messages = [SubtaskMessage(task_id=task_id, subtask_id=s.subtask_id, index=s.index, task_type=task_type,
                                   namespace=self.store.store.prefix) for s in subtasks]
        try:
            await self.publisher.publish(messages)
        except Exception as exc:  # noqa: BLE001 - the broker is away: the task fails with LUNA's 28000
            await self.store.add_error(task, None, SUBTASKS_NOT_SENT, SUBTASKS_NOT_SENT.body(exc).detail)
            await self.store.update_task(task_id, ended(TaskStatus.failed))
            raise SeleneError(SUBTASKS_NOT_SENT, exc) from exc
        log.info("task created", extra={"task_id": task_id, "task_type": task_type.name, "subtasks": len(parts)})
        return task

    async def visible(self, task_id: int, accounts: set[UUID]) -> Task:
        task = await self.store.task(task_id)
        if task is None or task.account_id not in accounts:
            raise SeleneError(TASK_NOT_FOUND, task_id)
        return task

    async def cancel(self, task: Task) -> None:
        """Workers check the status before each subtask, so the remaining ones are skipped."""

        def mutate(current: Task) -> None:
            if current.task_status.finished:
                raise SeleneError(TASK_NOT_CANCELLABLE, current.task_id, current.task_status.name)
            ended(TaskStatus.cancelled)(current)

        await self.store.update_task(task.task_id, mutate)

    async def delete(self, task: Task) -> None:
        await self.results.delete(task)
        await self.store.delete_task(task.task_id)

    async def result(self, task: Task) -> Result:
        if task.task_status != TaskStatus.done:
            if task.task_status.finished:
                raise SeleneError(TASK_RESULT_UNAVAILABLE, task.task_id, task.task_status.name)
            raise SeleneError(TASK_NO_RESULT_YET, task.task_id)
        found = await self.results.result(task)
        if found is None:
            raise SeleneError(TASK_RESULT_NOT_FOUND, task.task_id)
        return found
