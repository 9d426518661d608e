"""The task worker: a consumer group over the tasks topic (infra's consumer loop), one subtask at a time.

Before a subtask it reads the task's status: a cancelled or deleted task's subtasks are skipped. A
subtask's part is stored and its index marked done before its offset is committed, so a worker killed
mid-subtask leaves it to be redone (on restart, or by the member that takes its partition over). The
worker that marks the last part merges the parts into the result; merging twice writes the same object.
A subtask that fails for good (LUNA's error codes) becomes a task error, and the task fails.
"""

from __future__ import annotations

import logging

from analytics.tasks.kinds import KINDS
from analytics.tasks.resources import Resources
from analytics.tasks.results import Results
from analytics.tasks.store import ended
from infra.consumer import ConsumerService, Received
from schemas.errors import SeleneError
from schemas.tasks import SubtaskMessage, Task, TaskStatus
from schemas.topics import TASKS

log = logging.getLogger(__name__)


def task_worker_group(app_id: str) -> str:
    return f"{app_id}-tasks"


class TaskWorker(ConsumerService):
    name = "tasks-worker"

    def __init__(self, bootstrap: str, group_id: str, res: Resources) -> None:
        super().__init__(bootstrap, group_id, {TASKS.name: SubtaskMessage}, res.settings)
        self.res = res
        self.store = res.store
        self.results = Results(res.storage)

    async def handle(self, topic: str, received: list[Received]) -> None:
        for _, message in received:
            assert isinstance(message, SubtaskMessage)
            await self.run_subtask(message)

    async def run_subtask(self, message: SubtaskMessage) -> None:
        if message.namespace != self.store.store.prefix:
            return  # another deployment's subtask on a shared broker
        task = await self.store.task(message.task_id)
        if task is None:
            return  # deleted
        if task.task_status.finished:
            if task.task_status == TaskStatus.cancelled:
                await self.store.set_subtask_status(message.subtask_id, TaskStatus.cancelled)
            return
        if await self.store.part_done(task.task_id, message.index):
            # Redelivered: the crash came after the part was counted, maybe before its status was written.
            await self.store.set_subtask_status(message.subtask_id, TaskStatus.done)
            await self._finish_if_complete(task)
            return
        if task.task_status == TaskStatus.pending:
            task = await self.store.update_task(task.task_id, _in_progress)
        await self.store.set_subtask_status(message.subtask_id, TaskStatus.in_progress)
        subtask = await self.store.subtasks.get(message.subtask_id)
        kind = KINDS[task.task_type]
        failed = False
        try:
            part = await kind.run(self.res, task, kind.content(task), message.index, subtask.content if subtask else {})
        except SeleneError as exc:
            failed = True
            await self.store.add_error(task, message.subtask_id, exc.error, exc.body.detail)
            log.warning("subtask failed", extra={"task_id": task.task_id, "index": message.index, "error": str(exc)})
        else:
            await self.results.put_part(task, message.index, "part", part)
        # The part is counted before its status shows it ended, so a subtask shown done is always in the task's
        # progress; a crash in between is healed by the redelivery below.
        await self.store.mark_part(task.task_id, message.index, failed)
        await self.store.set_subtask_status(message.subtask_id, TaskStatus.failed if failed else TaskStatus.done)
        await self._finish_if_complete(task)

    async def _finish_if_complete(self, task: Task) -> None:
        done, failures = await self.store.mark_counts(task.task_id)
        if done + failures < task.count_task_parts_all:
            return
        current = await self.store.task(task.task_id)
        if current is None or current.task_status.finished:
            return
        if failures:
            await self.store.update_task(task.task_id, ended(TaskStatus.failed))
            return
        collecting = await self.store.update_task(task.task_id, _collecting)
        if collecting.task_status != TaskStatus.collect_results:
            return  # cancelled meanwhile
        kind = KINDS[task.task_type]
        parts = [await self.results.part(task, i, "part") for i in range(task.count_task_parts_all)]
        try:
            result = await kind.merge(self.res, task, kind.content(task), parts)
        except SeleneError as exc:
            await self.store.add_error(task, None, exc.error, exc.body.detail)
            await self.store.update_task(task.task_id, ended(TaskStatus.failed))
            return
        result_id = None if result is None else await self.results.put_result(task, result)

        def done_with(t: Task) -> None:
            ended(TaskStatus.done)(t)
            if t.task_status == TaskStatus.done:  # not cancelled while the result was merged
                t.result_id, t.count_task_parts_done = result_id, done

        await self.store.update_task(task.task_id, done_with)
        log.info("task done", extra={"task_id": task.task_id, "task_type": task.task_type.name})


def _in_progress(task: Task) -> None:
    if task.task_status == TaskStatus.pending:  # never over a cancel that landed since the task was read
        task.task_status = TaskStatus.in_progress


def _collecting(task: Task) -> None:
    if not task.task_status.finished:
        task.task_status = TaskStatus.collect_results
