"""What the processor tests share: publishing frames or a clip as an agent would, and reading a topic back."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import NamedTuple

import faust
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from agents.video_agent.publisher import FramePublisher
from infra.media.decode import iter_frames
from infra.media.jpeg import encode_jpeg
from infra.settings import BrokerSettings, InferenceSettings, WorkerSettings
from schemas.frames import FrameHeader
from schemas.streams import StreamConfig
from schemas.topics import STREAM_CONFIGS
from streams import detection, human_tracking, tracking
from streams.app import create_app


def tracking_app(prefix: str, broker: BrokerSettings) -> faust.App:
    """A worker with detection, tracking and human tracking, sized for tests; callers add processors."""
    app = create_app(f"{prefix}-{uuid.uuid4().hex[:8]}", broker, WorkerSettings())
    inference = InferenceSettings(threads=1, batch_size=4, batch_window_ms=20)
    detection.register(app, inference)
    tracking.register(app, inference=inference)
    human_tracking.register(app)
    return app


async def publish_config(bootstrap: str, config: StreamConfig) -> None:
    """The manager's job: the stream's config is on the compacted topic before its frames come."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(STREAM_CONFIGS.name, config.model_dump_json().encode(), key=str(config.stream_id).encode())
    finally:
        await producer.stop()


class EncodedFrame(NamedTuple):
    """One frame as the agent sends it: its place in the video and its JPEG."""

    frame_number: int
    time_offset: float
    jpeg: bytes
    width: int
    height: int


async def publish_frames(bootstrap: str, stream_id: uuid.UUID, frames: Iterable[EncodedFrame], end: bool = False) -> int:
    """Publish ``frames`` as the agent does, and with ``end`` the agent's end-of-video marker after them.
    Returns the frames sent (the marker not counted)."""
    publisher = FramePublisher(bootstrap)
    await publisher.start()
    sent, header = 0, None
    try:
        for frame in frames:
            header = FrameHeader(
                stream_id=stream_id, version=1, frame_number=frame.frame_number, time_offset=frame.time_offset,
                timestamp=datetime.now(UTC), width=frame.width, height=frame.height, size=len(frame.jpeg))
            await publisher.publish(header, frame.jpeg)
            sent += 1
        if end and header is not None:
            await publisher.publish(header.model_copy(update={
                "frame_number": header.frame_number + 1, "encoding": "end", "size": 0}), b"")
    finally:
        await publisher.stop()
    return sent


async def publish_clip(
    bootstrap: str, clip: Path, stream_id: uuid.UUID, every: int, limit: int, end: bool = False
) -> int:
    """Publish up to ``limit`` of every ``every``-th frame of ``clip`` as the agent does, and with ``end``
    the agent's end-of-video marker after them. Returns the frames sent (the marker not counted)."""
    encoded = (
        EncodedFrame(frame.frame_number, frame.time_offset, encode_jpeg(frame.image, quality=80),
                     frame.image.shape[1], frame.image.shape[0])
        for frame in islice(iter_frames(str(clip), every), limit)
    )
    return await publish_frames(bootstrap, stream_id, encoded, end)


class TopicReader:
    """Everything a topic holds (keys are stream ids)."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest")
        self.records: list[tuple[bytes, bytes]] = []

    async def __aenter__(self) -> TopicReader:
        await self.consumer.start()
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.consumer.stop()

    async def poll(self) -> list[tuple[bytes, bytes]]:
        for records in (await self.consumer.getmany(timeout_ms=300)).values():
            self.records += [(r.key, r.value) for r in records]
        return self.records
