"""Streams, their status log, the pending queue and the restart schedule, kept consistent in Redis.

Every write goes through :meth:`StreamRegistry.update`, which derives the indexes (pending queue,
restart schedule, the agent's stream set, the unpublished-config mark) and the status log from the
record's before and after, inside one optimistic transaction.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from agents.video_manager.registry.records import StreamRecord
from infra.redis_store import Store, Tx, load
from schemas.errors import OBJECT_NOT_FOUND, SeleneError
from schemas.status import StreamStatus
from schemas.streams import FramesDropped, StreamLog

DELETED = "deleted"


@dataclass
class Change:
    """One committed write: the record before (None: created) and after (None: deleted)."""

    before: StreamRecord | None
    after: StreamRecord | None

    @property
    def status_changed(self) -> bool:
        old = self.before.stream.status if self.before else None
        new = self.after.stream.status if self.after else None
        return old != new


class StreamRegistry:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.index = store.key("streams")
        self.pending = store.key("pending")
        self.restarts = store.key("restarts")
        self.scheduled = store.key("scheduled")  # streams with working intervals: the leader follows them
        self.dirty = store.key("configs-dirty")
        self.logs = store.key("logs")

    def key(self, stream_id: UUID | str) -> str:
        return self.store.key("stream", stream_id)

    def dropped_key(self, stream_id: UUID | str) -> str:
        """A hash of the stream's drop counts: ``agent``, and ``processing:<worker id>`` per worker."""
        return self.store.key("stream", stream_id, "dropped")

    def agent_streams(self, agent_id: UUID | str) -> str:
        return self.store.key("agent", agent_id, "streams")

    async def get(self, stream_id: UUID) -> StreamRecord | None:
        return await self.store.get(self.key(stream_id), StreamRecord)

    async def all(self) -> list[StreamRecord]:
        """Every stream, oldest first."""
        ids = await self.store.redis.zrange(self.index, 0, -1)
        return await self.store.get_many([self.key(i.decode()) for i in ids], StreamRecord)

    async def pending_ids(self) -> list[UUID]:
        """Streams waiting for an agent, oldest first."""
        return [UUID(i.decode()) for i in await self.store.redis.zrange(self.pending, 0, -1)]

    async def due_restarts(self, now: float) -> list[UUID]:
        return [UUID(i.decode()) for i in await self.store.redis.zrangebyscore(self.restarts, "-inf", now)]

    async def scheduled_ids(self) -> list[UUID]:
        return [UUID(i.decode()) for i in await self.store.redis.smembers(self.scheduled)]

    async def ids_of_agent(self, agent_id: UUID) -> list[UUID]:
        return [UUID(i.decode()) for i in await self.store.redis.smembers(self.agent_streams(agent_id))]

    async def create(self, record: StreamRecord) -> Change:
        key = self.key(record.stream.stream_id)

        def body(_: dict[str, bytes | None], tx: Tx) -> Change:
            tx.zadd(self.index, {str(record.stream.stream_id): record.stream.create_time.timestamp()})
            return self._write(tx, None, record)

        return await self.store.transact([key], body)

    async def update(
        self,
        stream_id: UUID,
        mutate: Callable[[StreamRecord], None],
        frame_time: float | None = None,
        missing_ok: bool = False,
    ) -> Change:
        """Apply ``mutate`` to the stored record atomically; 11020 if there is none (or a no-op Change)."""
        key = self.key(stream_id)

        def body(values: dict[str, bytes | None], tx: Tx) -> Change:
            before = load(values[key], StreamRecord)
            if before is None:
                if missing_ok:
                    return Change(None, None)
                raise SeleneError(OBJECT_NOT_FOUND, f"stream with id {stream_id}")
            after = before.model_copy(deep=True)
            mutate(after)
            if after == before:
                return Change(before, before)
            return self._write(tx, before, after, frame_time)

        return await self.store.transact([key], body)

    async def delete(self, stream_id: UUID, account_ids: set[UUID] | None = None) -> Change:
        key = self.key(stream_id)

        def body(values: dict[str, bytes | None], tx: Tx) -> Change:
            before = load(values[key], StreamRecord)
            if before is None or (account_ids is not None and before.stream.account_id not in account_ids):
                return Change(None, None)
            tx.delete(key, self.dropped_key(stream_id))
            tx.zrem(self.index, str(stream_id))
            tx.zrem(self.pending, str(stream_id))
            tx.zrem(self.restarts, str(stream_id))
            tx.srem(self.scheduled, str(stream_id))
            if before.agent_id is not None:
                tx.srem(self.agent_streams(before.agent_id), str(stream_id))
            tx.hset(self.dirty, str(stream_id), DELETED)
            return Change(before, None)

        return await self.store.transact([key], body)

    def _write(self, tx: Tx, before: StreamRecord | None, after: StreamRecord, frame_time: float | None = None) -> Change:
        sid = str(after.stream.stream_id)
        after.revision = (before.revision if before else 0) + 1
        tx.set(self.key(sid), after)
        tx.hset(self.dirty, sid, str(after.revision))
        status = after.stream.status
        if status == StreamStatus.PENDING and after.agent_id is None:
            tx.zadd(self.pending, {sid: time.time()}, nx=True)  # nx: a waiting stream keeps its place
        else:
            tx.zrem(self.pending, sid)
        if status == StreamStatus.RESTART and after.restart_at is not None:
            tx.zadd(self.restarts, {sid: after.restart_at})
        else:
            tx.zrem(self.restarts, sid)
        if any(analytic.schedules for analytic in after.stream.analytics):
            tx.sadd(self.scheduled, sid)
        else:
            tx.srem(self.scheduled, sid)
        old_agent = before.agent_id if before else None
        if old_agent != after.agent_id:
            if old_agent is not None:
                tx.srem(self.agent_streams(old_agent), sid)
            if after.agent_id is not None:
                tx.sadd(self.agent_streams(after.agent_id), sid)
        for entry in _log_entries(before, after, frame_time):
            tx.zadd(self.logs, {entry.model_dump_json(): entry.log_time.timestamp()})
        return Change(before, after)

    # -- status log --------------------------------------------------------------------------------
    async def log_entries(self, gte: datetime | None, lt: datetime | None) -> list[StreamLog]:
        low = gte.timestamp() if gte else "-inf"
        high = f"({lt.timestamp()}" if lt else "+inf"
        return [StreamLog.model_validate_json(raw) for raw in await self.store.redis.zrangebyscore(self.logs, low, high)]

    async def delete_log_entries(self, entries: list[StreamLog]) -> int:
        if not entries:
            return 0
        return int(await self.store.redis.zrem(self.logs, *(e.model_dump_json() for e in entries)))

    # -- drop counts -----------------------------------------------------------------------------------
    async def set_dropped(self, counts: dict[UUID, int], source: str) -> None:
        """Record each stream's running total of drops by ``source`` (``agent`` or ``processing:<worker>``),
        for streams that exist. Kept beside the record, so a count neither bumps its revision nor goes out
        with its config."""
        if not counts:
            return
        async with self.store.redis.pipeline(transaction=False) as pipe:
            for stream_id, count in counts.items():
                pipe.eval(_SET_IF_EXISTS, 2, self.key(stream_id), self.dropped_key(stream_id), source, count)
            await pipe.execute()

    async def dropped(self, stream_ids: list[UUID]) -> list[FramesDropped]:
        """Each stream's drops: the agent's, and the sum over workers of theirs."""
        async with self.store.redis.pipeline(transaction=False) as pipe:
            for stream_id in stream_ids:
                pipe.hgetall(self.dropped_key(stream_id))
            found = await pipe.execute()
        return [FramesDropped(
            agent=int(counts.get(b"agent", 0)),
            processing=sum(int(v) for k, v in counts.items() if k.startswith(b"processing:")),
        ) for counts in found]

    # -- stream-config publishing ------------------------------------------------------------------
    async def unpublished(self) -> dict[UUID, str]:
        """Stream id -> revision (or ``deleted``) of every change not yet on the stream-configs topic."""
        raw = await self.store.redis.hgetall(self.dirty)
        return {UUID(k.decode()): v.decode() for k, v in raw.items()}

    async def unpublished_mark(self, stream_id: UUID) -> str | None:
        raw = await self.store.redis.hget(self.dirty, str(stream_id))
        return None if raw is None else raw.decode()

    async def mark_published(self, stream_id: UUID, revision: str) -> None:
        """Clear the mark unless a newer write set it meanwhile (then that one gets published too)."""
        await self.store.redis.eval(_CLEAR_IF_EQUAL, 1, self.dirty, str(stream_id), revision)


_SET_IF_EXISTS = """
if redis.call('exists', KEYS[1]) == 1 then return redis.call('hset', KEYS[2], ARGV[1], ARGV[2]) end
return 0
"""
_CLEAR_IF_EQUAL = """
if redis.call('hget', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('hdel', KEYS[1], ARGV[1]) end
return 0
"""


def _log_entries(before: StreamRecord | None, after: StreamRecord, frame_time: float | None) -> list[StreamLog]:
    now = datetime.now(UTC)
    stream = after.stream
    entries: list[StreamLog] = []

    def entry(status: StreamStatus, index: int | None = None, name: str | None = None) -> StreamLog:
        return StreamLog(
            stream_id=stream.stream_id, account_id=stream.account_id, version=stream.version,
            analytic_index=index, analytic_name=name, status=status, error=stream.last_error,
            log_time=now, last_processed_frame_time=frame_time,
        )

    if before is None or before.stream.status != stream.status or before.stream.version != stream.version:
        entries.append(entry(stream.status))
    old = {i: a.status for i, a in enumerate(before.stream.analytics)} if before else {}
    for i, analytic in enumerate(stream.analytics):
        if old.get(i) != analytic.status:
            entries.append(entry(analytic.status, i, analytic.analytic_name))
    return entries
