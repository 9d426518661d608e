"""Reporter: a done clustering task's clusters as a CSV (cluster number, face or event id, then
``columns``, of faces or events as the clustering read) in a ZIP, with each face's sample image under
``images/<cluster>/`` when ``save_images`` is 1. One subtask."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from analytics.tasks.kinds.base import Kind, batches
from analytics.events.luna_event_store import LunaEventFilters
from analytics.tasks.kinds.exporter import cell, csv_text, face_value
from analytics.tasks.kinds.images import sample_image, sample_of
from analytics.tasks.resources import Resources
from analytics.tasks.results import Result, Results, zip_result
from analytics.tasks.sources import FaceSource, events_of
from schemas.errors import (
    REPORT_COLUMN,
    REPORT_NO_RESULT,
    REPORT_TASK_STATUS,
    REPORT_TASK_TYPE,
    TASK_NOT_FOUND,
    SeleneError,
)
from schemas.tasks import EVENT_COLUMNS, FACE_COLUMNS, ClusteringContent, ReporterContent, Task, TaskStatus, TaskType

CSV_NAME = "report.csv"


async def clustering_of(res: Resources, account_id: UUID, task_id: int) -> tuple[str, dict[str, Any]]:
    """The done clustering's source (``faces`` or ``events``) and result."""
    clustered = await res.store.task(task_id)
    if clustered is None or clustered.account_id != account_id:
        raise SeleneError(TASK_NOT_FOUND, task_id)
    if clustered.task_type != TaskType.clustering:
        raise SeleneError(REPORT_TASK_TYPE, clustered.task_type.name)
    if clustered.task_status != TaskStatus.done:
        raise SeleneError(REPORT_TASK_STATUS, clustered.task_status.name)
    result = await Results(res.storage).json(clustered)
    if result is None:
        raise SeleneError(REPORT_NO_RESULT)
    return ClusteringContent.model_validate(clustered.content).objects_type, result


class Reporter(Kind[ReporterContent]):
    task_type = TaskType.reporter
    content_model = ReporterContent

    async def plan(self, res: Resources, account_id: UUID, content: ReporterContent) -> list[dict[str, Any]]:
        objects_type, _ = await clustering_of(res, account_id, content.task_id)
        allowed, key = (EVENT_COLUMNS, "event_id") if objects_type == "events" else (FACE_COLUMNS, "face_id")
        for column in content.columns:
            if column not in allowed or column == key:
                raise SeleneError(REPORT_COLUMN, column, objects_type)
        return [{}]

    async def run(self, res: Resources, task: Task, content: ReporterContent, index: int, part: dict[str, Any]) -> Any:
        objects_type, clustering = await clustering_of(res, task.account_id, content.task_id)
        clusters = clustering["clusters"]
        ids = [UUID(i) for cluster in clusters for i in cluster]
        if objects_type == "events":
            return {"rows": await self._event_rows(res, task.account_id, clusters, ids, content.columns), "images": {},
                    "key": "event_id"}
        source = FaceSource(res.recognition.store)
        faces = {f.face_id: f for chunk in batches(ids, 1000) for f in await source.get(task.account_id, chunk)}
        rows, images = [], {}
        for number, cluster in enumerate(clusters, start=1):
            for face_id in cluster:
                face = faces.get(UUID(face_id))  # None: deleted since the clustering
                rows.append([str(number), face_id, *(face_value(face, c) if face else "" for c in content.columns)])
                sample = sample_of(face.avatar) if face else None
                if sample is not None:
                    images[f"images/{number}/{face_id}.jpg"] = str(sample)
        return {"rows": rows, "images": images, "key": "face_id"}

    @staticmethod
    async def _event_rows(res: Resources, account_id: UUID, clusters: list[list[str]], ids: list[UUID],
                          columns: list[str]) -> list[list[str]]:
        source = events_of(res.recognition)
        events = {e["event_id"]: e for chunk in batches(ids, 1000)
                  for e in await source.events(account_id, LunaEventFilters(event_ids=list(chunk)))}
        return [  # an event deleted since the clustering keeps its row, with empty columns
            [str(number), event_id, *(cell(events[event_id].get(c)) if event_id in events else "" for c in columns)]
            for number, cluster in enumerate(clusters, start=1) for event_id in cluster
        ]

    async def merge(self, res: Resources, task: Task, content: ReporterContent, parts: list[Any]) -> Result | None:
        [report] = parts
        files = {CSV_NAME: csv_text(["cluster_id", report["key"], *content.columns], report["rows"], content.csv_delimiter)}
        if content.save_images:
            for name, sample_id in report["images"].items():
                image = await sample_image(res.storage, task.account_id, UUID(sample_id))
                if image is not None:
                    files[name] = image
        return zip_result(files)
