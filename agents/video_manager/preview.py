"""Live previews: a stream's processed frames with what its analytics see drawn on them, as JPEGs.

A preview costs nothing while nobody watches: the first viewer of a stream starts one Kafka reader (no
consumer group, from the end) of the partitions that hold the stream's frames, tracks and counts; the
last viewer to leave stops it. Frames wait a moment in a short buffer for their tracks, so the boxes
drawn are the frame's own; a stream without tracking (no tracks for ``TRACKS_PATIENCE`` seconds) is
shown with its regions and counts only. Each viewer gets the newest picture: a slow one skips frames.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from uuid import UUID

import cv2
import numpy as np
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.partitioner import murmur2
from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from agents.video_manager.preview_overlay import Geometry, Overlay, draw
from infra.claimcheck import ClaimCheck
from infra.kafka import consumer_options
from infra.logs import for_stream
from infra.media.jpeg import encode_jpeg
from schemas.events import CountSample
from schemas.frames import FrameHeader
from schemas.streams import Stream
from schemas.topics import COUNTS, FRAMES, TRACKS
from schemas.tracks import TrackUpdate

log = logging.getLogger(__name__)
BUFFERED_FRAMES = 50  # frames waiting for their tracks (the tracker lags the agent by a few frames)
TRACKS_PATIENCE = 2.0  # seconds without tracks after which frames are shown without boxes
JPEG_QUALITY = 80


def partition_of(key: bytes, partitions: int) -> int:
    """The partition Kafka's default partitioner (aiokafka's, Faust's) gives ``key``."""
    return (murmur2(key) & 0x7FFFFFFF) % partitions


class Viewer:
    """One client's newest picture (a slow client skips frames, never holds up the others)."""

    def __init__(self) -> None:
        self._latest: asyncio.Queue[bytes] = asyncio.Queue(1)

    def offer(self, jpeg: bytes) -> None:
        if self._latest.full():
            self._latest.get_nowait()
        self._latest.put_nowait(jpeg)

    async def next(self) -> bytes:
        """The newest picture; empty once the preview has failed."""
        return await self._latest.get()


class StreamPreview:
    """The reader of one watched stream: it keeps recent frames, pairs them with their tracks and draws them."""

    def __init__(self, bootstrap: str, stream: Stream, claims: ClaimCheck | None) -> None:
        self.stream_id = stream.stream_id
        self.viewers: set[Viewer] = set()
        self._bootstrap = bootstrap
        self._key = str(stream.stream_id).encode()
        self._claims = claims
        self._overlay = Overlay(Geometry.of(stream))
        self._frames: OrderedDict[tuple[int, int], bytes] = OrderedDict()  # (run, frame number) -> JPEG, oldest first
        self._last_tracks = 0.0  # monotonic time of the last tracks message
        self._task: asyncio.Task[None] | None = None
        self._log = for_stream(log, stream.stream_id)

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=f"preview-{self.stream_id}")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, group_id=None, **consumer_options())
        await consumer.start()
        try:
            await consumer.topics()  # fetches the metadata that partitions_for_topic reads
            partitions = []
            for spec in (FRAMES, TRACKS, COUNTS):
                count = len(consumer.partitions_for_topic(spec.name) or {0})
                partitions.append(TopicPartition(spec.name, partition_of(self._key, count)))
            consumer.assign(partitions)
            await consumer.seek_to_end(*partitions)
            self._log.info("preview started")
            while True:
                batch = await consumer.getmany(timeout_ms=500)
                for records in batch.values():
                    for record in records:
                        if record.key == self._key:
                            await self._on_record(record)
        except asyncio.CancelledError:
            raise
        except Exception:
            self._log.exception("preview stopped: its reader failed")
            for viewer in self.viewers:
                viewer.offer(b"")  # ends their responses instead of leaving them waiting
            raise
        finally:
            await consumer.stop()
            self._log.info("preview stopped")

    async def _on_record(self, record: ConsumerRecord) -> None:
        try:
            if record.topic == FRAMES.name:
                await self._on_frame(FrameHeader.from_kafka_headers(record.headers), record.value or b"")
            elif record.topic == TRACKS.name:
                tracks = TrackUpdate.model_validate_json(record.value or b"")
                self._last_tracks = time.monotonic()
                self._overlay.tracks = tracks
                jpeg = self._frames.pop((tracks.run, tracks.frame_number), None)
                if jpeg is not None:
                    await self._show(jpeg)
            else:
                self._overlay.counts = CountSample.model_validate_json(record.value or b"")
        except ValidationError as exc:  # the processors' dead letters tell of it; here it is just not drawn
            self._log.debug("preview skipped a record", extra={"topic": record.topic, "error": str(exc)[:200]})

    async def _on_frame(self, header: FrameHeader, value: bytes) -> None:
        if header.encoding == "claim-check" and header.claim_key and self._claims is not None:
            value = await self._claims.get(header.claim_key) or b""
        elif header.encoding != "jpeg":
            return
        if not value:
            return
        if time.monotonic() - self._last_tracks > TRACKS_PATIENCE:
            self._overlay.tracks = None  # no tracking (or it stalled): regions and counts only
            await self._show(value)
            return
        self._frames[header.run, header.frame_number] = value
        while len(self._frames) > BUFFERED_FRAMES:
            self._frames.popitem(last=False)

    async def _show(self, jpeg: bytes) -> None:
        picture = await asyncio.to_thread(_render, jpeg, self._overlay)
        for viewer in self.viewers:
            viewer.offer(picture)


def _render(jpeg: bytes, overlay: Overlay) -> bytes:
    image = cv2.imdecode(np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None:
        return jpeg
    return encode_jpeg(draw(image, overlay), JPEG_QUALITY)


class Previews:
    """Every watched stream's preview, started by its first viewer and stopped after its last."""

    def __init__(self, bootstrap: str, claims: ClaimCheck | None = None) -> None:
        self._bootstrap = bootstrap
        self._claims = claims
        self._streams: dict[UUID, StreamPreview] = {}

    @property
    def watched(self) -> set[UUID]:
        return set(self._streams)

    @asynccontextmanager
    async def watch(self, stream: Stream) -> AsyncIterator[Viewer]:
        preview = self._streams.get(stream.stream_id)
        if preview is None:
            preview = self._streams[stream.stream_id] = StreamPreview(self._bootstrap, stream, self._claims)
            preview.start()
        viewer = Viewer()
        preview.viewers.add(viewer)
        try:
            yield viewer
        finally:
            preview.viewers.discard(viewer)
            if not preview.viewers and self._streams.get(stream.stream_id) is preview:
                del self._streams[stream.stream_id]
                await preview.stop()

    async def stop(self) -> None:
        for preview in list(self._streams.values()):
            await preview.stop()
        self._streams.clear()
