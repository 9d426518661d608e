"""Live analytics results: every analytics event, as it happens, to the stream's websocket clients and
to the HTTP callbacks of the analytic that made it; and every watch-list match result the same way.

Each API instance reads ``selene.analytics-events`` and ``selene.matches`` from their end without a
consumer group, so every instance sees every event and serves its own websocket clients. An event is
delivered once, from the first topic; a matched track's hits once more, from the second, as
``{"human_tracking": {"event_id", "track_id", "matches"}}``. It also reads ``selene.stream-configs``:
a config tells of a new version or a status change, which refreshes the cached stream and sends its
websocket clients a status message. What delivery needs of a stream (status, error, callbacks) is kept
per stream version, so an event costs no Redis read.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from uuid import UUID

from aiokafka import AIOKafkaConsumer
from aiokafka.structs import ConsumerRecord
from pydantic import BaseModel, TypeAdapter, ValidationError

from agents.video_manager.callbacks import CallbackSender
from agents.video_manager.manager import VideoManager
from infra.http.websocket import GOING_AWAY, Close, MessageQueue
from infra.kafka import consumer_options, wait_for_positions
from infra.logs import for_stream
from infra.settings import ManagerSettings
from schemas.analytics import AnalyticCallback, HttpCallback
from schemas.errors import MESSAGE_INVALID, OBJECT_NOT_FOUND, ErrorBody
from schemas.events import AnalyticsEventMessage
from schemas.recognition import TrackMatches
from schemas.status import StreamStatus
from schemas.streams import Stream, StreamConfig
from schemas.topics import ANALYTICS_EVENTS, MATCHES, STREAM_CONFIGS

log = logging.getLogger(__name__)
M = TypeVar("M", bound=BaseModel)
_CALLBACKS = TypeAdapter(list[AnalyticCallback])
STREAM_GONE = 4404  # websocket close code: the stream was deleted (4000 + the HTTP status of 11020)


@dataclass(frozen=True)
class StreamView:
    """What delivery needs of one stream version."""

    stream_id: UUID
    version: int
    status: StreamStatus
    error: ErrorBody | None
    callbacks: tuple[tuple[HttpCallback, ...], ...]  # the enabled HTTP callbacks of each analytic, by index

    @classmethod
    def of(cls, stream: Stream) -> StreamView:
        return cls(
            stream.stream_id, stream.version, stream.status, stream.last_error,
            tuple(_http_callbacks(stream.stream_id, a.parameters) for a in stream.analytics),
        )

    def message(self, results: dict[str, Any] | None = None) -> dict[str, Any]:
        """LUNA's stream websocket message; without results, a status message."""
        return {
            "stream_status": self.status.luna_name,
            "error": self.error.model_dump() if self.error else None,
            "analytics_results": results or {},
        }


def match_results(found: TrackMatches) -> dict[str, Any]:
    """A matched track's results, under the key of the analytic that made the track (human_tracking)."""
    return {"human_tracking": {
        "event_id": str(found.event_id), "track_id": found.track_id,
        "matches": [m.model_dump(mode="json") for m in found.matches],
    }}


def _http_callbacks(stream_id: UUID, parameters: dict[str, Any]) -> tuple[HttpCallback, ...]:
    try:
        callbacks = _CALLBACKS.validate_python(parameters.get("callbacks", []))
    except ValidationError as exc:  # validated when the stream was written; an old record may differ
        for_stream(log, stream_id).warning("analytic callbacks unreadable", extra={"error": str(exc)[:500]})
        return ()
    return tuple(c for c in callbacks if isinstance(c, HttpCallback) and c.enable)


class LiveResults:
    def __init__(self, bootstrap: str, manager: VideoManager, settings: ManagerSettings, queue_size: int) -> None:
        self._bootstrap = bootstrap
        self._manager = manager
        self._queue_size = queue_size
        self._sender = CallbackSender(settings, "result callback")
        self._views: dict[UUID, StreamView | None] = {}  # None: deleted (or never registered), so not read again
        self._subscribers: dict[UUID, set[MessageQueue]] = {}
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Returns once the consumer holds its positions: every event published after it is delivered."""
        self._consumer = AIOKafkaConsumer(
            ANALYTICS_EVENTS.name, MATCHES.name, STREAM_CONFIGS.name, bootstrap_servers=self._bootstrap, group_id=None,
            auto_offset_reset="latest", **consumer_options(),
        )
        await self._consumer.start()
        await wait_for_positions(self._consumer)
        self._task = asyncio.create_task(self._consume(self._consumer), name="live-results")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._consumer is not None:
            await self._consumer.stop()
        for subscriptions in self._subscribers.values():
            for subscription in subscriptions:
                subscription.put(Close(GOING_AWAY))
        await self._sender.close()

    @contextmanager
    def subscribe(self, stream: Stream) -> Iterator[MessageQueue]:
        """Subscribe a websocket client to ``stream`` (just read, so the freshest view); its first
        message is the stream's current status."""
        view = StreamView.of(stream)
        self._views[stream.stream_id] = view
        subscription = MessageQueue(self._queue_size, "stream", {"stream_id": str(stream.stream_id)})
        subscription.put(json.dumps(view.message()))
        self._subscribers.setdefault(stream.stream_id, set()).add(subscription)
        try:
            yield subscription
        finally:
            subscribers = self._subscribers.get(stream.stream_id, set())
            subscribers.discard(subscription)
            if not subscribers:
                self._subscribers.pop(stream.stream_id, None)

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        try:
            async for record in consumer:
                try:
                    if record.topic == STREAM_CONFIGS.name:
                        await self._on_config(record)
                    elif record.topic == MATCHES.name:
                        await self._on_matches(record)
                    else:
                        await self._on_event(record)
                except Exception:  # noqa: BLE001 - one bad record (or Redis away) must not end delivery
                    log.exception("live result not delivered", extra={"topic": record.topic, "offset": record.offset})
        except Exception:
            log.exception("live results stopped: the consumer failed")  # else the task would end unseen
            raise

    async def _validated(self, record: ConsumerRecord, model: type[M]) -> M | None:
        """The record as ``model``, or None once it went to dead letter with the reason."""
        try:
            return model.model_validate_json(record.value or b"")
        except ValidationError as exc:
            log.warning("invalid live result", extra={"topic": record.topic, "offset": record.offset, "error": str(exc)[:500]})
            await self._manager.bus.dead_letter(record, f"{MESSAGE_INVALID.detail}: {exc}")
            return None

    async def _on_event(self, record: ConsumerRecord) -> None:
        message = await self._validated(record, AnalyticsEventMessage)
        if message is not None:
            results = {message.event_type: message.event.model_dump(mode="json")}
            await self._deliver(message.stream_id, message.version, message.analytic_index, results)

    async def _on_matches(self, record: ConsumerRecord) -> None:
        found = await self._validated(record, TrackMatches)
        if found is not None:
            await self._deliver(found.stream_id, found.version, found.analytic_index, match_results(found))

    async def _deliver(self, stream_id: UUID, version: int, analytic_index: int, results: dict[str, Any]) -> None:
        """To the stream's websocket clients, and to the HTTP callbacks of the analytic that made it."""
        view = await self._view(stream_id, version)
        if view is None:
            return  # the stream is gone
        document = view.message(results)
        self._publish(stream_id, json.dumps(document))
        if version != view.version or analytic_index >= len(view.callbacks):
            return  # a result of an older version: its analytics (and callbacks) may no longer exist
        for callback in view.callbacks[analytic_index]:
            self._sender.send(stream_id, callback, {"stream_id": str(stream_id), **document})

    async def _on_config(self, record: ConsumerRecord) -> None:
        stream_id = UUID((record.key or b"").decode())
        if record.value is None:  # the tombstone after the deleted marker
            self._forget(stream_id)
            return
        try:
            config = StreamConfig.model_validate_json(record.value)
        except ValidationError as exc:
            for_stream(log, stream_id).warning("invalid stream config", extra={"error": str(exc)[:500]})
            await self._manager.bus.dead_letter(record, f"{MESSAGE_INVALID.detail}: {exc}")
            return
        if config.deleted:
            self._forget(stream_id)
            return
        cached = self._views.get(stream_id)
        if cached is None or (cached.version, cached.status) == (config.version, config.status):
            return  # not watched (loaded on its first event), or nothing delivery cares about changed
        fresh = await self._load(stream_id)
        if fresh is not None and fresh.status != cached.status:
            self._publish(stream_id, json.dumps(fresh.message()))

    async def _view(self, stream_id: UUID, version: int) -> StreamView | None:
        cached = self._views.get(stream_id)
        if stream_id in self._views and (cached is None or cached.version >= version):
            return cached
        return await self._load(stream_id)

    async def _load(self, stream_id: UUID) -> StreamView | None:
        record = await self._manager.registry.streams.get(stream_id)
        if record is None:
            self._forget(stream_id)
            return None
        view = self._views[stream_id] = StreamView.of(record.stream)
        return view

    def _forget(self, stream_id: UUID) -> None:
        self._views[stream_id] = None  # stream ids are never reused
        gone = Close(STREAM_GONE, OBJECT_NOT_FOUND.body(f"stream with id {stream_id}").model_dump_json())
        for subscription in self._subscribers.get(stream_id, ()):
            subscription.put(gone)

    def _publish(self, stream_id: UUID, text: str) -> None:
        for subscription in self._subscribers.get(stream_id, ()):
            subscription.put(text)
