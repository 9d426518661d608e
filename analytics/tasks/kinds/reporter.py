"""Reporter: a done clustering task's clusters as a CSV (cluster number, face id, then ``columns``) in a
ZIP, with each face's sample image under ``images/<cluster>/`` when ``save_images`` is 1. One subtask."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from analytics.tasks.kinds.base import Kind, batches
from analytics.tasks.kinds.exporter import csv_text, face_value
from analytics.tasks.kinds.images import sample_image, sample_of
from analytics.tasks.resources import Resources
from analytics.tasks.results import Result, Results, zip_result
from analytics.tasks.sources import FaceSource
from schemas.errors import (
    REPORT_COLUMN,
    REPORT_NO_RESULT,
    REPORT_TASK_STATUS,
    REPORT_TASK_TYPE,
    TASK_NOT_FOUND,
    SeleneError,
)
from schemas.tasks import FACE_COLUMNS, ReporterContent, Task, TaskStatus, TaskType

CSV_NAME = "report.csv"


async def clustering_of(res: Resources, account_id: UUID, task_id: int) -> dict[str, Any]:
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
    return result


class Reporter(Kind[ReporterContent]):
    task_type = TaskType.reporter
    content_model = ReporterContent

    async def plan(self, res: Resources, account_id: UUID, content: ReporterContent) -> list[dict[str, Any]]:
        for column in content.columns:
            if column not in FACE_COLUMNS or column == "face_id":
                raise SeleneError(REPORT_COLUMN, column, "faces")
        await clustering_of(res, account_id, content.task_id)
        return [{}]

    async def run(self, res: Resources, task: Task, content: ReporterContent, index: int, part: dict[str, Any]) -> Any:
        clusters = (await clustering_of(res, task.account_id, content.task_id))["clusters"]
        source = FaceSource(res.recognition.store)
        ids = [UUID(i) for cluster in clusters for i in cluster]
        faces = {f.face_id: f for chunk in batches(ids, 1000) for f in await source.get(task.account_id, chunk)}
        rows, images = [], {}
        for number, cluster in enumerate(clusters, start=1):
            for face_id in cluster:
                face = faces.get(UUID(face_id))  # None: deleted since the clustering
                rows.append([str(number), face_id, *(face_value(face, c) if face else "" for c in content.columns)])
                sample = sample_of(face.avatar) if face else None
                if sample is not None:
                    images[f"images/{number}/{face_id}.jpg"] = str(sample)
        return {"rows": rows, "images": images}

    async def merge(self, res: Resources, task: Task, content: ReporterContent, parts: list[Any]) -> Result | None:
        [report] = parts
        files = {CSV_NAME: csv_text(["cluster_id", "face_id", *content.columns], report["rows"], content.csv_delimiter)}
        if content.save_images:
            for name, sample_id in report["images"].items():
                image = await sample_image(res.storage, task.account_id, UUID(sample_id))
                if image is not None:
                    files[name] = image
        return zip_result(files)
