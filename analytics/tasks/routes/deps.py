"""The tasks service, as its routes get it."""

from __future__ import annotations

from fastapi import Depends, Request

from analytics.tasks.api import TaskServices
from infra.auth.access import access
from schemas.errors import SERVICE_UNAVAILABLE, SeleneError


def task_services(request: Request) -> TaskServices:
    found = request.app.state.context.tasks
    if found is None:
        raise SeleneError(SERVICE_UNAVAILABLE, "tasks", "this API runs without the face store")
    return found


Services = Depends(task_services)
Caller = Depends(access("task"))
