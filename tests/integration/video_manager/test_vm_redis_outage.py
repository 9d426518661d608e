"""Redis stopped under a running API: every route that needs it answers 503 with LUNA's service-unavailable
body naming redis (not 500 "Unknown error"), and the API serves again once Redis is back."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from analytics.events.chdb_warehouse import ChdbWarehouse
from infra.process import ManagedProcess, free_port
from infra.root import embedded
from infra.settings import BrokerSettings, RedisSettings
from tests.integration.video_manager.conftest import FAST, start_manager
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def own_redis(tmp_path: Path) -> AsyncIterator[tuple[RedisSettings, ManagedProcess]]:
    """A redis-server of this test's own, to stop and start again (the session's serves other tests)."""
    settings = RedisSettings(url=f"redis://127.0.0.1:{free_port()}/0")
    process = embedded.redis(settings, tmp_path / "redis", tmp_path / "run")
    process.start()
    process.wait_ready(30)
    yield settings, process
    process.stop(10)


async def test_redis_down_answers_503_naming_redis_then_recovers(
    own_redis: tuple[RedisSettings, ManagedProcess], broker: BrokerSettings, warehouse: ChdbWarehouse,
    kafka_agents: Callable[..., Any],
) -> None:
    settings, redis = own_redis
    vm, stop = await start_manager(settings, broker, warehouse, f"test:{uuid.uuid4().hex[:8]}")
    try:
        await kafka_agents(["people_count"])
        stream_id = await vm.create_stream()
        redis.stop(10)
        calls = [
            vm.http.get("/6/streams", headers=vm.admin),
            vm.http.get(f"/6/streams/{stream_id}", headers=vm.admin),
            vm.http.post("/6/streams", headers=vm.admin, json={
                "data": {"type": "videofile", "reference": "file:///video.mp4"}, "analytics": [{"name": "people_count"}]}),
            vm.http.get("/6/agents", headers=vm.admin),
            vm.http.delete(f"/6/streams/{stream_id}", headers=vm.admin),
        ]
        for call in calls:
            response = await call
            assert response.status_code == 503, (response.request.url, response.text)
            body = response.json()
            assert body["error_code"] == 45004 and body["desc"] == "Service Unavailable", body
            assert body["detail"].startswith("redis is unavailable: "), body
            assert response.headers["Retry-After"] == "1"
        redis.start()
        redis.wait_ready(30)
        # Back within seconds (a pooled connection to the old server may fail once more, with 503), data kept.
        back = await eventually(lambda: vm.http.get(f"/6/streams/{stream_id}", headers=vm.admin),
                                lambda r: r.status_code != 503, timeout=10)
        assert back.status_code == 200 and back.json()["stream_id"] == stream_id
    finally:
        await stop()


async def test_agents_beating_through_a_redis_outage_keep_their_streams(
    own_redis: tuple[RedisSettings, ManagedProcess], broker: BrokerSettings, warehouse: ChdbWarehouse,
    kafka_agents: Callable[..., Any],
) -> None:
    """Redis down for longer than alive_period: the heartbeats meanwhile could not be recorded, so the leader
    hears the agents for an alive_period once Redis is back before expiring any (the fault suite's redis
    kill found the stream restarted from frame 0)."""
    settings, redis = own_redis
    vm, stop = await start_manager(settings, broker, warehouse, f"test:{uuid.uuid4().hex[:8]}")
    try:
        agent = await kafka_agents(["people_count"])
        stream_id = await vm.create_stream()
        await eventually(lambda: vm.stream(stream_id), lambda s: s["status"] == 1, timeout=10)
        redis.stop(10)
        await asyncio.sleep(FAST.alive_period + 1.5)
        redis.start()
        redis.wait_ready(30)
        await eventually(lambda: vm.http.get("/6/agents", headers=vm.admin), lambda r: r.status_code == 200, timeout=10)
        await asyncio.sleep(FAST.alive_period + 1.0)  # past the alive_period the leader listens through
        agents = (await vm.http.get("/6/agents", headers=vm.admin)).json()["agents"]
        assert [a["status"] for a in agents if a["agent_id"] == str(agent.agent_id)] == ["ready"]
        assert [c.stream_id for c in agent.commands if c.action == "start"] == [uuid.UUID(stream_id)]
        assert (await vm.stream(stream_id))["status"] == 1
    finally:
        await stop()
