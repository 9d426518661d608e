"""``selene api``: the REST API and video manager; in embedded mode it also owns chdb, Milvus Lite and
the warehouse sink, because those stores admit one process per data path."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import redis.asyncio as aioredis
import uvicorn

from agents.video_manager.bus import Bus
from agents.video_manager.leader import Leader
from agents.video_manager.live_results import LiveResults
from agents.video_manager.manager import VideoManager
from agents.video_manager.preview import Previews
from agents.video_manager.registry import Registry
from analytics.events import sink
from analytics.events.setup import open_warehouse
from analytics.events.warehouse import Warehouse
from analytics.images.backend import open_image_store
from analytics.events.luna_event_store import LunaEventStore
from analytics.recognition.event_descriptors import EventArchive, EventDescriptorStore
from analytics.recognition.attributes import AttributeStore
from analytics.recognition.face_store import FaceStore
from analytics.recognition.handlers import Handlers, open_handlers
from analytics.recognition.notifier import EventNotifier
from analytics.recognition.pipeline import HandlerPipeline
from analytics.recognition.policy_check import PolicyChecker
from analytics.recognition.milvus import open_milvus
from analytics.recognition.service import Recognition, open_lists
from analytics.recognition.track_matcher import TrackMatcher
from analytics.sdk.service import RemoteSdk
from analytics.sender.service import Sender
from analytics.tasks.api import TaskServices
from analytics.tasks.worker import TaskWorker, task_worker_group
from infra import heartbeat, logs, metrics
from infra.auth.authenticator import Authenticator
from infra.auth.store import AccountStore
from infra.claimcheck import ClaimCheck
from infra.health import HealthMonitor, Probe
from infra.kafka import ensure_topics, probe_broker
from infra.lag import lag_probe
from infra.lifecycle import Service, start_when_possible, stop_within
from infra.process import ensure_port_free
from infra.root.app import ApiContext, create_api
from infra.root.sink import matcher_group, sender_group, sink_group
from infra.root.sink import matcher_group, sink_group
from infra.root.tasks_worker import resources as task_resources, worker_in_api
from infra.settings import (
    ApiSettings,
    AttributeSettings,
    ImageStoreSettings,
    BrokerSettings,
    CommonSettings,
    ManagerSettings,
    MatcherSettings,
    MilvusSettings,
    RedisSettings,
    SenderSettings,
    SinkSettings,
    TasksSettings,
    WarehouseSettings,
    WorkerSettings,
    env_name,
)
from schemas.topics import FRAMES

log = logging.getLogger(__name__)
STOP_STEP_SECONDS = 10.0  # longest wait for one part to stop before it is abandoned


def _heartbeat_probe(client: aioredis.Redis, part: str) -> Probe:
    async def probe() -> None:
        if not await heartbeat.alive(client, part):
            raise ConnectionError(f"no {part} has sent a heartbeat recently")

    return probe


def build_probes(
    broker: BrokerSettings, redis_client: aioredis.Redis, warehouse: Warehouse, milvus: Any, parts: tuple[str, ...]
) -> dict[str, Probe]:
    async def broker_probe() -> None:
        await probe_broker(broker.host, broker.port, timeout=1.0)

    async def redis_probe() -> None:
        await redis_client.ping()

    async def milvus_probe() -> None:
        await asyncio.to_thread(milvus.list_collections)

    probes: dict[str, Probe] = {
        "broker": broker_probe,
        "redis": redis_probe,
        "clickhouse": warehouse.ping,
        "milvus": milvus_probe,
    }
    probes.update({part: _heartbeat_probe(redis_client, part) for part in parts})
    return probes


class ManagerParts:
    """The video manager as one process runs it: registry, Kafka bus, manager services, auth, the leader."""

    def __init__(self, redis_url: str, bootstrap: str, settings: ManagerSettings, prefix: str = "selene:vm") -> None:
        # A blocking pool: a burst of requests waits for a free connection instead of failing.
        pool = aioredis.BlockingConnectionPool.from_url(
            redis_url, max_connections=200, timeout=10, socket_timeout=5, socket_connect_timeout=2
        )
        self.redis = aioredis.Redis(connection_pool=pool)
        self.bus = Bus(bootstrap)
        registry = Registry.open(self.redis, prefix)
        self.manager = VideoManager(registry, self.bus, settings)
        self.auth = Authenticator(AccountStore.open(self.redis, prefix), settings)
        self.leader = Leader(self.manager, settings, bootstrap)

    async def start(self) -> None:
        await self.bus.start()
        await self.manager.start()
        await self.auth.ensure_admin()
        await self.leader.start()

    async def stop(self) -> None:
        await stop_within("leader", STOP_STEP_SECONDS, self.leader.stop())
        await stop_within("manager", STOP_STEP_SECONDS, self.manager.stop())
        await stop_within("bus", STOP_STEP_SECONDS, self.bus.stop())
        await stop_within("redis", STOP_STEP_SECONDS, self.redis.aclose())


async def _keep_running(service: Service, beat: heartbeat.Heartbeat | None = None) -> None:
    """A Kafka service embedded in the API process (sink, matcher): restart it here if it ever ends by itself."""
    while True:
        await start_when_possible(service)
        if beat is not None:
            await beat.start()
        try:
            await service.wait()
        except Exception as exc:  # noqa: BLE001 - logged and restarted; results are idempotent
            log.error("service ended, restarting", extra={"service": service.name, "error": str(exc)})
            metrics.RESTARTS.labels(service.name).inc()
        if beat is not None:
            await beat.stop()
        await service.stop()


async def serve() -> None:
    common, api = CommonSettings(), ApiSettings()
    broker, redis_settings = BrokerSettings(), RedisSettings()
    logs.configure("api", common)
    ensure_port_free("api", api.host, api.port, env_name(ApiSettings, "port"))

    warehouse = await open_warehouse(WarehouseSettings(), common)
    # The sink first: after a restart, the frames and events that queued meanwhile wait only for it.
    beats: list[heartbeat.Heartbeat] = []
    sinker: sink.Sink | None = None
    sink_task: asyncio.Task[None] | None = None
    if api.run_sink:
        sinker = sink.Sink(broker.bootstrap, sink_group(WorkerSettings()), warehouse, SinkSettings())
        beats.append(heartbeat.Heartbeat(redis_settings.url, "sink"))
        service = Service("sink", sinker.start, sinker.wait, sinker.stop)
        sink_task = asyncio.create_task(_keep_running(service, beats[-1]))
    milvus = await asyncio.to_thread(open_milvus, MilvusSettings(), common)
    redis_client = aioredis.from_url(redis_settings.url, socket_timeout=1, socket_connect_timeout=1)
    probes = build_probes(broker, redis_client, warehouse, milvus, ("worker", "agent", "sink"))
    probes["worker-lag"] = lag_probe(broker.bootstrap, WorkerSettings().app_id, FRAMES.name, api.health_lag_seconds)
    monitor = HealthMonitor(probes, api.health_interval, api.health_timeout)
    await ensure_topics(broker.bootstrap, broker.topic_partitions, broker.replication_factor)
    manager_settings = ManagerSettings()
    manager = ManagerParts(redis_settings.url, broker.bootstrap, manager_settings)
    await manager.start()
    results = LiveResults(broker.bootstrap, manager.manager, manager_settings, api.ws_queue_size)
    await results.start()
    faces = FaceStore(milvus, MilvusSettings())
    events = EventArchive(LunaEventStore(warehouse), EventDescriptorStore(milvus, MilvusSettings()),
                          EventDescriptorStore(milvus, MilvusSettings(), kind="body"))
    recognition = Recognition(faces, open_lists(manager.redis), events)
    matcher = TrackMatcher(broker.bootstrap, matcher_group(WorkerSettings()), faces, MatcherSettings(), events)
    matcher_task = asyncio.create_task(_keep_running(Service("matcher", matcher.start, matcher.wait, matcher.stop)))
    image_store = open_image_store(ImageStoreSettings(), common.data_dir)
    await image_store.start()
    samples = image_store.samples
    sender = Sender(broker.bootstrap, sender_group(WorkerSettings()), SenderSettings())
    sender_tasks = [asyncio.create_task(_keep_running(service)) for service in sender.services()]
    preview_claims = ClaimCheck(redis_settings.url)  # frames an agent claim-checked, read by the previews
    previews = Previews(broker.bootstrap, preview_claims)
    tasks_settings = TasksSettings()
    task_res = task_resources(manager.redis, recognition, image_store.images.storage, tasks_settings)
    task_services = TaskServices.build(task_res, broker.bootstrap)
    await task_services.start()
    task_worker_run: asyncio.Task[None] | None = None
    task_worker: TaskWorker | None = None
    if worker_in_api(tasks_settings, MilvusSettings(), WarehouseSettings(), common):  # Lite or chdb: only here
        task_worker = TaskWorker(broker.bootstrap, task_worker_group(WorkerSettings().app_id), task_res)
        task_worker_run = asyncio.create_task(_keep_running(
            Service("tasks-worker", task_worker.start, task_worker.wait, task_worker.stop)))
    sdk = RemoteSdk()
    notifier = EventNotifier(broker.bootstrap)
    await notifier.start()
    checker = PolicyChecker(recognition.lists)
    attributes = AttributeStore(manager.redis, "selene:vm", AttributeSettings())
    pipeline = HandlerPipeline(recognition, sdk, samples, checker, notifier, attributes)
    context = ApiContext(
        warehouse=warehouse, health=monitor, manager=manager.manager, auth=manager.auth, results=results,
        recognition=recognition, sdk=sdk, previews=previews, samples=samples, sender=sender,
        images=image_store.images, handlers=Handlers(open_handlers(manager.redis), checker, pipeline),
        attributes=attributes, tasks=task_services,
    )
    task_res.handlers = context.handlers  # the estimator task runs them (the worker in this process)
    context.warehouse_version = (await warehouse.query("SELECT version() AS v"))[0]["v"]
    await monitor.start()

    beats.insert(0, heartbeat.Heartbeat(redis_settings.url, "api"))
    await beats[0].start()

    config = uvicorn.Config(
        create_api(context), host=api.host, port=api.port, log_config=None, access_log=False,
        timeout_graceful_shutdown=STOP_STEP_SECONDS,
    )
    server = uvicorn.Server(config)
    log.info("api listening", extra={"url": f"http://{api.host}:{api.port}/6"})
    try:
        await server.serve()
    finally:
        for beat in beats:
            await beat.stop()
        if sink_task is not None:
            sink_task.cancel()
            await asyncio.gather(sink_task, return_exceptions=True)
        if sinker is not None:
            await sinker.stop()
        matcher_task.cancel()
        await asyncio.gather(matcher_task, return_exceptions=True)
        if task_worker_run is not None and task_worker is not None:
            task_worker_run.cancel()
            await asyncio.gather(task_worker_run, return_exceptions=True)
            await stop_within("tasks-worker", STOP_STEP_SECONDS, task_worker.stop())
        await stop_within("tasks", STOP_STEP_SECONDS, task_services.stop())
        await stop_within("matcher", STOP_STEP_SECONDS, matcher.stop())
        for task in sender_tasks:
            task.cancel()
        await asyncio.gather(*sender_tasks, return_exceptions=True)
        await stop_within("sender", STOP_STEP_SECONDS, sender.stop())
        recognition.close()
        await stop_within("event notifier", STOP_STEP_SECONDS, notifier.stop())
        if context.sdk is not None:
            context.sdk.close()
        await stop_within("previews", STOP_STEP_SECONDS, previews.stop())
        await stop_within("image store", STOP_STEP_SECONDS, image_store.stop())
        await preview_claims.close()
        await stop_within("live results", STOP_STEP_SECONDS, results.stop())
        await manager.stop()
        await monitor.stop()
        await redis_client.aclose()
        await asyncio.to_thread(milvus.close)
        await warehouse.stop()


def main() -> None:
    asyncio.run(serve())
