"""The estimator task: a handler over every image of a source, each image as one generate-events request
(the handler pipeline's own ``run``). Subtasks are ranges of the source's sorted image names. An image's
event, face and sample ids derive from (task id, image name), so a redone subtask writes the same events
again instead of new ones. Per image the result holds the event ids, or the error that image got."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from analytics.recognition.event_inputs import EventInput, EventsBody
from analytics.recognition.handlers import Handlers
from analytics.recognition.pipeline import EventRequest
from analytics.tasks.image_sources import open_source
from analytics.tasks.kinds.base import Kind, batches
from analytics.tasks.resources import Resources
from analytics.tasks.results import Result, json_result
from schemas.errors import BAD_INPUT_DATA, SERVICE_UNAVAILABLE, SeleneError
from schemas.estimator_task import EstimatorContent
from schemas.handlers import HandlerCreate, Policies
from schemas.tasks import Task, TaskType


def _handlers(res: Resources) -> Handlers:
    if res.handlers is None or res.handlers.pipeline is None:
        raise SeleneError(SERVICE_UNAVAILABLE, "estimator task", "this process runs without handlers")
    return res.handlers


def _failed(name: str, error: SeleneError) -> dict[str, Any]:
    return {"filename": name, "status": 0, "error": error.body.model_dump(mode="json")}


class Estimator(Kind[EstimatorContent]):
    task_type = TaskType.estimator
    content_model = EstimatorContent

    async def plan(self, res: Resources, account_id: UUID, content: EstimatorContent) -> list[dict[str, Any]]:
        handlers = _handlers(res)
        given = content.handler
        if given.handler_id is None:  # LUNA: policies alone make a static handler
            created = await handlers.create(account_id, HandlerCreate(
                description="estimator task", policies=given.policies, handler_type=0))
            handler_id = created.handler_id
        else:
            await self._policies(handlers, account_id, given.handler_id, given.policies)
            handler_id = given.handler_id
        source = await open_source(content.source, res.storage, account_id, res.settings.estimator_directories)
        names = await source.names()
        chunks = list(batches(names, res.settings.subtask_size)) or [[]]
        return [{"handler_id": str(handler_id), "names": list(c)} for c in chunks]

    @staticmethod
    async def _policies(handlers: Handlers, account_id: UUID, handler_id: UUID, given: Policies | None) -> Policies:
        """The policies to run, as generate events takes them: a dynamic handler's from the task."""
        handler = await handlers.get(handler_id, {account_id})
        if handler.handler_type == 1:
            if given is None:
                raise SeleneError(BAD_INPUT_DATA, "a dynamic handler needs its policies in the task's handler")
            return given
        if given is not None:
            raise SeleneError(BAD_INPUT_DATA, "policies are given with dynamic handlers only")
        assert handler.policies is not None
        return handler.policies

    async def run(self, res: Resources, task: Task, content: EstimatorContent, index: int, part: dict[str, Any]) -> Any:
        handlers = _handlers(res)
        handler_id = UUID(part["handler_id"])
        policies = await self._policies(handlers, task.account_id, handler_id,
                                        content.handler.policies if content.handler.handler_id else None)
        assert handlers.pipeline is not None
        source = await open_source(content.source, res.storage, task.account_id, res.settings.estimator_directories)
        out = []
        for name in part["names"]:
            try:
                image = await source.read(name)
                request = EventRequest(account_id=task.account_id, handler_id=handler_id,
                                       image_type=content.source.image_type, id_seed=f"task:{task.task_id}:{name}")
                generated = await handlers.pipeline.run(policies, EventsBody([EventInput(name, image=image)]), request)
            except SeleneError as exc:
                out.append(_failed(name, exc))
                continue
            shown = generated.images[0] if generated.images else None
            if shown is not None and shown.status == 0:
                out.append({"filename": name, "status": 0, "error": shown.error.model_dump(mode="json")})
                continue
            out.append({"filename": name, "status": 1, "event_ids": [str(e.event_id) for e in generated.events]})
        return out

    async def merge(self, res: Resources, task: Task, content: EstimatorContent, parts: list[Any]) -> Result | None:
        return json_result([image for p in parts for image in p])
