"""Linker: attach the faces the filters select to a list (``list_id``, or one created for the task).
Attaching a face already in the list changes nothing, so a redone subtask links nothing twice."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from analytics.tasks.kinds.base import Kind, batches
from analytics.tasks.resources import Resources
from analytics.tasks.results import Result, json_result
from analytics.tasks.sources import FaceSource, faces_only
from analytics.tasks.splitting import from_content, ranges, to_content
from schemas.tasks import LinkerContent, Task, TaskType

ATTACH_BATCH = 1000


class Linker(Kind[LinkerContent]):
    task_type = TaskType.linker
    content_model = LinkerContent

    async def plan(self, res: Resources, account_id: UUID, content: LinkerContent) -> list[dict[str, Any]]:
        faces_only(content.objects_type)
        recognition = res.recognition
        if content.list_id is not None:
            face_list = await recognition.face_list(content.list_id, {account_id})
        else:
            face_list = await recognition.create_list(account_id, content.list_user_data)
        source = FaceSource(recognition.store)
        count = await source.count(account_id, source.filters(content.filters))
        return [{**to_content(r), "list_id": str(face_list.list_id)} for r in ranges(count, res.settings.subtask_size)]

    async def run(self, res: Resources, task: Task, content: LinkerContent, index: int, part: dict[str, Any]) -> Any:
        source = FaceSource(res.recognition.store)
        face_list = await res.recognition.face_list(UUID(part["list_id"]), {task.account_id})  # 11020 if deleted since
        faces = await source.faces(task.account_id, source.filters(content.filters, from_content(part)))
        ids = [f.face_id for f in faces]
        for chunk in batches(ids, ATTACH_BATCH):
            await res.recognition.store.attach(task.account_id, face_list.list_id, chunk)
        return {"list_id": str(face_list.list_id), "face_ids": [str(i) for i in ids]}

    async def merge(self, res: Resources, task: Task, content: LinkerContent, parts: list[Any]) -> Result | None:
        face_ids = [i for p in parts for i in p["face_ids"]]
        return json_result({"list_id": parts[0]["list_id"], "linked_faces_count": len(face_ids), "face_ids": face_ids})
