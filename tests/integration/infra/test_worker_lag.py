"""The worker-lag probe against the real broker: a group's lag in messages and seconds, and /6/health's
``worker-lag`` part turning degraded past its limit and ok once the group has caught up."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from infra.health import HealthMonitor
from infra.lag import Lag, consumer_lag, lag_probe
from infra.settings import BrokerSettings

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture
async def topic(broker: BrokerSettings) -> AsyncIterator[str]:
    name = f"test.lag.{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=broker.bootstrap)
    await admin.start()
    try:
        await admin.create_topics([NewTopic(name=name, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    yield name


async def produce(broker: BrokerSettings, topic: str, count: int) -> None:
    """Pipelined, as the agent publishes frames: the broker gets them in batches."""
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=50)
    await producer.start()
    try:
        for i in range(count):
            await producer.send(topic, b"frame %d" % i)
        await producer.flush()
    finally:
        await producer.stop()


async def consume_and_commit(broker: BrokerSettings, topic: str, group: str, count: int) -> None:
    """What a worker does: take ``count`` more messages and commit past them."""
    consumer = AIOKafkaConsumer(bootstrap_servers=broker.bootstrap, group_id=group, enable_auto_commit=False,
                                auto_offset_reset="earliest")
    await consumer.start()
    try:
        tp = TopicPartition(topic, 0)
        consumer.assign([tp])
        start = await consumer.committed(tp) or 0
        consumer.seek(tp, start)
        taken = 0
        while taken < count:
            taken += sum(len(r) for r in (await consumer.getmany(tp, timeout_ms=500, max_records=count - taken)).values())
        await consumer.commit({tp: start + count})
    finally:
        await consumer.stop()


async def test_lag_counts_what_the_group_has_not_committed(broker: BrokerSettings, topic: str) -> None:
    group = f"lag-{uuid.uuid4().hex[:8]}"
    assert await consumer_lag(broker.bootstrap, group, topic) == Lag(0, 0.0)
    await produce(broker, topic, 10)
    await asyncio.sleep(1.0)
    lag = await consumer_lag(broker.bootstrap, group, topic)
    assert lag.messages == 10 and 1.0 <= lag.seconds < 30  # never committed: all of it waits
    await consume_and_commit(broker, topic, group, 6)
    lag = await consumer_lag(broker.bootstrap, group, topic)
    assert lag.messages == 4 and lag.seconds >= 1.0
    await consume_and_commit(broker, topic, group, 4)
    assert await consumer_lag(broker.bootstrap, group, topic) == Lag(0, 0.0)


async def test_health_shows_worker_lag_degraded_past_its_limit(broker: BrokerSettings, topic: str) -> None:
    group = f"lag-{uuid.uuid4().hex[:8]}"
    monitor = HealthMonitor({"worker-lag": lag_probe(broker.bootstrap, group, topic, 0.5)}, interval=60, timeout=5)
    await produce(broker, topic, 5)
    await monitor.probe_all()
    assert monitor.snapshot().status == "ok"  # the frames are fresh: the worker is within its limit
    await asyncio.sleep(1.0)
    await monitor.probe_all()
    snapshot = monitor.snapshot()
    [part] = snapshot.parts
    assert snapshot.status == "degraded" and part.status == "degraded"
    assert part.error is not None and part.error.startswith(f"5 messages of {topic} wait for {group}, the oldest for ")
    assert part.error.endswith(" s (limit 0.5 s)")
    await consume_and_commit(broker, topic, group, 5)
    await monitor.probe_all()
    assert monitor.snapshot().status == "ok" and monitor.snapshot().parts[0].error is None
