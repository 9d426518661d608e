"""Garbage collection of faces or events (``target``): delete every object the filters select, each
exactly once. Events go with their descriptors (``EventArchive.delete``).

A subtask first records its plan (the face ids in its range, and their samples with remove_samples) as
an object beside the results, then deletes. Redone after a crash it finds the plan and deletes what is
left of the same faces, so the result names every face once, whichever attempt deleted it.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from analytics.images.samples import SampleStore
from analytics.tasks.kinds.base import Kind, batches, id_range_plan
from analytics.tasks.kinds.images import sample_of
from analytics.tasks.resources import Resources
from analytics.tasks.results import Result, Results, json_result
from analytics.tasks.sources import FaceSource, events_of
from analytics.tasks.splitting import IdRange, from_content
from schemas.tasks import EventObjectFilters, FaceObjectFilters, GcContent, Task, TaskType

DELETE_BATCH = 1000


class Gc(Kind[GcContent]):
    task_type = TaskType.gc
    content_model = GcContent

    async def plan(self, res: Resources, account_id: UUID, content: GcContent) -> list[dict[str, Any]]:
        return await id_range_plan(res, account_id, content.filters)

    async def run(self, res: Resources, task: Task, content: GcContent, index: int, part: dict[str, Any]) -> Any:
        if isinstance(content.filters, EventObjectFilters):
            return await self._events(res, task, content.filters, index, from_content(part))
        assert isinstance(content.filters, FaceObjectFilters)
        source, results = FaceSource(res.recognition.store), Results(res.storage)
        planned = await results.part(task, index, "plan")
        if planned is None:
            faces = await source.faces(task.account_id, source.filters(content.filters, from_content(part)))
            samples = [str(s) for f in faces if (s := sample_of(f.avatar)) is not None] if content.remove_samples else []
            planned = {"face_ids": [str(f.face_id) for f in faces], "samples": samples}
            await results.put_part(task, index, "plan", planned)
        ids = [UUID(i) for i in planned["face_ids"]]
        for chunk in batches(ids, DELETE_BATCH):
            await source.delete(task.account_id, chunk)
        samples = SampleStore(res.storage)
        for sample_id in planned["samples"]:
            await samples.delete(task.account_id, "faces", UUID(sample_id))
        return planned

    @staticmethod
    async def _events(res: Resources, task: Task, filters: EventObjectFilters, index: int, part: IdRange) -> Any:
        """As for faces: the plan (the range's event ids) is stored first, then deleted in batches."""
        source, results = events_of(res.recognition), Results(res.storage)
        planned = await results.part(task, index, "plan")
        if planned is None:
            events = await source.events(task.account_id, source.filters(filters, part))
            planned = {"event_ids": [e["event_id"] for e in events]}
            await results.put_part(task, index, "plan", planned)
        for chunk in batches([UUID(i) for i in planned["event_ids"]], DELETE_BATCH):
            await source.delete(task.account_id, chunk)
        return planned

    async def merge(self, res: Resources, task: Task, content: GcContent, parts: list[Any]) -> Result | None:
        if not content.store_results:
            return None
        if content.target == "events":
            event_ids = [i for p in parts for i in p["event_ids"]]
            return json_result({"removed_events": len(event_ids), "event_ids": event_ids})
        face_ids = [i for p in parts for i in p["face_ids"]]
        removed_samples = sum(len(p["samples"]) for p in parts)
        return json_result({"removed_faces": len(face_ids), "removed_samples": removed_samples, "face_ids": face_ids})
