"""Exporter of faces or events (``objects_type``): a CSV (LUNA's face or event columns, the chosen
delimiter) in a ZIP, with the faces' sample images under ``images/`` when ``save_images`` is 1 (events
carry none here). Subtasks read disjoint id ranges, so every object is one row, and a redone subtask
replaces its own rows."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any
from uuid import UUID

from analytics.recognition.face_store import StoredFace
from analytics.tasks.kinds.base import Kind, id_range_plan
from analytics.tasks.kinds.images import sample_image, sample_of
from analytics.tasks.resources import Resources
from analytics.tasks.results import Result, zip_result
from analytics.tasks.sources import FaceSource, events_of
from analytics.tasks.splitting import from_content
from schemas.tasks import EventObjectFilters, ExporterContent, FaceObjectFilters, Task, TaskType


def face_value(face: StoredFace, column: str) -> str:
    return cell(getattr(face, column))


def cell(value: Any) -> str:
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
        return await id_range_plan(res, account_id, content.filters)

    async def run(self, res: Resources, task: Task, content: ExporterContent, index: int, part: dict[str, Any]) -> Any:
        columns = content.all_columns
        if isinstance(content.filters, EventObjectFilters):
            events = events_of(res.recognition)
            found = await events.events(task.account_id, events.filters(content.filters, from_content(part)))
            return {"rows": [[cell(e.get(c)) for c in columns] for e in found], "images": {}}
        assert isinstance(content.filters, FaceObjectFilters)
        source = FaceSource(res.recognition.store)
        faces = await source.faces(task.account_id, source.filters(content.filters, from_content(part)))
        return {
            "rows": [[face_value(f, c) for c in columns] for f in faces],
            "images": {str(f.face_id): str(s) for f in faces if (s := sample_of(f.avatar)) is not None},
        }

    async def merge(self, res: Resources, task: Task, content: ExporterContent, parts: list[Any]) -> Result | None:
        rows = [row for p in parts for row in p["rows"]]
        files = {f"{content.objects_type}.csv": csv_text(content.all_columns, rows, content.csv_delimiter)}
        if content.save_images:
            for p in parts:
                for face_id, sample_id in p["images"].items():
                    image = await sample_image(res.storage, task.account_id, UUID(sample_id))
                    if image is not None:
                        files[f"images/{face_id}.jpg"] = image
        return zip_result(files)
