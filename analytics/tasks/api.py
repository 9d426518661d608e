"""The tasks service as a process holds it: tasks and schedules over one task store, the subtask
publisher, the schedule trigger loop, and (where this process may open the face store) a task worker."""

from __future__ import annotations

from dataclasses import dataclass

from analytics.tasks.publisher import SubtaskPublisher
from analytics.tasks.resources import Resources
from analytics.tasks.schedules import Schedules, ScheduleTriggerLoop
from analytics.tasks.service import Tasks


@dataclass
class TaskServices:
    tasks: Tasks
    schedules: Schedules
    publisher: SubtaskPublisher
    trigger: ScheduleTriggerLoop

    @classmethod
    def build(cls, res: Resources, bootstrap: str) -> TaskServices:
        publisher = SubtaskPublisher(bootstrap)
        tasks = Tasks(res, publisher)
        schedules = Schedules(tasks)
        return cls(tasks, schedules, publisher, ScheduleTriggerLoop(schedules, res.settings.schedule_interval))

    async def start(self) -> None:
        await self.tasks.start()
        await self.publisher.start()
        await self.trigger.start()

    async def stop(self) -> None:
        await self.trigger.stop()
        await self.publisher.stop()
