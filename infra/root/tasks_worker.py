"""``selene tasks-worker``: one member of the task workers' consumer group, on its own process.

It opens the face store itself, so it needs a Milvus server (``SELENE_MILVUS_URI``): Milvus Lite admits
one process per file, and with Lite the API runs the task worker inside itself instead
(``SELENE_TASKS_RUN_WORKER``). Events as a task source need the warehouse too: a ClickHouse server,
opened here; chdb is in the API's process, so with chdb the API runs the task worker as well, and a
worker started here anyway reads faces only (event subtasks fail with 28021). More of these processes
share the subtasks (``docker compose --scale``).
"""

from __future__ import annotations

import asyncio
import logging
import sys

import redis.asyncio as aioredis

from analytics.events.luna_event_store import LunaEventStore
from analytics.events.setup import open_warehouse
from analytics.events.warehouse import Warehouse
from analytics.images.backend import open_image_store
from analytics.images.storage import ObjectStorage
from analytics.recognition.event_descriptors import EventArchive, EventDescriptorStore
from analytics.recognition.face_store import FaceStore
from analytics.recognition.milvus import milvus_uri, open_milvus
from analytics.recognition.service import Recognition, open_lists
from analytics.tasks.resources import Resources
from analytics.tasks.store import TaskStore
from analytics.tasks.worker import TaskWorker, task_worker_group
from infra import logs
from infra.errors import StackError
from infra.lifecycle import Service, run_process
from infra.metrics import serve_metrics
from infra.settings import (
    BrokerSettings,
    CommonSettings,
    ImageStoreSettings,
    MilvusSettings,
    RedisSettings,
    TasksSettings,
    WarehouseSettings,
    WorkerSettings,
    env_name,
)

log = logging.getLogger(__name__)


def worker_in_api(tasks: TasksSettings, milvus: MilvusSettings, warehouse: WarehouseSettings,
                  common: CommonSettings) -> bool:
    """Whether the API process runs the task worker: by setting, else when the API holds a store no other
    process may open (Milvus Lite, chdb)."""
    if tasks.run_worker is not None:
        return tasks.run_worker
    return "://" not in milvus_uri(milvus, common) or warehouse.backend == "chdb"


def resources(redis_client: aioredis.Redis, recognition: Recognition, storage: ObjectStorage,
              settings: TasksSettings) -> Resources:
    return Resources(recognition, storage, TaskStore(redis_client, settings.store_prefix), settings)


async def run() -> int:
    common, milvus_settings, settings = CommonSettings(), MilvusSettings(), TasksSettings()
    if "://" not in milvus_uri(milvus_settings, common):
        raise StackError(
            "tasks-worker", "Milvus Lite admits one process per file, and the API holds it",
            f"set {env_name(MilvusSettings, 'uri')} to a Milvus server, or let the API run the task worker",
        )
    redis_url = RedisSettings().url
    milvus = await asyncio.to_thread(open_milvus, milvus_settings, common)
    client = aioredis.from_url(redis_url)
    warehouse: Warehouse | None = None
    events: EventArchive | None = None
    warehouse_settings = WarehouseSettings()
    if warehouse_settings.backend == "server":
        warehouse = await open_warehouse(warehouse_settings, common)
        events = EventArchive(LunaEventStore(warehouse), EventDescriptorStore(milvus, milvus_settings),
                              EventDescriptorStore(milvus, milvus_settings, kind="body"))
    else:
        log.warning("no events as a task source here: the warehouse is chdb, in the API's process",
                    extra={"fix": f"set {env_name(WarehouseSettings, 'backend')}=server"})
    recognition = Recognition(FaceStore(milvus, milvus_settings), open_lists(client, settings.store_prefix), events)
    res = resources(client, recognition, open_image_store(ImageStoreSettings(), common.data_dir).images.storage, settings)
    worker = TaskWorker(BrokerSettings().bootstrap, task_worker_group(WorkerSettings().app_id), res)
    try:
        return await run_process(Service("tasks-worker", worker.start, worker.wait, worker.stop), redis_url)
    finally:
        recognition.close()
        if warehouse is not None:
            await warehouse.stop()
        await client.aclose()
        await asyncio.to_thread(milvus.close)


def main() -> None:
    common = CommonSettings()
    logs.configure("tasks-worker", common)
    serve_metrics(common.metrics_host, TasksSettings().metrics_port, "tasks-worker")
    try:
        sys.exit(asyncio.run(run()))
    except StackError as exc:
        print(f"selene tasks-worker: {exc}", file=sys.stderr)
        sys.exit(2)
