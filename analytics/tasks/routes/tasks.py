"""LUNA's ``task processing`` and ``task info`` tags: create each task type (202 ``{task_id}``), list,
count, read, cancel and delete tasks, their results and subtasks."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query, Response

from analytics.tasks.api import TaskServices
from analytics.tasks.routes.deps import Caller, Services
from infra.auth.authenticator import Principal
from infra.http.deps import Page, page_of, parse_list
from schemas.base import Body
from schemas.estimator_task import EstimatorTaskCreate
from schemas.tasks import (
    ClusteringTaskCreate,
    CrossMatchTaskCreate,
    ExporterTaskCreate,
    GcTaskCreate,
    LinkerTaskCreate,
    ReporterTaskCreate,
    RocTaskCreate,
    SubtasksPage,
    Task,
    TaskCreated,
    TasksCount,
    TasksPage,
    TaskStatus,
    TaskType,
)

router = APIRouter(tags=["tasks"])
PageSize = Query(10, ge=1, le=1000, description="Tasks per page.")
TaskId = Path(ge=1, le=2**63 - 1, description="Task ID.")
ACCEPTED = {"status_code": 202, "response_model": TaskCreated}


async def _create(services: TaskServices, caller: Principal, task_type: TaskType, body: Body) -> TaskCreated:
    content, description = body.content, body.description  # type: ignore[attr-defined]
    task = await services.tasks.create(caller.account_id, task_type, content, description)
    return TaskCreated(task_id=task.task_id)


@router.post("/tasks/gc", **ACCEPTED, summary="Create a garbage collection task (faces by filters)")
async def create_gc(body: GcTaskCreate, caller: Principal = Caller, services: TaskServices = Services) -> TaskCreated:
    return await _create(services, caller, TaskType.gc, body)


@router.post("/tasks/exporter", **ACCEPTED, summary="Create an exporter task (faces to CSV in a ZIP)")
async def create_exporter(body: ExporterTaskCreate, caller: Principal = Caller, services: TaskServices = Services) -> TaskCreated:
    return await _create(services, caller, TaskType.exporter, body)


@router.post("/tasks/linker", **ACCEPTED, summary="Create a linker task (attach faces by filters to a list)")
async def create_linker(body: LinkerTaskCreate, caller: Principal = Caller, services: TaskServices = Services) -> TaskCreated:
    return await _create(services, caller, TaskType.linker, body)


@router.post("/tasks/cross_match", **ACCEPTED, summary="Create a cross-matching task")
async def create_cross_match(body: CrossMatchTaskCreate, caller: Principal = Caller,
                             services: TaskServices = Services) -> TaskCreated:
    return await _create(services, caller, TaskType.cross_match, body)


@router.post("/tasks/clustering", **ACCEPTED, summary="Create a clustering task")
async def create_clustering(body: ClusteringTaskCreate, caller: Principal = Caller,
                            services: TaskServices = Services) -> TaskCreated:
    return await _create(services, caller, TaskType.clustering, body)


@router.post("/tasks/reporter", **ACCEPTED, summary="Create a reporter task (a clustering result as CSV in a ZIP)")
async def create_reporter(body: ReporterTaskCreate, caller: Principal = Caller, services: TaskServices = Services) -> TaskCreated:
    return await _create(services, caller, TaskType.reporter, body)


@router.post("/tasks/roc", **ACCEPTED, summary="Create a ROC-curve calculating task")
async def create_roc(body: RocTaskCreate, caller: Principal = Caller, services: TaskServices = Services) -> TaskCreated:
    return await _create(services, caller, TaskType.roc, body)


@router.post("/tasks/estimator", **ACCEPTED, summary="Create an estimator task (a handler over a ZIP archive or a directory)")
async def create_estimator(body: EstimatorTaskCreate, caller: Principal = Caller,
                           services: TaskServices = Services) -> TaskCreated:
    return await _create(services, caller, TaskType.estimator, body)


class TaskQuery:
    def __init__(
        self,
        account_id: UUID | None = None,
        create_time__lt: datetime | None = None,
        create_time__gte: datetime | None = None,
        end_time__lt: datetime | None = None,
        end_time__gte: datetime | None = None,
        task_ids: str | None = Query(None, description="Comma-separated task IDs."),
        task_type: TaskType | None = None,
        task_status: TaskStatus | None = None,
        schedule_id: int | None = Query(None, ge=1, le=2**63 - 1),
    ) -> None:
        self.account_id = account_id
        self.create_time__lt, self.create_time__gte = create_time__lt, create_time__gte
        self.end_time__lt, self.end_time__gte = end_time__lt, end_time__gte
        ids = parse_list("task_ids", [task_ids] if task_ids else None, int)
        self.task_ids = None if ids is None else set(ids)
        self.task_type, self.task_status, self.schedule_id = task_type, task_status, schedule_id

    def matches(self, task: Task) -> bool:
        end = task.end_time
        return (
            (self.task_ids is None or task.task_id in self.task_ids)
            and (self.task_type is None or task.task_type == self.task_type)
            and (self.task_status is None or task.task_status == self.task_status)
            and (self.schedule_id is None or task.schedule_id == self.schedule_id)
            and (self.create_time__lt is None or task.create_time < self.create_time__lt)
            and (self.create_time__gte is None or task.create_time >= self.create_time__gte)
            and (self.end_time__lt is None or (end is not None and end < self.end_time__lt))
            and (self.end_time__gte is None or (end is not None and end >= self.end_time__gte))
        )

    async def select(self, services: TaskServices, caller: Principal) -> list[Task]:
        accounts = caller.readable(self.account_id)
        found = [t for t in await services.tasks.store.all_tasks() if t.account_id in accounts and self.matches(t)]
        return sorted(found, key=lambda t: t.task_id)


@router.get("/tasks", response_model=TasksPage, summary="Tasks matching the filters, newest first")
async def get_tasks(query: TaskQuery = Depends(), page: int = Page, page_size: int = PageSize,
                    caller: Principal = Caller, services: TaskServices = Services) -> TasksPage:
    return TasksPage(tasks=page_of(await query.select(services, caller), page, page_size, order="desc"))


@router.get("/tasks/count", response_model=TasksCount, summary="How many tasks match the filters")
async def count_tasks(query: TaskQuery = Depends(), caller: Principal = Caller,
                      services: TaskServices = Services) -> TasksCount:
    return TasksCount(count=len(await query.select(services, caller)))


@router.get("/tasks/{task_id}", response_model=Task, summary="A task, with its progress (parts done of all)")
async def get_task(task_id: int = TaskId, caller: Principal = Caller, services: TaskServices = Services) -> Task:
    return await services.tasks.visible(task_id, caller.readable())


@router.patch("/tasks/{task_id}", status_code=204, summary="Cancel a task: its remaining subtasks are skipped")
async def cancel_task(task_id: int = TaskId, caller: Principal = Caller, services: TaskServices = Services) -> Response:
    await services.tasks.cancel(await services.tasks.visible(task_id, caller.writable))
    return Response(status_code=204)


@router.delete("/tasks/{task_id}", status_code=204, summary="Delete a task and its results")
async def delete_task(task_id: int = TaskId, caller: Principal = Caller, services: TaskServices = Services) -> Response:
    await services.tasks.delete(await services.tasks.visible(task_id, caller.writable))
    return Response(status_code=204)


@router.get("/tasks/{task_id}/result", summary="A done task's result: JSON, or a ZIP (exporter, reporter)",
            responses={200: {"content": {"application/json": {}, "application/zip": {}}}})
async def get_result(task_id: int = TaskId, caller: Principal = Caller, services: TaskServices = Services) -> Response:
    result = await services.tasks.result(await services.tasks.visible(task_id, caller.readable()))
    return Response(result.data, media_type=result.content_type)


@router.get("/tasks/{task_id}/subtasks", response_model=SubtasksPage, summary="A task's subtasks")
async def get_subtasks(task_id: int = TaskId, account_id: UUID | None = None, caller: Principal = Caller,
                       services: TaskServices = Services) -> SubtasksPage:
    task = await services.tasks.visible(task_id, caller.readable(account_id))
    return SubtasksPage(subtasks=await services.tasks.store.subtasks_of(task.task_id))
