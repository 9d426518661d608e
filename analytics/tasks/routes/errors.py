"""LUNA's ``task errors`` tag: a task's errors, errors by filters, their count, one error by id."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter, Depends, Path, Query

from analytics.tasks.api import TaskServices
from analytics.tasks.routes.deps import Caller, Services
from infra.auth.authenticator import Principal
from infra.http.deps import Page, page_of, parse_list
from schemas.errors import TASK_ERROR_NOT_FOUND, SeleneError
from schemas.tasks import TaskError, TaskErrorsPage, TasksCount, TaskType

router = APIRouter(tags=["tasks"])
PageSize = Query(10, ge=1, le=1000, description="Errors per page.")
BIG = 2**63 - 1


class ErrorQuery:
    def __init__(
        self,
        account_id: UUID | None = None,
        task_ids: str | None = Query(None, description="Comma-separated task IDs."),
        error_ids: str | None = Query(None, description="Comma-separated error IDs."),
        error_code: int | None = Query(None, ge=0, le=BIG),
        error_time__lt: datetime | None = None,
        error_time__gte: datetime | None = None,
        task_type: TaskType | None = None,
        status_code: int | None = Query(None, ge=400, le=599),
    ) -> None:
        self.account_id = account_id
        tasks, errors = parse_list("task_ids", [task_ids] if task_ids else None, int), parse_list(
            "error_ids", [error_ids] if error_ids else None, int)
        self.task_ids = None if tasks is None else set(tasks)
        self.error_ids = None if errors is None else set(errors)
        self.error_code, self.task_type, self.status_code = error_code, task_type, status_code
        self.error_time__lt, self.error_time__gte = error_time__lt, error_time__gte

    def matches(self, error: TaskError) -> bool:
        return (
            (self.task_ids is None or error.task_id in self.task_ids)
            and (self.error_ids is None or error.error_id in self.error_ids)
            and (self.error_code is None or error.error_code == self.error_code)
            and (self.task_type is None or error.task_type == self.task_type)
            and (self.status_code is None or error.status_code == self.status_code)
            and (self.error_time__lt is None or error.error_time < self.error_time__lt)
            and (self.error_time__gte is None or error.error_time >= self.error_time__gte)
        )

    async def select(self, services: TaskServices, caller: Principal) -> list[TaskError]:
        return [e for e in await visible_errors(services, caller.readable(self.account_id)) if self.matches(e)]


async def visible_errors(services: TaskServices, accounts: set[UUID]) -> list[TaskError]:
    """Errors of the accounts' tasks (an error is as visible as its task)."""
    store = services.tasks.store
    owners = {t.task_id for t in await store.tasks.all() if t.account_id in accounts}
    return sorted((e for e in await store.errors.all() if e.task_id in owners), key=lambda e: e.error_id)


@router.get("/tasks/errors", response_model=TaskErrorsPage, summary="Task errors matching the filters")
async def get_errors(query: ErrorQuery = Depends(), page: int = Page, page_size: int = PageSize,
                     caller: Principal = Caller, services: TaskServices = Services) -> TaskErrorsPage:
    return TaskErrorsPage(errors=page_of(await query.select(services, caller), page, page_size))


@router.get("/tasks/errors/count", response_model=TasksCount, summary="How many task errors match the filters")
async def count_errors(query: ErrorQuery = Depends(), caller: Principal = Caller,
                       services: TaskServices = Services) -> TasksCount:
    return TasksCount(count=len(await query.select(services, caller)))


@router.get("/tasks/errors/{error_id}", response_model=TaskError, summary="A task error")
async def get_error(error_id: int = Path(ge=1, le=BIG), caller: Principal = Caller,
                    services: TaskServices = Services) -> TaskError:
    for error in await visible_errors(services, caller.readable()):
        if error.error_id == error_id:
            return error
    raise SeleneError(TASK_ERROR_NOT_FOUND, error_id)


@router.get("/tasks/{task_id}/errors", response_model=TaskErrorsPage, summary="A task's errors")
async def get_task_errors(task_id: int = Path(ge=1, le=BIG), account_id: UUID | None = None, page: int = Page,
                          page_size: int = PageSize, caller: Principal = Caller,
                          services: TaskServices = Services) -> TaskErrorsPage:
    task = await services.tasks.visible(task_id, caller.readable(account_id))
    return TaskErrorsPage(errors=page_of(await services.tasks.store.errors_of(task.task_id), page, page_size))
