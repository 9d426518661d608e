"""A real video manager for the API tests: uvicorn on a free port, the Redis registry under a prefix of
its own per test module, the session's Tansu broker, and agent doubles that speak the Kafka protocol."""

from __future__ import annotations

import asyncio
import base64
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from agents.video_manager.live_results import LiveResults
from agents.video_manager.preview import Previews
from analytics.events.chdb_warehouse import ChdbWarehouse
from analytics.images.backend import open_image_store
from analytics.events.luna_event_store import LunaEventStore
from analytics.recognition.event_descriptors import EventArchive, EventDescriptorStore
from analytics.recognition.attributes import AttributeStore
from analytics.recognition.face_store import FaceStore
from analytics.recognition.handlers import Handlers, open_handlers
from analytics.recognition.notifier import EventNotifier
from analytics.recognition.pipeline import HandlerPipeline
from analytics.recognition.policy_check import PolicyChecker
from analytics.recognition.service import Recognition, open_lists
from analytics.sdk.service import RemoteSdk
from analytics.sender.service import Sender
from analytics.tasks.api import TaskServices
from analytics.tasks.resources import Resources
from analytics.tasks.store import TaskStore
from infra.health import HealthMonitor
from infra.lifecycle import stop_within
from infra.process import free_port
from infra.root.api import ManagerParts
from infra.root.app import ApiContext, create_api
from infra.settings import (
    BrokerSettings,
    ImageStoreSettings,
    ManagerSettings,
    MilvusSettings,
    RedisSettings,
    SenderSettings,
    TasksSettings,
)
from schemas.agents import AgentAnnouncement, AgentMessage, StreamReport
from schemas.commands import StreamCommand
from schemas.errors import ErrorBody
from schemas.status import StreamStatus
from schemas.topics import AGENT_FEEDBACK, STREAM_COMMANDS
from tests.support import eventually

ADMIN = ("admin@selene.test", "admin-password")
FAST = ManagerSettings(
    alive_period=1.5, refresh_period=0.3, assignment_interval=0.2, leader_ttl=1.0,
    admin_login=ADMIN[0], admin_password=ADMIN[1], jwt_secret="selene-test-secret-of-thirty-two-bytes",
)
FAST_SENDER = SenderSettings(
    batch_seconds=0.2, retry_initial=0.05, retry_max=0.5, callback_attempts=2, callback_retry_initial=0.05,
    callback_retry_max=0.1, ws_queue_size=100,
)


def basic(login: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()}


@dataclass
class Manager:
    http: httpx.AsyncClient
    parts: ManagerParts
    url: str
    previews: Previews
    admin: dict[str, str] = field(default_factory=lambda: basic(*ADMIN))
    context: ApiContext | None = None  # what the app serves from, for tests that look behind the API

    async def create_stream(self, analytics: tuple[str, ...] = ("people_count",), **extra: Any) -> str:
        body = {"data": {"type": "videofile", "reference": "file:///video.mp4"}, "analytics": [{"name": a} for a in analytics], **extra}
        response = await self.http.post("/6/streams", json=body, headers=self.admin)
        assert response.status_code == 201, response.text
        return response.json()["stream_id"]

    async def stream(self, stream_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/6/streams/{stream_id}", headers=self.admin)
        assert response.status_code == 200, response.text
        return response.json()


async def new_account(vm: Manager, account_type: str = "user") -> dict[str, str]:
    """A fresh account's Basic credentials."""
    login, password = f"{uuid.uuid4().hex[:8]}@selene.test", "secret-1"
    body = {"login": login, "password": password, "account_type": account_type}
    response = await vm.http.post("/6/accounts", json=body, headers=vm.admin)
    assert response.status_code == 201, response.text
    return basic(login, password)


async def start_manager(
    redis_server: RedisSettings, broker: BrokerSettings, warehouse: ChdbWarehouse, prefix: str,
    settings: ManagerSettings = FAST, milvus: Any = None, images_root: Path | None = None,
) -> tuple[Manager, Callable[[], Any]]:
    """With a Milvus client, faces, lists and matching are served too (collections under ``prefix``)."""
    parts = ManagerParts(redis_server.url, broker.bootstrap, settings, prefix=prefix)
    await parts.start()
    results = LiveResults(broker.bootstrap, parts.manager, settings, queue_size=100)
    await results.start()
    recognition = None
    if milvus is not None:
        collections = MilvusSettings(collection_prefix=prefix.replace(":", "_") + "_")
        events = EventArchive(LunaEventStore(warehouse), EventDescriptorStore(milvus, collections),
                              EventDescriptorStore(milvus, collections, kind="body"))
        recognition = Recognition(FaceStore(milvus, collections), open_lists(parts.redis, prefix), events)
    previews = Previews(broker.bootstrap)
    image_store = open_image_store(ImageStoreSettings(root=images_root or Path(tempfile.mkdtemp(prefix="selene-images-"))), Path("."))
    await image_store.start()
    samples = image_store.samples
    sender = Sender(broker.bootstrap, f"{prefix}-sender", FAST_SENDER)
    await sender.start()
    tasks = None
    if recognition is not None:  # the tasks service over the same stores; workers are the tests' own
        task_res = Resources(recognition, image_store.images.storage, TaskStore(parts.redis, prefix),
                             TasksSettings(schedule_interval=0.2))
        tasks = TaskServices.build(task_res, broker.bootstrap)
        await tasks.start()
    context = ApiContext(
        warehouse=warehouse, health=HealthMonitor({}, 1, 1), manager=parts.manager, auth=parts.auth, results=results,
        recognition=recognition, sdk=RemoteSdk(), previews=previews, samples=samples, sender=sender,
        images=image_store.images,
        attributes=AttributeStore(parts.redis, prefix), tasks=tasks,
    )
    notifier = EventNotifier(broker.bootstrap)
    await notifier.start()
    if recognition is not None:
        checker = PolicyChecker(recognition.lists)
        assert context.sdk is not None
        pipeline = HandlerPipeline(recognition, context.sdk, samples, checker, notifier, context.attributes)
        context.handlers = Handlers(open_handlers(parts.redis, prefix), checker, pipeline)
        if tasks is not None:
            tasks.tasks.res.handlers = context.handlers  # the estimator task's
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(
        create_api(context), host="127.0.0.1", port=port, log_config=None, access_log=False, timeout_graceful_shutdown=5
    ))
    serving = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    http = httpx.AsyncClient(base_url=url, timeout=10)

    async def stop() -> None:
        await http.aclose()
        server.should_exit = True
        await stop_within("api", 10, serving)
        await stop_within("live results", 10, results.stop())
        await stop_within("previews", 10, previews.stop())
        await image_store.stop()
        await stop_within("sender", 10, sender.stop())
        if tasks is not None:
            await stop_within("tasks", 10, tasks.stop())
        await parts.stop()
        if recognition is not None:
            recognition.close()
        if context.sdk is not None:
            context.sdk.close()
        await notifier.stop()

    return Manager(http, parts, url, previews, context=context), stop


@pytest.fixture(scope="module")
async def vm(
    redis_server: RedisSettings, broker: BrokerSettings, warehouse: ChdbWarehouse, milvus_client: Any
) -> AsyncIterator[Manager]:
    manager, stop = await start_manager(redis_server, broker, warehouse, f"test:{uuid.uuid4().hex[:8]}", milvus=milvus_client)
    yield manager
    await stop()


class KafkaAgent:
    """An agent double speaking the Kafka protocol: registers, heartbeats with its streams' status, and
    runs (pretends to) what the manager starts."""

    def __init__(self, bootstrap: str, analytics: list[str], max_stream_count: int = 4) -> None:
        self.bootstrap = bootstrap
        self.agent_id = uuid.uuid4()
        self.analytics = analytics
        self.max_stream_count = max_stream_count
        self.running: dict[str, int] = {}  # stream_id -> version
        self.failing: dict[str, ErrorBody] = {}  # streams that fail right after they start, with this error
        self.dropped: dict[str, int] = {}  # frames each stream's run dropped, as its reports say
        self.commands: list[StreamCommand] = []
        self.registered = asyncio.Event()
        self.beating = True
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self.producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap)
        await self.producer.start()
        self.consumer = AIOKafkaConsumer(STREAM_COMMANDS.name, bootstrap_servers=self.bootstrap, group_id=None, auto_offset_reset="latest")
        await self.consumer.start()
        while not self.consumer.assignment():
            await self.consumer.getmany(timeout_ms=100)
        for partition in self.consumer.assignment():
            await self.consumer.position(partition)
        self._tasks = [asyncio.create_task(self._listen()), asyncio.create_task(self._beat())]
        await eventually(self._register, lambda done: done, timeout=20, interval=0.5)

    async def _register(self) -> bool:
        registration = AgentAnnouncement(name=f"double-{self.agent_id.hex[:6]}", max_stream_count=self.max_stream_count, analytic_names=self.analytics)
        await self.send(AgentMessage(agent_id=self.agent_id, kind="register", registration=registration, sent_at=datetime.now(UTC)))
        try:
            await asyncio.wait_for(self.registered.wait(), 0.5)
        except TimeoutError:
            return False
        return True

    async def send(self, message: AgentMessage) -> None:
        await self.producer.send_and_wait(AGENT_FEEDBACK.name, message.model_dump_json().encode(), key=str(self.agent_id).encode())

    async def _listen(self) -> None:
        async for record in self.consumer:
            command = StreamCommand.model_validate_json(record.value)
            if command.agent_id != self.agent_id:
                continue
            self.commands.append(command)
            if command.action == "registered":
                self.registered.set()
            elif command.action == "start":
                self.running[str(command.stream_id)] = command.version or 0
            elif command.action == "stop" and self.running.get(str(command.stream_id)) == command.version:
                del self.running[str(command.stream_id)]

    def reports(self) -> list[StreamReport]:
        now = datetime.now(UTC)
        reports = []
        for sid, version in list(self.running.items()):
            if sid in self.failing:
                del self.running[sid]
                reports.append(StreamReport(stream_id=sid, status=StreamStatus.FAILURE, version=version, time=now, last_error=self.failing[sid]))
            else:
                reports.append(StreamReport(stream_id=sid, status=StreamStatus.IN_PROGRESS, version=version, time=now,
                                            last_processed_frame_time=1.5, dropped_frames=self.dropped.get(sid)))
        return reports

    async def _beat(self) -> None:
        while True:
            if self.beating and self.registered.is_set():
                await self.send(AgentMessage(agent_id=self.agent_id, kind="heartbeat", streams=self.reports(), sent_at=datetime.now(UTC)))
            await asyncio.sleep(FAST.refresh_period)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.consumer.stop()
        await self.producer.stop()


@pytest.fixture
async def kafka_agents(broker: BrokerSettings) -> AsyncIterator[Callable[..., Any]]:
    started: list[KafkaAgent] = []

    async def make(analytics: list[str], max_stream_count: int = 4) -> KafkaAgent:
        agent = KafkaAgent(broker.bootstrap, analytics, max_stream_count)
        await agent.start()
        started.append(agent)
        return agent

    yield make
    for agent in started:
        await agent.stop()
