"""Task state in Redis: tasks, subtasks, task errors and schedules, one JSON value each (infra's
Collection), integer ids from counters (LUNA's ids are integers), and per task the sets of its subtask
indexes done and failed.

Progress is the size of the done set: a subtask redone after a crash adds the same index again, so it is
counted once, and ``count_task_parts_done`` never passes ``count_task_parts_all``.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import redis.asyncio as aioredis

from infra.redis_collection import Collection
from infra.redis_store import Store
from schemas.errors import ErrorCode
from schemas.tasks import Schedule, Subtask, Task, TaskError, TaskStatus


def now() -> datetime:
    return datetime.now(UTC)


def ended(status: TaskStatus) -> Callable[[Task], None]:
    """A task update that finishes the task with ``status``; a task that has ended already (a cancel that
    came first, or a worker that finished first) keeps how it ended. Updates are transactional, so this
    check sees the stored state."""

    def mutate(task: Task) -> None:
        if not task.task_status.finished:
            task.task_status, task.end_time = status, now()

    return mutate


class TaskStore:
    def __init__(self, client: aioredis.Redis, prefix: str = "selene:vm") -> None:
        self.store = Store(client, prefix)
        self.redis = client
        self.tasks = Collection(self.store, "task", Task, "task")
        self.subtasks = Collection(self.store, "subtask", Subtask, "subtask")
        self.errors = Collection(self.store, "task-error", TaskError, "task error")
        self.schedules = Collection(self.store, "schedule", Schedule, "schedule")
        self._first_subtask = self.store.key("task-first-subtask")

    async def next_id(self, kind: str, count: int = 1) -> int:
        """The last of ``count`` new consecutive ids of ``kind`` (they start at 1)."""
        return int(await self.redis.incrby(self.store.key(f"{kind}-ids"), count))

    # ---- tasks and subtasks ----
    async def add_task(self, task: Task, subtasks: list[Subtask]) -> None:
        for subtask in subtasks:
            await self.subtasks.create(subtask.subtask_id, subtask, subtask.create_time)
        if subtasks:
            await self.redis.hset(self._first_subtask, str(task.task_id), str(subtasks[0].subtask_id))
        await self.tasks.create(task.task_id, task, task.create_time)

    async def task(self, task_id: int) -> Task | None:
        found = await self.tasks.get(task_id)
        return None if found is None else await self._with_progress(found)

    async def all_tasks(self) -> list[Task]:
        return [await self._with_progress(t) for t in await self.tasks.all()]

    async def _with_progress(self, task: Task) -> Task:
        task.count_task_parts_done = int(await self.redis.scard(self._done(task.task_id)))
        return task

    async def update_task(self, task_id: int, mutate: Callable[[Task], None]) -> Task:
        def stamped(task: Task) -> None:
            mutate(task)
            task.last_update_time = now()

        return await self.tasks.update(task_id, stamped)

    async def subtasks_of(self, task_id: int) -> list[Subtask]:
        task = await self.tasks.get(task_id)
        first = await self.redis.hget(self._first_subtask, str(task_id))
        if task is None or first is None:
            return []
        start = int(first)
        ids = range(start, start + task.count_task_parts_all)
        return await self.store.get_many([self.subtasks.key(i) for i in ids], Subtask)

    async def set_subtask_status(self, subtask_id: int, status: TaskStatus, result_id: str | None = None) -> None:
        def mutate(subtask: Subtask) -> None:
            subtask.subtask_status, subtask.last_update_time = status, now()
            if status.finished:
                subtask.end_time = subtask.last_update_time
            if result_id is not None:
                subtask.result_id = result_id

        await self.subtasks.update(subtask_id, mutate)

    async def mark_part(self, task_id: int, index: int, failed: bool) -> tuple[int, int]:
        """Record a subtask's end (idempotent); returns how many parts are done and failed."""
        await self.redis.sadd(self._failed(task_id) if failed else self._done(task_id), index)
        if not failed:
            await self.redis.srem(self._failed(task_id), index)
        return await self.mark_counts(task_id)

    async def mark_counts(self, task_id: int) -> tuple[int, int]:
        async with self.redis.pipeline(transaction=True) as pipe:
            done, failures = await pipe.scard(self._done(task_id)).scard(self._failed(task_id)).execute()
        return int(done), int(failures)

    async def part_done(self, task_id: int, index: int) -> bool:
        return bool(await self.redis.sismember(self._done(task_id), index))

    async def delete_task(self, task_id: int) -> None:
        for subtask in await self.subtasks_of(task_id):
            await self.subtasks.delete(subtask.subtask_id)
        for error in await self.errors_of(task_id):
            await self.errors.delete(error.error_id)
        await self.redis.delete(self._done(task_id), self._failed(task_id))
        await self.redis.hdel(self._first_subtask, str(task_id))
        await self.tasks.delete(task_id)

    def _done(self, task_id: int) -> str:
        return self.store.key("task-done", task_id)

    def _failed(self, task_id: int) -> str:
        return self.store.key("task-failed", task_id)

    # ---- errors ----
    async def add_error(
        self, task: Task, subtask_id: int | None, error: ErrorCode, detail: str, additional_info: str | None = None
    ) -> TaskError:
        record = TaskError(
            error_id=await self.next_id("task-error"), task_id=task.task_id, subtask_id=subtask_id,
            error_code=error.code, description=error.desc, detail=detail, additional_info=additional_info,
            error_time=now(), status_code=error.http_status, task_type=task.task_type,
        )
        await self.errors.create(record.error_id, record, record.error_time)
        return record

    async def errors_of(self, task_id: int) -> list[TaskError]:
        return [e for e in await self.errors.all() if e.task_id == task_id]
