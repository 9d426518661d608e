"""LUNA's ``task schedules`` tag: cron schedules that create tasks; PATCH ``action`` starts or pauses."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response

from analytics.tasks.api import TaskServices
from analytics.tasks.routes.deps import Caller, Services
from infra.auth.authenticator import Principal
from infra.http.deps import Page, page_of
from schemas.tasks import Schedule, ScheduleCreate, ScheduleCreated, TaskType

router = APIRouter(tags=["tasks"])
PageSize = Query(10, ge=1, le=1000, description="Schedules per page.")
ScheduleId = Path(ge=1, le=2**63 - 1, description="Schedule ID.")


@router.post("/tasks/schedules", status_code=201, response_model=ScheduleCreated, summary="Create a task schedule")
async def create_schedule(body: ScheduleCreate, caller: Principal = Caller,
                          services: TaskServices = Services) -> ScheduleCreated:
    schedule = await services.schedules.create(caller.account_id, body)
    return ScheduleCreated(schedule_id=schedule.schedule_id)


class ScheduleQuery:
    def __init__(
        self,
        account_id: UUID | None = None,
        task_type: TaskType | None = None,
        create_time__lt: datetime | None = None,
        create_time__gte: datetime | None = None,
    ) -> None:
        self.account_id, self.task_type = account_id, task_type
        self.create_time__lt, self.create_time__gte = create_time__lt, create_time__gte

    def matches(self, schedule: Schedule) -> bool:
        return (
            (self.task_type is None or schedule.task.task_type == self.task_type)
            and (self.create_time__lt is None or schedule.create_time < self.create_time__lt)
            and (self.create_time__gte is None or schedule.create_time >= self.create_time__gte)
        )


@router.get("/tasks/schedules", response_model=list[Schedule], summary="Task schedules matching the filters")
async def get_schedules(query: ScheduleQuery = Depends(), page: int = Page, page_size: int = PageSize,
                        caller: Principal = Caller, services: TaskServices = Services) -> list[Schedule]:
    accounts = caller.readable(query.account_id)
    found = [s for s in await services.schedules.store.schedules.all() if s.account_id in accounts and query.matches(s)]
    return page_of(sorted(found, key=lambda s: s.schedule_id), page, page_size)


@router.get("/tasks/schedules/{schedule_id}", response_model=Schedule, summary="A task schedule")
async def get_schedule(schedule_id: int = ScheduleId, account_id: UUID | None = None, caller: Principal = Caller,
                       services: TaskServices = Services) -> Schedule:
    return await services.schedules.visible(schedule_id, caller.readable(account_id))


@router.put("/tasks/schedules/{schedule_id}", response_model=ScheduleCreated,
            summary="Replace a task schedule (its running tasks are cancelled)")
async def replace_schedule(body: ScheduleCreate, schedule_id: int = ScheduleId, caller: Principal = Caller,
                           services: TaskServices = Services) -> ScheduleCreated:
    await services.schedules.replace(await services.schedules.visible(schedule_id, caller.writable), body)
    return ScheduleCreated(schedule_id=schedule_id)


@router.patch("/tasks/schedules/{schedule_id}", status_code=204,
              summary="Start or pause a task schedule (action=start|pause; stop is pause)")
async def patch_schedule(action: Literal["start", "pause", "stop"] = Query(), schedule_id: int = ScheduleId,
                         caller: Principal = Caller, services: TaskServices = Services) -> Response:
    schedule = await services.schedules.visible(schedule_id, caller.writable)
    await services.schedules.set_running(schedule, action == "start")
    return Response(status_code=204)


@router.delete("/tasks/schedules/{schedule_id}", status_code=204, summary="Delete a task schedule")
async def delete_schedule(schedule_id: int = ScheduleId, caller: Principal = Caller,
                          services: TaskServices = Services) -> Response:
    await services.schedules.delete(await services.schedules.visible(schedule_id, caller.writable))
    return Response(status_code=204)
