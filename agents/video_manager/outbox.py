"""The stream-config outbox: every committed stream write is published to ``selene.stream-configs``.

A write leaves an unpublished mark on the stream (set in the write's own transaction); the outbox
publishes off the request path, one config at a time so that the topic gets them in order, and clears
the mark. What fails keeps its mark, and the leader's round hands it back here.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

from agents.video_manager.bus import Bus
from agents.video_manager.registry.records import StreamRecord
from agents.video_manager.registry.streams import DELETED, StreamRegistry
from infra.logs import for_stream
from schemas.streams import Stream, StreamConfig, StreamConfigAnalytic

log = logging.getLogger(__name__)
DRAIN_SECONDS = 5.0  # on stop, the longest wait for queued configs; the rest waits for the next leader


def config_of(stream: Stream) -> StreamConfig:
    """What processors and agents are told of a stream."""
    return StreamConfig(
        stream_id=stream.stream_id, account_id=stream.account_id, version=stream.version, data=stream.data,
        analytics=[
            StreamConfigAnalytic(index=i, analytic_name=a.analytic_name, parameters=a.parameters)
            for i, a in enumerate(stream.analytics)
        ],
        status=stream.status, name=stream.name, source=stream.source, location=stream.location,
    )


class ConfigOutbox:
    def __init__(self, streams: StreamRegistry, bus: Bus) -> None:
        self._streams = streams
        self._bus = bus
        self._queue: asyncio.Queue[tuple[UUID, StreamRecord | None, Stream | None]] = asyncio.Queue()
        self._deletions_seen: set[UUID] = set()
        self._publisher: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._publisher = asyncio.create_task(self._publish_loop(), name="manager-configs")

    async def stop(self) -> None:
        try:
            await asyncio.wait_for(self._queue.join(), DRAIN_SECONDS)
        except TimeoutError:
            pass  # what is left stays marked unpublished; the next leader publishes it
        if self._publisher is not None:
            self._publisher.cancel()
            await asyncio.gather(self._publisher, return_exceptions=True)

    def put(self, stream_id: UUID, written: StreamRecord | None = None, deleted: Stream | None = None) -> None:
        """Queue a stream's config: ``written``, the record a write committed (else the latest);
        ``deleted``, the stream as it was, for the deleted marker."""
        self._queue.put_nowait((stream_id, written, deleted))

    async def publish(self, stream_id: UUID, written: StreamRecord | None = None, deleted: Stream | None = None) -> None:
        """Publish a config if a write left the stream unpublished; on failure the mark stays and the
        leader's next round retries. A write's own record goes out even when later writes (or the
        deletion) came before the publisher got to it, so every change reaches the topic, in order."""
        mark, record = await self._streams.to_publish(stream_id)
        if mark is None:
            return  # published already, up to the latest write: an older config would go backwards
        try:
            if written is not None:
                await self._bus.config(config_of(written.stream))
                mark = str(written.revision)
            elif record is not None:
                await self._bus.config(config_of(record.stream))
            elif deleted is not None:
                await self._bus.deleted(config_of(deleted))
            else:
                await self._bus.tombstone(stream_id)
        except Exception as exc:  # noqa: BLE001 - the mark stays; the leader retries
            for_stream(log, stream_id).warning("stream config not published", extra={"error": str(exc)})
            return
        await self._streams.mark_published(stream_id, mark)

    async def _publish_loop(self) -> None:
        while True:
            stream_id, written, deleted = await self._queue.get()
            try:
                await self.publish(stream_id, written, deleted)
            except Exception:  # noqa: BLE001 - Redis away: the mark stays, the leader retries
                for_stream(log, stream_id).exception("stream config not published")
            finally:
                self._queue.task_done()

    async def retry_unpublished(self) -> None:
        """The leader's retry of what is unpublished. A deletion is left one round to its own request,
        which holds the deleted stream and so can publish the deleted marker before the tombstone."""
        marks = await self._streams.unpublished()
        for stream_id, mark in marks.items():
            if mark != DELETED or stream_id in self._deletions_seen:
                self.put(stream_id)
        self._deletions_seen = {stream_id for stream_id, mark in marks.items() if mark == DELETED}
