"""The spine: a frame published through the real broker is consumed by a Faust agent, and a row lands
in ClickHouse (chdb). Bad messages go to the dead-letter topic and the processors keep going."""

from __future__ import annotations

import base64
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from agents.video_agent.publisher import FramePublisher
from analytics.events import sink
from analytics.events.chdb_warehouse import ChdbWarehouse
from infra.media.decode import iter_frames
from infra.media.jpeg import encode_jpeg
from infra.settings import BrokerSettings, SinkSettings, WorkerSettings
from schemas.deadletter import DeadLetter
from schemas.frames import FrameHeader
from schemas.topics import DEAD_LETTER, FRAME_STATS, FRAMES
from streams import frame_stats
from streams.app import create_app
from streams.runner import running
from tests.support import eventually, write_test_video

pytestmark = pytest.mark.asyncio(loop_scope="session")


@pytest.fixture(scope="module")
async def spine(broker: BrokerSettings, warehouse: ChdbWarehouse) -> AsyncIterator[None]:
    suffix = uuid.uuid4().hex[:8]
    worker = create_app(f"spine-worker-{suffix}", broker, WorkerSettings())
    frame_stats.register(worker)
    sinker = sink.Sink(broker.bootstrap, f"spine-sink-{suffix}", warehouse, SinkSettings(batch_size=50, batch_seconds=0.2))
    await sinker.start()
    try:
        async with running(worker):
            yield
    finally:
        await sinker.stop()


async def _rows(warehouse: ChdbWarehouse, stream_id: uuid.UUID) -> list[dict]:
    return await warehouse.query(
        f"SELECT frame_number, size, width, height, version FROM {warehouse.database}.frame_stats FINAL "
        f"WHERE stream_id = '{stream_id}' ORDER BY frame_number"
    )


async def _dead_letters(bootstrap: str, marker: str, count: int) -> list[DeadLetter]:
    consumer = AIOKafkaConsumer(DEAD_LETTER.name, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
    await consumer.start()
    found: list[DeadLetter] = []
    try:
        async def poll() -> list[DeadLetter]:
            batch = await consumer.getmany(timeout_ms=500)
            for records in batch.values():
                for record in records:
                    letter = DeadLetter.model_validate_json(record.value)
                    if marker in base64.b64decode(letter.value).decode("utf-8", "replace"):
                        found.append(letter)
            return found

        return await eventually(poll, lambda f: len(f) >= count, timeout=60)
    finally:
        await consumer.stop()


async def test_video_frames_land_in_clickhouse(
    spine: None, broker: BrokerSettings, warehouse: ChdbWarehouse, tmp_path: Path
) -> None:
    video = write_test_video(tmp_path / "clip.mp4", frames=12)
    stream_id = uuid.uuid4()
    publisher = FramePublisher(broker.bootstrap)
    await publisher.start()
    sizes = {}
    try:
        for frame in iter_frames(str(video)):
            jpeg = encode_jpeg(frame.image, quality=80)
            height, width = frame.image.shape[:2]
            header = FrameHeader(
                stream_id=stream_id, version=1, frame_number=frame.frame_number, time_offset=frame.time_offset,
                timestamp=datetime.now(UTC), width=width, height=height, size=len(jpeg),
            )
            sizes[frame.frame_number] = len(jpeg)
            await publisher.publish(header, jpeg)
    finally:
        await publisher.stop()

    rows = await eventually(lambda: _rows(warehouse, stream_id), lambda r: len(r) >= 12)
    assert [r["frame_number"] for r in rows] == list(range(12))
    assert {r["frame_number"]: r["size"] for r in rows} == sizes
    assert {(r["width"], r["height"], r["version"]) for r in rows} == {(160, 120, 1)}


async def test_invalid_frame_goes_to_dead_letter_and_worker_continues(
    spine: None, broker: BrokerSettings, warehouse: ChdbWarehouse
) -> None:
    marker = f"bad-frame-{uuid.uuid4()}"
    stream_id = uuid.uuid4()
    good = FrameHeader(
        stream_id=stream_id, version=1, frame_number=0, time_offset=0.0,
        timestamp=datetime.now(UTC), width=4, height=4, size=5,
    )
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    try:
        # No stream_id and a negative frame number: must not validate.
        broken = [("frame_number", b"-3"), ("width", b"four")]
        await producer.send_and_wait(FRAMES.name, marker.encode(), key=b"x", headers=broken)
        await producer.send_and_wait(
            FRAMES.name, b"jpeg!", key=str(stream_id).encode(), headers=good.to_kafka_headers()
        )
    finally:
        await producer.stop()

    [letter] = await _dead_letters(broker.bootstrap, marker, 1)
    assert letter.topic == FRAMES.name
    assert letter.error_code == 45001
    assert letter.processor == "frame_stats"
    assert "stream_id" in letter.reason and "frame_number" in letter.reason
    rows = await eventually(lambda: _rows(warehouse, stream_id), lambda r: len(r) == 1)
    assert rows[0]["size"] == 5


async def test_sink_sends_invalid_records_to_dead_letter(
    spine: None, broker: BrokerSettings, warehouse: ChdbWarehouse
) -> None:
    marker = f"bad-stat-{uuid.uuid4()}"
    producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(FRAME_STATS.name, f'{{"stream_id": "{marker}"}}'.encode(), key=b"x")
        await producer.send_and_wait(FRAME_STATS.name, b"\xff\xfe not json " + marker.encode(), key=b"x")
    finally:
        await producer.stop()
    letters = await _dead_letters(broker.bootstrap, marker, 2)
    assert {letter.processor for letter in letters} == {"sink"}
    assert all(letter.topic == FRAME_STATS.name and letter.error_code == 45001 for letter in letters)
