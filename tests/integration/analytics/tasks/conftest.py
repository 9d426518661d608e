"""The API with its tasks service over real Redis, Tansu and Milvus Lite, and a task worker of its own
consumer group in this process (the worker the API runs beside Milvus Lite)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import numpy as np
import pytest

from analytics.tasks.resources import Resources
from analytics.tasks.worker import TaskWorker
from infra.settings import BrokerSettings, RedisSettings
from schemas.descriptor_formats import encode_raw
from tests.integration.video_manager.conftest import Manager, start_manager

DIM = 128
FINISHED = {2, 3, 5}


def resources(api: Manager) -> Resources:
    assert api.context is not None and api.context.tasks is not None
    return api.context.tasks.tasks.res


@pytest.fixture(scope="module")
async def api(redis_server: RedisSettings, broker: BrokerSettings, warehouse: Any, milvus_client: Any) -> AsyncIterator[Manager]:
    prefix = f"test:{uuid.uuid4().hex[:8]}"
    manager, stop = await start_manager(redis_server, broker, warehouse, prefix, milvus=milvus_client)
    res = resources(manager)
    res.settings.subtask_size = 2  # several subtasks even on a handful of faces
    res.settings.cross_match_references = 1
    worker = TaskWorker(broker.bootstrap, f"test-tasks-{prefix}", res)
    await worker.start()
    yield manager
    await worker.stop()
    await stop()


def vector(*axes: tuple[int, float]) -> np.ndarray:
    v = np.zeros(DIM, np.float32)
    for axis, value in axes:
        v[axis] = value
    return v


def dlib_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Version 1001 by hand: 1 - Euclidean distance / 1.2, floored at 0."""
    return max(0.0, 1.0 - float(np.sqrt(((a - b) ** 2).sum())) / 1.2)


async def face(api: Manager, v: np.ndarray, headers: dict[str, str] | None = None, **fields: Any) -> str:
    body = {"descriptor": {"descriptor": encode_raw(v), "descriptor_version": 1001}, **fields}
    response = await api.http.post("/6/faces", json=body, headers=headers or api.admin)
    assert response.status_code == 201, response.text
    return response.json()["face_id"]


async def submit(api: Manager, kind: str, content: dict[str, Any], headers: dict[str, str] | None = None) -> int:
    response = await api.http.post(f"/6/tasks/{kind}", json={"description": f"{kind} test", "content": content},
                                   headers=headers or api.admin)
    assert response.status_code == 202, response.text
    return int(response.json()["task_id"])


async def finished(api: Manager, task_id: int, timeout: float = 60,
                   headers: dict[str, str] | None = None) -> tuple[dict[str, Any], list[tuple[int, int]]]:
    """The task once finished, and every (done, all) progress seen on the way."""
    seen: list[tuple[int, int]] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        response = await api.http.get(f"/6/tasks/{task_id}", headers=headers or api.admin)
        assert response.status_code == 200, response.text
        task = response.json()
        progress = (task["count_task_parts_done"], task["count_task_parts_all"])
        if not seen or seen[-1] != progress:
            seen.append(progress)
        if task["task_status"] in FINISHED:
            return task, seen
        assert asyncio.get_running_loop().time() < deadline, f"task {task_id} not finished: {task}"
        await asyncio.sleep(0.05)


async def result(api: Manager, task_id: int) -> Any:
    response = await api.http.get(f"/6/tasks/{task_id}/result", headers=api.admin)
    assert response.status_code == 200, response.text
    return response
