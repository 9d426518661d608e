"""The agent protocol over the real broker, against a manager double: register, heartbeat, start, stop,
stale versions, max_stream_count, bad commands."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from aiokafka import AIOKafkaProducer

from agents.video_agent.agent import VideoAgent
from agents.video_agent.publisher import FramePublisher
from infra.settings import AgentSettings, BrokerSettings
from schemas.status import StreamStatus
from schemas.topics import STREAM_COMMANDS
from tests.support import eventually
from tests.support_agent import DATA, FrameReader, ManagerDouble, stream_config

pytestmark = pytest.mark.asyncio(loop_scope="session")


@dataclass
class Running:
    agent: VideoAgent
    manager: ManagerDouble
    frames: FrameReader
    stop: asyncio.Event
    task: asyncio.Task[None]


@pytest.fixture
async def running(broker: BrokerSettings) -> AsyncIterator[Running]:
    settings = AgentSettings(
        name="agent-under-test", max_stream_count=2, decoder="cpu", register_retry=0.5,
        reconnect_initial=0.1, reconnect_max=0.5,
    )
    manager = await ManagerDouble.start(broker.bootstrap)
    frames = await FrameReader.start(broker.bootstrap)
    publisher = FramePublisher(broker.bootstrap)
    await publisher.start()
    agent = VideoAgent(settings, broker.bootstrap, publisher)
    stop = asyncio.Event()
    task = asyncio.create_task(agent.run(stop))
    try:
        yield Running(agent, manager, frames, stop, task)
    finally:
        stop.set()
        await asyncio.wait_for(task, 15)
        await publisher.stop()
        await frames.stop()
        await manager.stop()


async def _registered(r: Running) -> None:
    [first, *_] = await eventually(lambda: asyncio.sleep(0, r.manager.of(r.agent.agent_id, "register")), bool, 15)
    assert first.registration is not None
    assert (first.registration.name, first.registration.max_stream_count) == ("agent-under-test", 2)
    assert first.registration.analytic_names == ["people_count", "human_tracking"]
    await r.manager.send(r.agent.agent_id, "registered", alive_period=3.0, refresh_period=0.3)
    await asyncio.wait_for(r.agent.registered.wait(), 10)


async def _report(r: Running, stream_id: object, done: object) -> object:
    return await eventually(
        lambda: asyncio.sleep(0, r.manager.reports(r.agent.agent_id, stream_id)),
        lambda reports: bool(reports) and done(reports[-1]),
        timeout=20,
    )


async def test_register_heartbeat_start_done_and_stale_versions(running: Running) -> None:
    r = running
    await _registered(r)
    await eventually(lambda: asyncio.sleep(0, r.manager.of(r.agent.agent_id, "heartbeat")), lambda h: len(h) >= 3, 10)

    v2 = stream_config(DATA / "vtest_h264.mp4", version=2, rate={"period": 5, "unit": "frame"})
    await r.manager.start_stream(r.agent.agent_id, v2)
    reports = await _report(r, v2.stream_id, lambda s: s.status == StreamStatus.DONE)
    last = reports[-1]
    assert (last.version, last.decoder, last.last_error) == (2, "cpu", None)
    assert last.last_processed_frame_time == pytest.approx(2.5)
    assert [h.frame_number for h in r.frames.headers(v2.stream_id)] == [0, 5, 10, 15, 20, 25]
    # Then the end-of-video marker, so that processors end the tracks and events still open.
    await eventually(lambda: asyncio.sleep(0, r.frames.ends[v2.stream_id]), bool, timeout=10)
    [end] = r.frames.ends[v2.stream_id]
    assert (end.frame_number, end.time_offset, end.size, end.version) == (26, 2.5, 0, 2)

    # A late command for version 1 is stale: neither start nor stop touches version 2.
    v1 = v2.model_copy(update={"version": 1, "data": v2.data.model_copy(update={"reference": "/nope.mp4"})})
    await r.manager.start_stream(r.agent.agent_id, v1)
    await r.manager.send(r.agent.agent_id, "stop", stream_id=v2.stream_id, version=1)
    await asyncio.sleep(1.0)
    assert all(s.version == 2 for s in r.manager.reports(r.agent.agent_id, v2.stream_id))
    assert v2.stream_id not in r.agent.runners or r.agent.runners[v2.stream_id].version == 2

    # A finished stream is reported a few times, then no more.
    beats = len(r.manager.of(r.agent.agent_id, "heartbeat"))
    await asyncio.sleep(1.0)
    later = r.manager.of(r.agent.agent_id, "heartbeat")[beats:]
    assert later and not any(s.stream_id == v2.stream_id for m in later for s in m.streams)


async def test_live_streams_up_to_max_stream_count_and_stop(running: Running) -> None:
    r = running
    await _registered(r)
    configs = [stream_config(DATA / "vtest_h264.mp4", kind="stream") for _ in range(3)]
    for config in configs:
        await r.manager.start_stream(r.agent.agent_id, config)
    for config in configs[:2]:
        await _report(r, config.stream_id, lambda s: s.status == StreamStatus.IN_PROGRESS and s.fps and s.fps > 5)
    assert configs[2].stream_id not in r.agent.runners  # max_stream_count is 2
    await r.manager.send(r.agent.agent_id, "stop", stream_id=configs[0].stream_id, version=1)
    await eventually(lambda: asyncio.sleep(0, r.agent.runners), lambda runners: len(runners) == 1, 10)
    await r.manager.start_stream(r.agent.agent_id, configs[2])  # a freed slot takes the next stream
    await _report(r, configs[2].stream_id, lambda s: s.status == StreamStatus.IN_PROGRESS)


async def test_garbage_commands_do_not_stop_the_agent(running: Running, broker: BrokerSettings) -> None:
    r = running
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    key = str(r.agent.agent_id).encode()
    try:
        for value in (b"not json", b'{"agent_id": "x"}', b"{}"):
            await producer.send_and_wait(STREAM_COMMANDS.name, value, key=key)
    finally:
        await producer.stop()
    await _registered(r)
    config = stream_config(DATA / "vtest_h264.mp4")
    await r.manager.start_stream(r.agent.agent_id, config)
    await _report(r, config.stream_id, lambda s: s.status == StreamStatus.DONE)
    assert not r.task.done()
