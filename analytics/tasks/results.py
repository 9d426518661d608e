"""Task results and subtask parts as objects in the ``task-result`` bucket, keyed by account and task.

A part is written under its subtask's index, so a redone subtask replaces its own part, and the merged
result under the task's fixed key: writing either twice is harmless (results are idempotent on
(task_id, subtask index)).
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from analytics.images.storage import ObjectStorage
from analytics.tasks.resources import RESULT_BUCKET
from schemas.tasks import Task

JSON = "application/json"
ZIP = "application/zip"


@dataclass(frozen=True)
class Result:
    data: bytes
    content_type: str


def result_id(task_id: int) -> str:
    return str(uuid5(NAMESPACE_URL, f"selene:task-result:{task_id}"))


def _prefix(account_id: UUID, task_id: int) -> str:
    return f"{account_id}/{task_id}"


def json_result(result: Any, errors: list[dict[str, Any]] | None = None) -> Result:
    """LUNA's JSON result body: ``{"result": ..., "errors": [...]}``."""
    return Result(json.dumps({"result": result, "errors": errors or []}).encode(), JSON)


def zip_result(files: dict[str, bytes]) -> Result:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return Result(buffer.getvalue(), ZIP)


class Results:
    def __init__(self, storage: ObjectStorage) -> None:
        self.storage = storage

    async def start(self) -> None:
        await self.storage.ensure_bucket(RESULT_BUCKET)

    async def put_part(self, task: Task, index: int, name: str, value: Any) -> None:
        key = f"{_prefix(task.account_id, task.task_id)}/{name}-{index}.json"
        await self.storage.put(RESULT_BUCKET, key, json.dumps(value).encode(), JSON)

    async def part(self, task: Task, index: int, name: str) -> Any | None:
        stored = await self.storage.get(RESULT_BUCKET, f"{_prefix(task.account_id, task.task_id)}/{name}-{index}.json")
        return None if stored is None else json.loads(stored.data)

    async def put_result(self, task: Task, result: Result) -> str:
        rid = result_id(task.task_id)
        await self.storage.put(RESULT_BUCKET, f"{_prefix(task.account_id, task.task_id)}/{rid}", result.data, result.content_type)
        return rid

    async def result(self, task: Task) -> Result | None:
        if task.result_id is None:
            return None
        stored = await self.storage.get(RESULT_BUCKET, f"{_prefix(task.account_id, task.task_id)}/{task.result_id}")
        return None if stored is None else Result(stored.data, stored.info.content_type)

    async def json(self, task: Task) -> Any | None:
        """The ``result`` of a task's JSON result (a clustering task's, for its reporter)."""
        found = await self.result(task)
        return None if found is None or found.content_type != JSON else json.loads(found.data)["result"]

    async def delete(self, task: Task) -> None:
        for key in await self.storage.keys(RESULT_BUCKET, _prefix(task.account_id, task.task_id) + "/"):
            await self.storage.delete(RESULT_BUCKET, key)
