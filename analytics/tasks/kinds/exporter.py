"""Exporter of faces: a CSV (LUNA's face columns, the chosen delimiter) in a ZIP, with the faces' sample
images under ``images/`` when ``save_images`` is 1. Subtasks read disjoint face-id ranges, so every face
is one row, and a redone subtask replaces its own rows."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from uuid import UUID

from analytics.recognition.face_store import StoredFace
from analytics.tasks.kinds.base import Kind
from analytics.tasks.kinds.images import sample_image, sample_of
from analytics.tasks.resources import Resources
from analytics.tasks.results import Result, zip_result
from analytics.tasks.sources import FaceSource, faces_only
from analytics.tasks.splitting import from_content, ranges, to_content
from schemas.tasks import FACE_COLUMNS, ExporterContent, Task, TaskType

CSV_NAME = "faces.csv"


def face_value(face: StoredFace, column: str) -> str:
    value = getattr(face, column)
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return ",".join(str(v) for v in value)
    return str(value)


def csv_text(header: list[str], rows: list[list[str]], delimiter: str) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


class Exporter(Kind[ExporterContent]):
    task_type = TaskType.exporter
    content_model = ExporterContent

    async def plan(self, res: Resources, account_id: UUID, content: ExporterContent) -> list[dict[str, Any]]:
        faces_only(content.objects_type)
        source = FaceSource(res.recognition.store)
        count = await source.count(account_id, source.filters(content.filters))
        return [to_content(r) for r in ranges(count, res.settings.subtask_size)]

    async def run(self, res: Resources, task: Task, content: ExporterContent, index: int, part: dict[str, Any]) -> Any:
        source = FaceSource(res.recognition.store)
        columns = content.columns or list(FACE_COLUMNS)
        faces = await source.faces(task.account_id, source.filters(content.filters, from_content(part)))
        return {
            "rows": [[face_value(f, c) for c in columns] for f in faces],
            "images": {str(f.face_id): str(s) for f in faces if (s := sample_of(f.avatar)) is not None},
        }

    async def merge(self, res: Resources, task: Task, content: ExporterContent, parts: list[Any]) -> Result | None:
        columns = content.columns or list(FACE_COLUMNS)
        files = {CSV_NAME: csv_text(columns, [row for p in parts for row in p["rows"]], content.csv_delimiter)}
        if content.save_images:
            for p in parts:
                for face_id, sample_id in p["images"].items():
                    image = await sample_image(res.storage, task.account_id, UUID(sample_id))
                    if image is not None:
                        files[f"images/{face_id}.jpg"] = image
        return zip_result(files)
