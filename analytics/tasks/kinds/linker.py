"""Linker: attach the faces the filters select to a list (``list_id``, or one created for the task).
With events' filters, each event with a face descriptor becomes a new face first (LUNA's "faces are
created from events"), its id derived from the event's, so a redone subtask or a second linker finds
the face made before instead of making another. Attaching a face already in the list changes nothing,
so a redone subtask links nothing twice."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from analytics.recognition.face_store import StoredFace
from analytics.tasks.kinds.base import Kind, batches
from analytics.tasks.resources import Resources
from analytics.tasks.results import Result, json_result
from analytics.tasks.sources import FaceSource, events_of, selection
from analytics.tasks.splitting import IdRange, from_content, ranges, to_content
from schemas.tasks import EventObjectFilters, FaceObjectFilters, LinkerContent, Task, TaskType

ATTACH_BATCH = 1000
_EVENT_FACES = uuid.UUID("5f0c2b8e-4d7a-4c1e-9b1e-6a3d2f8c7e10")  # uuid5 namespace: a face made from an event


def face_of_event(event_id: UUID) -> UUID:
    return uuid.uuid5(_EVENT_FACES, str(event_id))


def _avatar(event: dict[str, Any]) -> str:
    """The event's first face sample, as the faces' avatars name samples."""
    for detection in event.get("face_detections") or []:
        if detection.get("sample_id"):
            return f"/6/samples/faces/{detection['sample_id']}"
    return ""


class Linker(Kind[LinkerContent]):
    task_type = TaskType.linker
    content_model = LinkerContent

    async def plan(self, res: Resources, account_id: UUID, content: LinkerContent) -> list[dict[str, Any]]:
        recognition = res.recognition
        if content.list_id is not None:
            face_list = await recognition.face_list(content.list_id, {account_id})
        else:
            face_list = await recognition.create_list(account_id, content.list_user_data)
        count = await selection(recognition, content.filters).count(account_id)
        return [{**to_content(r), "list_id": str(face_list.list_id)} for r in ranges(count, res.settings.subtask_size)]

    async def run(self, res: Resources, task: Task, content: LinkerContent, index: int, part: dict[str, Any]) -> Any:
        face_list = await res.recognition.face_list(UUID(part["list_id"]), {task.account_id})  # 11020 if deleted since
        if isinstance(content.filters, EventObjectFilters):
            ids = await self._faces_of_events(res, task.account_id, content.filters, from_content(part))
        else:
            assert isinstance(content.filters, FaceObjectFilters)
            source = FaceSource(res.recognition.store)
            ids = [f.face_id for f in await source.faces(task.account_id, source.filters(content.filters, from_content(part)))]
        for chunk in batches(ids, ATTACH_BATCH):
            await res.recognition.store.attach(task.account_id, face_list.list_id, chunk)
        return {"list_id": str(face_list.list_id), "face_ids": [str(i) for i in ids]}

    @staticmethod
    async def _faces_of_events(res: Resources, account_id: UUID, filters: EventObjectFilters, part: IdRange) -> list[UUID]:
        """The faces of the range's events that have a face descriptor, made where not made before."""
        source = events_of(res.recognition)
        events = await source.events(account_id, source.filters(filters, part))
        vectors = await source.archive.faces.vectors(account_id, [UUID(e["event_id"]) for e in events])
        described = [e for e in events if UUID(e["event_id"]) in vectors]
        ids = [face_of_event(UUID(e["event_id"])) for e in described]
        made = {f.face_id for chunk in batches(ids, ATTACH_BATCH) for f in await res.recognition.store.get(account_id, chunk)}
        now = datetime.now(UTC)
        new = [
            StoredFace(
                face_id=face_id, account_id=account_id, external_id=event.get("external_id") or None,
                user_data=event.get("user_data") or "", avatar=_avatar(event), event_id=UUID(event["event_id"]),
                create_time=now, lists=[], descriptor_version=vectors[UUID(event["event_id"])][0],
                vector=vectors[UUID(event["event_id"])][1],
            )
            for face_id, event in zip(ids, described, strict=True) if face_id not in made
        ]
        for chunk in batches(new, ATTACH_BATCH):
            await res.recognition.store.insert(*chunk)
        return ids

    async def merge(self, res: Resources, task: Task, content: LinkerContent, parts: list[Any]) -> Result | None:
        face_ids = [i for p in parts for i in p["face_ids"]]
        return json_result({"list_id": parts[0]["list_id"], "linked_faces_count": len(face_ids), "face_ids": face_ids})
