"""Publish encoded frames to the frames topic, keyed by stream id, described by a FrameHeader.

Sends are pipelined: up to ``in_flight`` frames may await the broker's acknowledgement at once, so
the agent does not pay a round trip per frame; a failed delivery raises on a later publish or flush.
"""

from __future__ import annotations

import asyncio
from collections import deque

from aiokafka import AIOKafkaProducer

from schemas.frames import MAX_FRAME_BYTES, FrameHeader
from schemas.topics import FRAMES


class FramePublisher:
    def __init__(self, bootstrap: str, topic: str = FRAMES.name, in_flight: int = 32) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.in_flight = in_flight
        self._producer: AIOKafkaProducer | None = None
        self._pending: deque[asyncio.Future[object]] = deque()

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=self.bootstrap,
            max_request_size=MAX_FRAME_BYTES + 64 * 1024,
            linger_ms=5,
            enable_idempotence=False,
        )
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            try:
                await self.flush()
            finally:
                await self._producer.stop()
                self._producer = None

    async def publish(self, header: FrameHeader, jpeg: bytes) -> None:
        if self._producer is None:
            raise RuntimeError("FramePublisher.publish before start")
        delivery = await self._producer.send(
            self.topic, jpeg, key=str(header.stream_id).encode(), headers=header.to_kafka_headers()
        )
        self._pending.append(delivery)
        while len(self._pending) > self.in_flight or (self._pending and self._pending[0].done()):
            await self._pending.popleft()

    async def flush(self) -> None:
        """Wait until every frame published so far is acknowledged by the broker."""
        while self._pending:
            await self._pending.popleft()
