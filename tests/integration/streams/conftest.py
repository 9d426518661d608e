"""What the processor tests share: publishing a clip as an agent would, and reading a topic back."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from aiokafka import AIOKafkaConsumer

from agents.video_agent.decoder import iter_frames
from agents.video_agent.encoder import encode_jpeg
from agents.video_agent.publisher import FramePublisher
from schemas.frames import FrameHeader


async def publish_clip(
    bootstrap: str, clip: Path, stream_id: uuid.UUID, every: int, limit: int, blank_tail: int = 0
) -> int:
    """Publish up to ``limit`` of every ``every``-th frame of ``clip``, then ``blank_tail`` black frames
    (a camera that goes on showing nobody, so that open tracks end). Returns the frames sent."""
    publisher = FramePublisher(bootstrap)
    await publisher.start()
    sent, last = 0, None
    try:
        for frame in iter_frames(str(clip), every):
            if sent == limit:
                break
            await _send(publisher, stream_id, frame.frame_number, frame.time_offset, frame.image)
            sent, last = sent + 1, frame
        if last is not None:
            step = last.time_offset / max(last.frame_number, 1) * every
            for n in range(1, blank_tail + 1):
                await _send(publisher, stream_id, last.frame_number + n * every, last.time_offset + n * step,
                            np.zeros_like(last.image))
                sent += 1
    finally:
        await publisher.stop()
    return sent


async def _send(publisher: FramePublisher, stream_id: uuid.UUID, number: int, offset: float, image: np.ndarray) -> None:
    jpeg = encode_jpeg(image, quality=80)
    height, width = image.shape[:2]
    await publisher.publish(FrameHeader(
        stream_id=stream_id, version=1, frame_number=number, time_offset=offset,
        timestamp=datetime.now(UTC), width=width, height=height, size=len(jpeg)), jpeg)


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
