"""Task schedules: cron triggers (croniter) that create tasks, and the loop that fires them.

Every API instance runs the loop; a fire time is claimed in Redis (SET NX on schedule id + time) before
the task is created, so with several instances each fire creates one task. As in LUNA, a schedule whose
previous task is still running skips that fire, and "now"-relative filters are the content's own: each
fire creates its task from the stored content at that moment.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime, tzinfo
from uuid import UUID

from croniter import croniter

from analytics.tasks.service import Tasks
from analytics.tasks.store import TaskStore, now
from schemas.errors import JSON_PATH_INVALID, SCHEDULE_NOT_FOUND, SeleneError
from schemas.tasks import Schedule, ScheduleCreate, ScheduleTrigger

log = logging.getLogger(__name__)
CLAIM_SECONDS = 24 * 3600


def _zone(trigger: ScheduleTrigger) -> tzinfo:
    local = datetime.now().astimezone().tzinfo
    return now().tzinfo if trigger.cron_timezone == "utc" or local is None else local  # type: ignore[return-value]


def next_run(trigger: ScheduleTrigger, after: datetime) -> datetime:
    """The first fire time strictly after ``after``, in UTC."""
    return croniter(trigger.cron, after.astimezone(_zone(trigger))).get_next(datetime).astimezone(now().tzinfo)


def check_cron(trigger: ScheduleTrigger) -> None:
    """LUNA's five fields; a sixth, seconds (croniter's convention), is Selene's extension for short periods."""
    if len(trigger.cron.split()) not in (5, 6) or not croniter.is_valid(trigger.cron):
        raise SeleneError(JSON_PATH_INVALID, "trigger.cron", f"{trigger.cron!r} is not a cron expression of five fields")


class Schedules:
    def __init__(self, tasks: Tasks) -> None:
        self.tasks = tasks
        self.store: TaskStore = tasks.store

    async def create(self, account_id: UUID, body: ScheduleCreate) -> Schedule:
        check_cron(body.trigger)
        created = now()
        schedule = Schedule(
            schedule_id=await self.store.next_id("schedule"), account_id=account_id, task=body.task,
            trigger=body.trigger, behaviour=body.behaviour, status="stopped" if body.behaviour.create_stopped else "running",
            next_run_time=None if body.behaviour.create_stopped else next_run(body.trigger, created),
            create_time=created, last_update_time=created,
        )
        await self.store.schedules.create(schedule.schedule_id, schedule, created)
        if body.behaviour.start_immediately:
            await self.fire(schedule)
        return schedule

    async def visible(self, schedule_id: int, accounts: set[UUID]) -> Schedule:
        found = await self.store.schedules.get(schedule_id)
        if found is None or found.account_id not in accounts:
            raise SeleneError(SCHEDULE_NOT_FOUND, schedule_id)
        return found

    async def replace(self, schedule: Schedule, body: ScheduleCreate) -> None:
        """New task, trigger and behaviour; the running tasks of the old schedule are cancelled."""
        check_cron(body.trigger)
        for task_id in schedule.task_ids:
            task = await self.store.task(task_id)
            if task is not None and not task.task_status.finished:
                await self.tasks.cancel(task)

        def mutate(current: Schedule) -> None:
            current.task, current.trigger, current.behaviour = body.task, body.trigger, body.behaviour
            current.status = "stopped" if body.behaviour.create_stopped else "running"
            current.next_run_time = None if body.behaviour.create_stopped else next_run(body.trigger, now())
            current.last_update_time = now()

        await self.store.schedules.update(schedule.schedule_id, mutate)

    async def set_running(self, schedule: Schedule, running: bool) -> None:
        def mutate(current: Schedule) -> None:
            current.status = "running" if running else "stopped"
            current.next_run_time = next_run(current.trigger, now()) if running else None
            current.last_update_time = now()

        await self.store.schedules.update(schedule.schedule_id, mutate)

    async def delete(self, schedule: Schedule) -> None:
        await self.store.schedules.delete(schedule.schedule_id)

    async def fire(self, schedule: Schedule) -> int | None:
        """Create the schedule's task, unless its previous one is still running; the new task id."""
        if schedule.task_ids:
            previous = await self.store.task(schedule.task_ids[-1])
            if previous is not None and not previous.task_status.finished:
                log.info("schedule skipped: its previous task runs", extra={"schedule_id": schedule.schedule_id})
                return None
        spec = schedule.task
        try:
            task = await self.tasks.create(schedule.account_id, spec.task_type, spec.content, spec.description,
                                           schedule.schedule_id)
        except SeleneError as exc:
            log.warning("schedule could not create its task", extra={"schedule_id": schedule.schedule_id, "error": str(exc)})
            return None
        await self.store.schedules.update(schedule.schedule_id, lambda s: s.task_ids.append(task.task_id))
        return task.task_id

    async def due(self) -> list[int]:
        """Fire every running schedule whose time has come; the tasks created."""
        created = []
        moment = now()
        for schedule in await self.store.schedules.all():
            if schedule.status != "running" or schedule.next_run_time is None or schedule.next_run_time > moment:
                continue
            claim = self.store.store.key("schedule-fire", schedule.schedule_id, int(schedule.next_run_time.timestamp()))
            if not await self.store.redis.set(claim, "1", nx=True, ex=CLAIM_SECONDS):
                continue  # another instance fired it
            following = next_run(schedule.trigger, moment)

            def advance(current: Schedule, following: datetime = following) -> None:
                current.next_run_time = following

            await self.store.schedules.update(schedule.schedule_id, advance)
            task_id = await self.fire(schedule)
            if task_id is not None:
                created.append(task_id)
        return created


class ScheduleTriggerLoop:
    """Checks the schedules every ``interval`` seconds until stopped; a failing check is logged and retried."""

    def __init__(self, schedules: Schedules, interval: float) -> None:
        self.schedules, self.interval = schedules, interval
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="schedule-trigger")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.schedules.due()
            except Exception as exc:  # noqa: BLE001 - Redis away: try again on the next tick
                log.warning("schedule check failed", extra={"error": str(exc)[:300]})
            await asyncio.sleep(self.interval)
