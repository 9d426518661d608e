"""Workers in one consumer group on the real broker: two started together split the partitions and every
frame is processed exactly once; a worker stopped mid-stream and started again resumes from its committed
offsets, losing and repeating nothing. (On Tansu a survivor is not rebalanced when a member dies, so the
embedded stack runs one worker per group and restarts it: DESIGN.md.)"""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from pathlib import Path

import faust
import pytest

from infra.settings import BrokerSettings, WorkerSettings
from schemas.frames import FrameStat
from schemas.topics import FRAME_STATS, FRAMES
from streams import frame_stats
from streams.app import create_app
from tests.integration.streams.conftest import TopicReader, publish_clip
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")

CLIP = Path(__file__).resolve().parents[3] / "infra" / "samples" / "vtest_clip.mp4"


def worker(app_id: str, broker: BrokerSettings) -> faust.App:
    app = create_app(app_id, broker, WorkerSettings())
    frame_stats.register(app)
    return app


def frames_partitions(app: faust.App) -> set[int]:
    return {tp.partition for tp in app.consumer.assignment() if tp.topic == FRAMES.name}


async def stats_of(reader: TopicReader, streams: set[uuid.UUID], expected: int) -> Counter[tuple[uuid.UUID, int]]:
    """How often each (stream, frame) came out, once ``expected`` of them have."""
    def mine(records: list[tuple[bytes, bytes]]) -> list[FrameStat]:
        stats = [FrameStat.model_validate_json(v) for _, v in records]
        return [s for s in stats if s.stream_id in streams]

    await eventually(reader.poll, lambda r: len(mine(r)) >= expected, timeout=120)
    await asyncio.sleep(2)  # anything repeated would arrive now
    return Counter((s.stream_id, s.frame_number) for s in mine(await reader.poll()))


async def test_two_workers_split_the_partitions_and_process_each_frame_once(broker: BrokerSettings) -> None:
    group = f"pair-{uuid.uuid4().hex[:8]}"
    first, second = worker(group, broker), worker(group, broker)
    await asyncio.gather(first.start(), second.start())
    try:
        await eventually(lambda: asyncio.sleep(0.2), lambda _: frames_partitions(first) and frames_partitions(second), timeout=90)
        a, b = frames_partitions(first), frames_partitions(second)
        assert a and b and not a & b and a | b == set(range(broker.topic_partitions))
        streams = {uuid.uuid4() for _ in range(6)}
        async with TopicReader(broker.bootstrap, FRAME_STATS.name) as reader:
            sent = sum([await publish_clip(broker.bootstrap, CLIP, s, every=5, limit=8) for s in streams])
            seen = await stats_of(reader, streams, sent)
        assert len(seen) == sent and set(seen.values()) == {1}
    finally:
        await asyncio.gather(first.stop(), second.stop())


async def test_a_restarted_worker_resumes_from_committed_offsets(broker: BrokerSettings) -> None:
    group, stream = f"resume-{uuid.uuid4().hex[:8]}", uuid.uuid4()
    async with TopicReader(broker.bootstrap, FRAME_STATS.name) as reader:
        app = worker(group, broker)
        await app.start()
        try:
            before = await publish_clip(broker.bootstrap, CLIP, stream, every=4, limit=10)
            await stats_of(reader, {stream}, before)
        finally:
            await app.stop()
        # Frames keep coming while the worker is down; they wait in Kafka.
        during = await publish_clip(broker.bootstrap, CLIP, stream, every=3, limit=12)
        again = worker(group, broker)
        await again.start()
        try:
            seen = await stats_of(reader, {stream}, before + during)
        finally:
            await again.stop()
    # The two publications share some frame numbers (every 3rd and every 4th): count each publication's frames.
    expected = Counter([n for n in range(0, 40, 4)] + [n for n in range(0, 36, 3)])
    assert {n: c for (_, n), c in seen.items()} == dict(expected)
