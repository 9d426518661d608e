"""frames_dropped over real HTTP, the Redis registry and the broker: the agent's drops from its heartbeats,
the workers' stale frames from their processing reports (summed over workers, running totals), kept apart
from the stream record (no new revision, no config sent) and gone with the stream."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer

from infra.settings import BrokerSettings
from schemas.agents import AgentMessage, ProcessingReport
from schemas.topics import AGENT_FEEDBACK
from tests.integration.video_manager.conftest import Manager
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def _worker_report(bootstrap: str, worker_id: uuid.UUID, counts: dict[str, int]) -> None:
    message = AgentMessage(agent_id=worker_id, kind="processing", sent_at=datetime.now(UTC), processing=[
        ProcessingReport(stream_id=uuid.UUID(s), frames_stale=n) for s, n in counts.items()])
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(AGENT_FEEDBACK.name, message.model_dump_json().encode(), key=str(worker_id).encode())
    finally:
        await producer.stop()


async def test_drops_of_agent_and_workers_show_in_get_and_list(vm: Manager, broker: BrokerSettings,
                                                               kafka_agents: Any) -> None:
    agent = await kafka_agents(["people_count"])
    stream_id = await vm.create_stream()
    assert (await vm.stream(stream_id))["frames_dropped"] == {"agent": 0, "processing": 0}
    await eventually(lambda: vm.stream(stream_id), lambda s: s["status"] == 1, timeout=15)
    revision = (await vm.parts.manager.registry.streams.get(uuid.UUID(stream_id))).revision
    agent.dropped[stream_id] = 7
    one, two, unknown = uuid.uuid4(), uuid.uuid4(), str(uuid.uuid4())
    await _worker_report(broker.bootstrap, one, {stream_id: 3, unknown: 5})
    await _worker_report(broker.bootstrap, two, {stream_id: 4})
    await _worker_report(broker.bootstrap, one, {stream_id: 10})  # a running total replaces the last one
    shown = await eventually(lambda: vm.stream(stream_id), lambda s: s["frames_dropped"] == {"agent": 7, "processing": 14},
                             timeout=15)
    assert shown["status"] == 1
    listed = (await vm.http.get("/6/streams", params={"stream_ids": stream_id}, headers=vm.admin)).json()["streams"]
    assert [s["frames_dropped"] for s in listed] == [{"agent": 7, "processing": 14}]
    registry = vm.parts.manager.registry.streams
    record = await registry.get(uuid.UUID(stream_id))
    assert record is not None and record.revision == revision  # counts change no record, send no config
    assert not await registry.store.redis.exists(registry.dropped_key(unknown))  # no counts of unknown streams
    assert (await vm.http.delete(f"/6/streams/{stream_id}", headers=vm.admin)).status_code == 204
    assert not await registry.store.redis.exists(registry.dropped_key(stream_id))
