"""A broker restarted without its data (the embedded, memory-only Tansu) under a running control plane:
the manager's feedback consumer and the agent's command consumer had read far into the old logs; they
must notice the new logs start again at 0 and read them, instead of waiting for them to outgrow their
old positions. Real Tansu, restarted on the same port; the real agent and the manager's consumer."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from agents.video_agent.agent import VideoAgent
from agents.video_agent.publisher import FramePublisher
from agents.video_manager.bus import Bus, consume_agent_messages
from infra.kafka import ensure_topics
from infra.process import ManagedProcess, free_port
from infra.root import embedded
from infra.settings import AgentSettings, BrokerSettings
from schemas.agents import AgentMessage
from schemas.commands import StreamCommand
from schemas.topics import AGENT_FEEDBACK, STREAM_COMMANDS
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")
PARTITIONS = 2
OLD_MESSAGES = 30  # per partition, before the restart: far past where the new logs begin


@pytest.fixture
async def own_broker(tmp_path: Path) -> AsyncIterator[tuple[BrokerSettings, ManagedProcess]]:
    settings = BrokerSettings(bootstrap=f"127.0.0.1:{free_port()}", topic_partitions=PARTITIONS)
    process = embedded.broker(settings, tmp_path)
    process.start()
    process.wait_ready(30)
    await ensure_topics(settings.bootstrap, PARTITIONS)
    yield settings, process
    process.stop(10)


async def fill(bootstrap: str, count: int = OLD_MESSAGES) -> None:
    """Old traffic on every partition of both control topics (for someone else), one record per batch:
    Tansu's "latest" offset counts a batch as one record, so batched traffic would be read from inside
    its last batch."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        other = uuid.uuid4()
        beat = AgentMessage(agent_id=other, kind="heartbeat", sent_at=datetime.now(UTC)).model_dump_json().encode()
        command = StreamCommand(agent_id=other, action="registered", refresh_period=1, alive_period=3,
                                issued_at=datetime.now(UTC)).model_dump_json().encode()
        for partition in range(PARTITIONS):
            for _ in range(count):
                await producer.send_and_wait(AGENT_FEEDBACK.name, beat, key=str(other).encode(), partition=partition)
                await producer.send_and_wait(STREAM_COMMANDS.name, command, key=str(other).encode(),
                                             partition=partition)
    finally:
        await producer.stop()


async def refill(bootstrap: str) -> None:
    """A little traffic on the new logs; the restarted broker refuses writes for a moment after creating them."""
    for _ in range(20):
        try:
            await fill(bootstrap, 3)
            return
        except KafkaError:
            await asyncio.sleep(0.5)
    raise AssertionError("the restarted broker took no messages")


async def test_control_plane_reads_the_new_logs_after_the_broker_restarts_empty(
    own_broker: tuple[BrokerSettings, ManagedProcess],
) -> None:
    settings, process = own_broker
    await fill(settings.bootstrap)
    heard: list[AgentMessage] = []
    reading = asyncio.Event()

    async def handle(message: AgentMessage) -> None:
        heard.append(message)

    bus = Bus(settings.bootstrap)
    await bus.start()
    manager = asyncio.create_task(consume_agent_messages(settings.bootstrap, bus, handle, reading.set))
    publisher = FramePublisher(settings.bootstrap)
    await publisher.start()
    agent = VideoAgent(AgentSettings(decoder="cpu", register_retry=0.3), settings.bootstrap, publisher)
    stop = asyncio.Event()
    running = asyncio.create_task(agent.run(stop))
    try:
        await asyncio.wait_for(reading.wait(), 15)
        mine = lambda: asyncio.sleep(0, [m for m in heard if m.agent_id == agent.agent_id])  # noqa: E731
        await eventually(mine, lambda m: len(m) >= 1, timeout=15)  # it registers (nobody answers yet)
        assert not [m for m in heard if m.agent_id != agent.agent_id]  # both read from the end

        process.stop(10)
        process.start()
        process.wait_ready(30)
        restarted = datetime.now(UTC)
        await ensure_topics(settings.bootstrap, PARTITIONS)  # what `selene up` does after a broker restart
        await refill(settings.bootstrap)  # live traffic: the new logs are not empty, just short

        # The manager hears the agent's registrations on the new log within seconds (waiting for the log
        # to outgrow the old position would take 30 x 0.3 s) ...
        await eventually(mine, lambda m: any(x.sent_at > restarted for x in m), timeout=5)
        # ... and the agent reads the manager's answer on the new commands log.
        await bus.command(StreamCommand(agent_id=agent.agent_id, action="registered", refresh_period=0.5,
                                        alive_period=2, issued_at=datetime.now(UTC)))
        await asyncio.wait_for(agent.registered.wait(), 20)
        assert agent.refresh_period == 0.5
    finally:
        stop.set()
        await asyncio.wait_for(running, 15)
        manager.cancel()
        await asyncio.gather(manager, return_exceptions=True)
        await publisher.stop()
        await bus.stop()
