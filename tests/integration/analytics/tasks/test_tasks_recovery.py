"""A task worker killed mid-task (a real ``selene tasks-worker`` process, SIGKILL) leaves its subtask
uncommitted; a new worker redoes it, and the gc result names every face exactly once. Runs on a Milvus
server, which the test's API and the worker processes share (Milvus Lite admits one process)."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest

from infra.settings import BrokerSettings, RedisSettings
from tests.integration.analytics.tasks.conftest import face, finished, result, submit, vector
from tests.integration.video_manager.conftest import Manager, start_manager

pytestmark = pytest.mark.asyncio(loop_scope="session")
ROOT = Path(__file__).resolve().parents[4]
FACES = 160


def start_worker(env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "infra.root.cli", "tasks-worker"], cwd=ROOT, env=env,
                                stdout=out, stderr=subprocess.STDOUT)


async def test_a_killed_worker_leaves_a_complete_duplicate_free_result(
    redis_server: RedisSettings, broker: BrokerSettings, warehouse: Any, milvus_server_client: Any,
    milvus_server_uri: str,
) -> None:
    prefix = f"test:{uuid.uuid4().hex[:8]}"
    images = Path(tempfile.mkdtemp(prefix="selene-task-results-"))
    api, stop = await start_manager(redis_server, broker, warehouse, prefix, milvus=milvus_server_client, images_root=images)
    assert api.context is not None and api.context.tasks is not None
    api.context.tasks.tasks.res.settings.subtask_size = 4
    env = {
        **os.environ, "PYTHONPATH": str(ROOT), "SELENE_KAFKA_BOOTSTRAP": broker.bootstrap,
        "SELENE_REDIS_URL": redis_server.url, "SELENE_MILVUS_URI": milvus_server_uri,
        "SELENE_MILVUS_COLLECTION_PREFIX": prefix.replace(":", "_") + "_", "SELENE_TASKS_STORE_PREFIX": prefix,
        "SELENE_IMAGE_STORE_ROOT": str(images), "SELENE_WORKER_APP_ID": f"kill-{uuid.uuid4().hex[:8]}",
        "SELENE_TASKS_METRICS_PORT": "0", "SELENE_DATA_DIR": str(images / "data"),
    }
    log = images / "tasks-worker.log"
    workers: list[subprocess.Popen[bytes]] = []
    try:
        ids = {await face(api, vector((i % 100, 0.5)), user_data="doomed") for i in range(FACES)}
        await asyncio.sleep(2)  # another client of the Milvus server sees these writes after a time tick
        workers.append(start_worker(env, log))
        task_id = await submit(api, "gc", {"filters": {"user_data": "doomed"}})
        total = FACES // 4
        while True:
            task = (await api.http.get(f"/6/tasks/{task_id}", headers=api.admin)).json()
            if task["count_task_parts_done"] >= 3:
                break
            assert workers[0].poll() is None, log.read_text()
            await asyncio.sleep(0.02)
        workers[0].send_signal(signal.SIGKILL)
        workers[0].wait(10)
        killed_at = (await api.http.get(f"/6/tasks/{task_id}", headers=api.admin)).json()
        assert killed_at["count_task_parts_done"] < total and killed_at["task_status"] == 1, "not killed mid-task"
        workers.append(start_worker(env, log))
        task, progress = await finished(api, task_id, timeout=120)
        assert task["task_status"] == 5, log.read_text()[-3000:]
        assert task["count_task_parts_done"] == task["count_task_parts_all"] == total
        assert all(done <= total for done, _ in progress)
        removed = (await result(api, task_id)).json()["result"]
        assert len(removed["face_ids"]) == len(set(removed["face_ids"])) == FACES == removed["removed_faces"]
        assert set(removed["face_ids"]) == ids
        left = await api.http.get("/6/faces/count", params={"user_data": "doomed"}, headers=api.admin)
        assert left.json()["faces_count"] == 0
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.terminate()
                worker.wait(20)
        await stop()
