"""Assignment, liveness, autorestart, stale versions and leader failover, with agent doubles speaking
the Kafka protocol (and one over REST), against a real manager, Redis and broker."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request

from analytics.events.chdb_warehouse import ChdbWarehouse
from infra.process import free_port
from infra.settings import BrokerSettings, RedisSettings
from schemas.errors import STREAM_CONNECTION_LOST, VIDEO_DECODE_ERROR
from tests.integration.video_manager.conftest import (
    FAST,
    KafkaAgent,
    Manager,
    start_manager,
)
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def fresh(redis_server: RedisSettings, broker: BrokerSettings, warehouse: ChdbWarehouse) -> AsyncIterator[Manager]:
    """A manager of its own per test, so that agents of one test never take another's streams."""
    manager, stop = await start_manager(redis_server, broker, warehouse, f"test:{uuid.uuid4().hex[:8]}")
    yield manager
    await stop()


async def agents_view(vm: Manager) -> dict[str, dict[str, Any]]:
    response = await vm.http.get("/6/agents", headers=vm.admin)
    assert response.status_code == 200, response.text
    return {a["agent_id"]: a for a in response.json()["agents"]}


async def test_capability_and_capacity_decide_assignment(fresh: Manager, kafka_agents: Callable[..., Any]) -> None:
    counter: KafkaAgent = await kafka_agents(["people_count"], max_stream_count=2)
    tracker: KafkaAgent = await kafka_agents(["people_count", "human_tracking"], max_stream_count=1)
    tracking = await fresh.create_stream(analytics=("human_tracking",))
    await eventually(lambda: asyncio.sleep(0, tracker.running), lambda r: tracking in r, timeout=10)
    counting = [await fresh.create_stream() for _ in range(3)]
    await eventually(lambda: asyncio.sleep(0, dict(counter.running)), lambda r: len(r) == 2, timeout=10)
    await asyncio.sleep(3 * FAST.assignment_interval)
    assert set(counter.running) < set(counting) and set(tracker.running) == {tracking}
    waiting = (set(counting) - set(counter.running)).pop()
    assert (await fresh.stream(waiting))["status"] == 0
    start = next(c for c in tracker.commands if c.action == "start")
    assert start.config is not None and start.config.analytics[0].analytic_name == "human_tracking"
    assert (await fresh.stream(tracking))["status"] == 1  # the agent's heartbeat says in_progress
    view = await agents_view(fresh)
    assert set(view[str(counter.agent_id)]["stream_ids"]) == set(counter.running)
    assert view[str(counter.agent_id)]["status"] == "ready"


async def test_a_stream_beyond_capacity_says_why_it_waits_until_an_agent_takes_it(
    fresh: Manager, kafka_agents: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("WARNING", logger="agents.video_manager.assignment")
    first: KafkaAgent = await kafka_agents(["people_count"], max_stream_count=1)
    running = await fresh.create_stream()
    await eventually(lambda: asyncio.sleep(0, dict(first.running)), lambda r: running in r, timeout=10)
    waiting = await fresh.create_stream()
    stream = await eventually(lambda: fresh.stream(waiting), lambda s: s["last_error"] is not None, timeout=10)
    assert stream["status"] == 0 and stream["last_error"]["error_code"] == 45020
    assert stream["last_error"]["detail"] == (
        "No agent can take the stream now: every ready agent is busy (1 of 1 streams, their max_stream_count)")
    told = [r for r in caplog.records if r.getMessage() == "stream waits for an agent"]
    assert len(told) == 1 and told[0].stream_id == waiting
    await asyncio.sleep(3 * FAST.assignment_interval)
    assert len([r for r in caplog.records if r.getMessage() == "stream waits for an agent"]) == 1  # once per reason
    second: KafkaAgent = await kafka_agents(["people_count"], max_stream_count=1)
    await eventually(lambda: asyncio.sleep(0, dict(second.running)), lambda r: waiting in r, timeout=10)
    assert (await eventually(lambda: fresh.stream(waiting), lambda s: s["status"] == 1, timeout=10))["last_error"] is None


async def test_dead_agent_streams_move_to_the_other(fresh: Manager, kafka_agents: Callable[..., Any]) -> None:
    first: KafkaAgent = await kafka_agents(["people_count"], max_stream_count=5)
    ids = [await fresh.create_stream() for _ in range(2)]
    await eventually(lambda: asyncio.sleep(0, dict(first.running)), lambda r: len(r) == 2, timeout=10)
    # The first agent's heartbeat must have reported them in_progress before it falls silent.
    for stream_id in ids:
        await eventually(lambda: fresh.stream(stream_id), lambda s: s["status"] == 1, timeout=10)
    second: KafkaAgent = await kafka_agents(["people_count"], max_stream_count=5)
    first.beating = False
    died = time.monotonic()
    await eventually(lambda: asyncio.sleep(0, dict(second.running)), lambda r: set(r) == set(ids), timeout=10, interval=0.05)
    assert time.monotonic() - died < FAST.alive_period + FAST.refresh_period + FAST.assignment_interval + 1.0
    assert (await agents_view(fresh))[str(first.agent_id)]["status"] == "not_ready"
    logs = (await fresh.http.get("/6/streams/logs", params={"stream_ids": ids[0], "order": "asc"}, headers=fresh.admin)).json()["logs"]
    statuses = [e["status"] for e in logs if e["analytic_index"] is None]
    assert statuses[:4] == [0, 1, 6, 0], statuses  # pending, in_progress, handler_lost, pending again


async def test_failing_stream_restarts_attempt_count_times_then_fails(fresh: Manager, kafka_agents: Callable[..., Any]) -> None:
    agent: KafkaAgent = await kafka_agents(["people_count"])
    restart = {"restart": 1, "attempt_count": 3, "delay": 0}
    unstable = await fresh.create_stream(restart=restart)
    agent.failing[unstable] = STREAM_CONNECTION_LOST.body("rtsp://cam", "timeout")
    broken = await fresh.create_stream(restart=restart)
    agent.failing[broken] = VIDEO_DECODE_ERROR.body("rtsp://cam")

    def starts(stream_id: str) -> int:
        return sum(1 for c in agent.commands if c.action == "start" and str(c.stream_id) == stream_id)

    final = await eventually(lambda: fresh.stream(broken), lambda s: s["status"] == 4, timeout=15)
    await asyncio.sleep(5 * FAST.assignment_interval)
    assert starts(broken) == 4  # the first run and three restarts, then no more
    autorestart = final["analytics"][0]["autorestart"]
    assert autorestart["current_attempt"] == 3 and autorestart["status"] == "failed"
    assert autorestart["last_attempt_time"] is not None
    assert final["last_error"]["error_code"] == VIDEO_DECODE_ERROR.code
    assert (await fresh.stream(broken))["status"] == 4
    # A lost connection restarts the stream without using up an attempt.
    assert starts(unstable) > 4
    assert (await fresh.stream(unstable))["analytics"][0]["autorestart"]["current_attempt"] == 0


async def test_replace_stops_the_old_version_pause_stops_resume_restarts(fresh: Manager, kafka_agents: Callable[..., Any]) -> None:
    agent: KafkaAgent = await kafka_agents(["people_count"])
    stream_id = await fresh.create_stream()
    await eventually(lambda: asyncio.sleep(0, dict(agent.running)), lambda r: r.get(stream_id) == 1, timeout=10)
    body = {"data": {"type": "stream", "reference": "rtsp://cam/2"}, "analytics": [{"name": "people_count"}]}
    assert (await fresh.http.put(f"/6/streams/{stream_id}", json=body, headers=fresh.admin)).status_code == 200
    await eventually(lambda: asyncio.sleep(0, dict(agent.running)), lambda r: r.get(stream_id) == 2, timeout=10)
    assert any(c.action == "stop" and c.version == 1 for c in agent.commands)
    await fresh.http.patch(f"/6/streams/{stream_id}", json={"action": "pause"}, headers=fresh.admin)
    await eventually(lambda: asyncio.sleep(0, dict(agent.running)), lambda r: stream_id not in r, timeout=10)
    await asyncio.sleep(3 * FAST.assignment_interval)
    assert (await fresh.stream(stream_id))["status"] == 5 and stream_id not in agent.running
    await fresh.http.patch(f"/6/streams/{stream_id}", json={"action": "resume"}, headers=fresh.admin)
    await eventually(lambda: fresh.stream(stream_id), lambda s: s["status"] == 1, timeout=10)


async def test_rest_agent_pulls_streams_and_gets_stop_for_stale_versions(fresh: Manager) -> None:
    registration = {"name": "external", "max_stream_count": 2, "analytic_names": ["people_count"], "port": 8000}
    registered = (await fresh.http.post("/6/agents", json=registration, headers=fresh.admin)).json()
    agent_id = registered["agent_id"]
    assert registered["alive_period"] == FAST.alive_period and registered["refresh_period"] == FAST.refresh_period
    stream_id = await fresh.create_stream()

    async def pull() -> list[dict[str, Any]]:
        return (await fresh.http.post(f"/6/agents/{agent_id}/streams", headers=fresh.admin)).json()["streams"]

    pulled = await eventually(pull, lambda s: bool(s), timeout=10)
    assert [s["stream_id"] for s in pulled] == [stream_id] and pulled[0]["analytics"][0]["parameters"]["probe_count"] == 3
    assert await pull() == []  # handed out once per version
    now = datetime.now(UTC).isoformat()
    report = {"streams": [{"stream_id": stream_id, "status": 1, "version": 1, "time": now, "analytic_indexes": [0]}]}
    feedback = await fresh.http.post(f"/6/agents/{agent_id}/streams/feedback", json=report, headers=fresh.admin)
    assert feedback.status_code == 200 and feedback.json() == {"streams": []}
    assert (await fresh.stream(stream_id))["status"] == 1
    stale = {"streams": [{"stream_id": stream_id, "status": "in_progress", "version": 7, "time": now}]}
    answer = (await fresh.http.post(f"/6/agents/{agent_id}/streams/feedback", json=stale, headers=fresh.admin)).json()
    assert answer == {"streams": [{"action": "stop", "stream_id": stream_id, "version": 7}]}
    unknown = await fresh.http.post(f"/6/agents/{uuid.uuid4()}/streams/feedback", json=report, headers=fresh.admin)
    assert unknown.status_code == 404 and unknown.json()["error_code"] == 11020
    assert (await fresh.http.delete(f"/6/agents/{agent_id}", headers=fresh.admin)).status_code == 204
    assert (await fresh.stream(stream_id))["status"] == 0


async def test_second_manager_takes_over_when_the_leader_dies(
    redis_server: RedisSettings, broker: BrokerSettings, warehouse: ChdbWarehouse, kafka_agents: Callable[..., Any]
) -> None:
    prefix = f"test:{uuid.uuid4().hex[:8]}"
    leader, stop_leader = await start_manager(redis_server, broker, warehouse, prefix)
    follower, stop_follower = await start_manager(redis_server, broker, warehouse, prefix)
    try:
        await eventually(lambda: asyncio.sleep(0, leader.parts.leader.held), bool, timeout=5)
        assert not follower.parts.leader.held
        agent: KafkaAgent = await kafka_agents(["people_count"])
        first = await follower.create_stream()  # any instance serves the API
        await eventually(lambda: asyncio.sleep(0, dict(agent.running)), lambda r: first in r, timeout=10)
        leader.parts.leader.held = False  # dies like a crash: its lease is not given back, it runs out
        await stop_leader()
        second = await follower.create_stream()
        await eventually(lambda: asyncio.sleep(0, dict(agent.running)), lambda r: second in r, timeout=FAST.leader_ttl + 5)
        assert follower.parts.leader.held
        await eventually(lambda: follower.stream(second), lambda s: s["status"] == 1, timeout=5)
    finally:
        await stop_follower()


async def test_a_restarted_leader_keeps_agents_it_has_not_heard_yet(
    redis_server: RedisSettings, broker: BrokerSettings, warehouse: ChdbWarehouse, kafka_agents: Callable[..., Any]
) -> None:
    """The API (the only manager) dies for longer than alive_period while its agents keep beating: the new
    leader never read those heartbeats, so it must hear the agents for an alive_period before expiring
    them, not restart every stream; an agent that stays silent is still expired."""
    prefix = f"test:{uuid.uuid4().hex[:8]}"
    first, stop_first = await start_manager(redis_server, broker, warehouse, prefix)
    alive: KafkaAgent = await kafka_agents(["people_count"], max_stream_count=1)
    silent: KafkaAgent = await kafka_agents(["people_count"], max_stream_count=1)
    ids = [await first.create_stream() for _ in range(2)]
    for stream_id in ids:
        await eventually(lambda: first.stream(stream_id), lambda s: s["status"] == 1, timeout=10)
    [kept] = [s for s in ids if s in alive.running]
    first.parts.leader.held = False  # a crash: the lease is not given back
    await stop_first()
    silent.beating = False
    await asyncio.sleep(FAST.alive_period + 1.0)
    second, stop_second = await start_manager(redis_server, broker, warehouse, prefix)
    try:
        view = await eventually(lambda: agents_view(second), lambda v: v[str(silent.agent_id)]["status"] == "not_ready",
                                timeout=FAST.leader_ttl + FAST.alive_period + 5, interval=0.05)
        assert second.parts.leader.held
        listened = (datetime.now(UTC) - second.parts.leader.heard_since).total_seconds()
        assert listened >= FAST.alive_period
        assert view[str(alive.agent_id)]["status"] == "ready"
        assert [c.stream_id for c in alive.commands if c.action == "start"] == [uuid.UUID(kept)]  # never restarted
        assert (await second.stream(kept))["status"] == 1
    finally:
        await stop_second()


async def test_status_changes_fire_notification_callbacks(fresh: Manager, kafka_agents: Callable[..., Any]) -> None:
    received: list[dict[str, Any]] = []
    receiver = FastAPI()

    @receiver.post("/hook")
    async def hook(request: Request) -> dict[str, str]:
        received.append({"body": await request.json(), "auth": request.headers.get("authorization")})
        return {}

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(receiver, host="127.0.0.1", port=port, log_config=None, access_log=False))
    serving = asyncio.create_task(server.serve())
    try:
        await kafka_agents(["people_count"])
        callback = {"type": "http", "url": f"http://127.0.0.1:{port}/hook", "authorization": {"type": "bearer", "token": "t0k"}}
        stream_id = await fresh.create_stream(notification_policy={"enable": 1, "stream_callbacks": [callback]})
        await eventually(lambda: asyncio.sleep(0, [r["body"]["status"] for r in received]), lambda s: "in_progress" in s, timeout=10)
        assert received[0]["body"]["status"] == "pending" and received[0]["body"]["stream_id"] == stream_id
        assert received[0]["auth"] == "Bearer t0k"
    finally:
        server.should_exit = True
        await serving
