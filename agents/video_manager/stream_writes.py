"""Stream writes and what follows each committed one: the config to the outbox, status callbacks.

Every service writes streams through ``StreamWrites`` with a transition of ``states``, so no write
forgets to publish its config or to notify a status change.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from uuid import UUID

from agents.video_manager.callbacks import StatusCallbacks
from agents.video_manager.outbox import ConfigOutbox
from agents.video_manager.registry import Change, StreamRecord
from agents.video_manager.registry.streams import StreamRegistry

Transition = Callable[[StreamRecord], None]


class StreamWrites:
    def __init__(self, streams: StreamRegistry, outbox: ConfigOutbox, callbacks: StatusCallbacks) -> None:
        self._streams = streams
        self._outbox = outbox
        self._callbacks = callbacks

    async def create(self, record: StreamRecord) -> Change:
        change = await self._streams.create(record)
        self._after(change)
        return change

    async def update(
        self, stream_id: UUID, transition: Transition, frame_time: float | None = None, missing_ok: bool = True
    ) -> Change:
        """Apply the transition in the registry's transaction (a missing stream: 11020 unless ``missing_ok``,
        then a no-op Change), then publish and notify."""
        change = await self._streams.update(stream_id, transition, frame_time=frame_time, missing_ok=missing_ok)
        self._after(change)
        return change

    async def bookkeep(self, stream_id: UUID, transition: Transition) -> Change:
        """A write of assignment state only (the agent, the start hand-over): no status or config changes,
        so nothing is notified and the config goes out with the leader's sweep of unpublished marks."""
        return await self._streams.update(stream_id, transition, missing_ok=True)

    async def bookkeep_many(
        self, stream_ids: list[UUID], plan: Callable[[list[StreamRecord | None]], list[Transition | None]]
    ) -> dict[UUID, Change]:
        """``bookkeep`` for many streams in one transaction, ``plan`` choosing each one's transition."""
        return await self._streams.update_many(stream_ids, plan)

    async def delete(self, stream_id: UUID, accounts: set[UUID] | None) -> Change:
        """Delete the stream if it is one of ``accounts``' (a no-op Change otherwise); the outbox then
        publishes its deleted marker and tombstone."""
        change = await self._streams.delete(stream_id, accounts)
        if change.before is not None:
            self._outbox.put(stream_id, deleted=change.before.stream)
        return change

    def _after(self, change: Change) -> None:
        if change.after is None or change.after is change.before:
            return  # nothing written
        self._outbox.put(change.after.stream.stream_id, change.after)
        if change.status_changed:
            self._callbacks.notify(change.after.stream, datetime.now(UTC))
