"""Streams, their status log, the pending queue and the restart schedule, kept consistent in Redis.

Every write goes through :meth:`StreamRegistry.update`, which derives the indexes (pending queue,
restart schedule, the agent's stream set, the unpublished-config mark, the filter indexes) and the
status log from the record's before and after, inside one optimistic transaction.

The filter indexes serve LUNA's stream list and count: one sorted set per account, status, group,
name, source, reference and splittable flag, each scored by creation time, so that a query is their
intersection (the OR of a filter's values a union) cut to a creation-time range and a page, in Redis.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from agents.video_manager.registry.records import StreamRecord
from infra.redis_store import Store, Tx, load
from schemas.errors import OBJECT_NOT_FOUND, SeleneError
from schemas.status import StreamStatus
from schemas.streams import FramesDropped, StreamLog

DELETED = "deleted"
INDEX_VERSION = "1"  # bumped when the filter indexes (or the unstarted map) change shape: a start rebuilds them
_REINDEX_CHUNK = 200
BULK_CHUNK = 250  # streams per transaction of update_many: few round trips, rare conflicts


@dataclass
class StreamQuery:
    """LUNA's stream filters, as the indexes answer them; None: no filter on that field."""

    accounts: set[UUID]
    stream_ids: set[UUID] | None = None
    id_gte: UUID | None = None
    id_lt: UUID | None = None
    names: list[str] | None = None
    reference: str | None = None
    statuses: list[StreamStatus] | None = None
    created_gte: datetime | None = None
    created_lt: datetime | None = None
    group_ids: set[UUID] | None = None
    sources: list[str] | None = None
    splittable: int | None = None


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
        self.unstarted = store.key("unstarted")  # stream -> the agent it is assigned to, its version not handed over
        self.logs = store.key("logs")
        self.indexed = store.key("streams-indexed")  # the INDEX_VERSION the filter indexes were built at
        self._select = store.redis.register_script(_SELECT)

    def by(self, field: str, value: object) -> str:
        """A filter index: the streams whose ``field`` is ``value``. Free-text values are hashed, so a key
        stays short and carries no reference (which may hold credentials)."""
        if field in ("name", "source", "reference"):
            value = hashlib.sha1(str(value).encode()).hexdigest()
        return self.store.key("streams-by", field, value)

    def _filter_keys(self, record: StreamRecord) -> set[str]:
        s = record.stream
        keys = {self.by("account", s.account_id), self.by("status", int(s.status)), self.by("splittable", s.splittable),
                self.by("reference", s.data.reference)}
        keys.update(self.by("group", g) for g in s.groups)
        if s.name is not None:
            keys.add(self.by("name", s.name))
        if s.source is not None:
            keys.add(self.by("source", s.source))
        return keys

    def key(self, stream_id: UUID | str) -> str:
        return self.store.key("stream", stream_id)

    def dropped_key(self, stream_id: UUID | str) -> str:
        """A hash of the stream's drop counts: ``agent``, and ``processing:<worker id>`` per worker."""
        return self.store.key("stream", stream_id, "dropped")

    def agent_streams(self, agent_id: UUID | str) -> str:
        return self.store.key("agent", agent_id, "streams")

    async def get(self, stream_id: UUID) -> StreamRecord | None:
        return await self.store.get(self.key(stream_id), StreamRecord)

    async def select(self, query: StreamQuery, offset: int = 0, limit: int = 0, desc: bool = False) -> tuple[int, list[StreamRecord]]:
        """How many streams match ``query``, and ``limit`` of them (-1: all) from ``offset`` in creation
        order (newest first with ``desc``); the filtering and paging happen in Redis."""
        groups: list[list[str]] = [[self.by("account", a) for a in query.accounts]]
        for field, values in (
            ("status", None if query.statuses is None else [int(v) for v in query.statuses]),
            ("group", query.group_ids), ("name", query.names), ("source", query.sources),
            ("reference", None if query.reference is None else [query.reference]),
            ("splittable", None if query.splittable is None else [query.splittable]),
        ):
            if values is not None:
                groups.append([self.by(field, v) for v in _unique(values)])
        if any(not keys for keys in groups):
            return 0, []  # a filter no value can meet (no account, no group of that name)
        spec = {
            "all": groups,
            "min": repr(query.created_gte.timestamp()) if query.created_gte else "-inf",
            "max": f"({query.created_lt.timestamp()!r}" if query.created_lt else "+inf",
            "ids": None if query.stream_ids is None else sorted(str(i) for i in query.stream_ids),
            "id_gte": None if query.id_gte is None else str(query.id_gte),
            "id_lt": None if query.id_lt is None else str(query.id_lt),
            "offset": offset, "limit": limit, "desc": desc,
        }
        total, *ids = await self._select(keys=[self.store.key("streams-query")], args=[json.dumps(spec)])
        if not ids:
            return int(total), []
        found = await self.store.redis.mget([self.key(i.decode()) for i in ids])
        return int(total), [StreamRecord.model_validate_json(raw) for raw in found if raw is not None]

    async def ensure_indexed(self) -> None:
        """Build the filter indexes and the unstarted map of streams stored before they existed (or in an
        older shape); each
        chunk in a transaction that watches its streams, so a concurrent write is not indexed stale."""
        if (await self.store.redis.get(self.indexed)) == INDEX_VERSION.encode():
            return
        ids = [i.decode() for i in await self.store.redis.zrange(self.index, 0, -1)]
        for start in range(0, len(ids), _REINDEX_CHUNK):
            keys = [self.key(i) for i in ids[start : start + _REINDEX_CHUNK]]

            def body(values: dict[str, bytes | None], tx: Tx) -> None:
                for raw in values.values():
                    record = load(raw, StreamRecord)
                    if record is not None:
                        sid = str(record.stream.stream_id)
                        for index in self._filter_keys(record):
                            tx.zadd(index, {sid: record.stream.create_time.timestamp()})
                        if _unstarted_on(record) is not None:
                            tx.hset(self.unstarted, sid, str(record.agent_id))

            await self.store.transact(keys, body)
        await self.store.redis.set(self.indexed, INDEX_VERSION)

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
        """A new stream; its id is a fresh uuid4, so there is nothing to watch: one MULTI/EXEC."""

        def body(_: dict[str, bytes | None], tx: Tx) -> Change:
            tx.zadd(self.index, {str(record.stream.stream_id): record.stream.create_time.timestamp()})
            return self._write(tx, None, record)

        return await self.store.transact([], body)

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
            change = self._apply(tx, values[key], mutate, frame_time)
            if change.before is None and not missing_ok:
                raise SeleneError(OBJECT_NOT_FOUND, f"stream with id {stream_id}")
            return change

        return await self.store.transact([key], body)

    async def update_many(
        self, stream_ids: list[UUID],
        plan: Callable[[list[StreamRecord | None]], list[Callable[[StreamRecord], None] | None]],
    ) -> dict[UUID, Change]:
        """``update`` for many streams in one transaction (one WATCH, MGET and MULTI/EXEC for all; keep
        them to about ``BULK_CHUNK``): ``plan`` gets the stored records (None: missing) and returns each
        one's transition, None to leave it; it runs again on fresh records when the transaction conflicts,
        and must not change what it gets. A transition here is bookkeeping: it sets (not changes inside)
        fields of the record and of its stream, so a two-level copy is all it needs."""
        keys = [self.key(i) for i in stream_ids]

        def body(values: dict[str, bytes | None], tx: Tx) -> dict[UUID, Change]:
            raws = [values[key] for key in keys]
            befores = [load(raw, StreamRecord) for raw in raws]
            done: dict[UUID, Change] = {}
            for stream_id, raw, before, transition in zip(stream_ids, raws, befores, plan(befores), strict=True):
                if transition is None:
                    done[stream_id] = Change(before, before)
                else:
                    done[stream_id] = self._apply(tx, raw, transition, before=before, shallow=True)
            return done

        return await self.store.transact(keys, body)

    async def counts_of_agents(self, agent_ids: list[UUID]) -> list[int]:
        """How many streams each agent holds, in one round trip."""
        async with self.store.redis.pipeline(transaction=False) as pipe:
            for agent_id in agent_ids:
                pipe.scard(self.agent_streams(agent_id))
            return [int(n) for n in await pipe.execute()]

    async def unstarted_ids(self) -> dict[UUID, UUID]:
        """Stream -> agent, of every assigned stream whose current version its agent has not been handed."""
        return {UUID(k.decode()): UUID(v.decode()) for k, v in (await self.store.redis.hgetall(self.unstarted)).items()}

    async def delete(self, stream_id: UUID, account_ids: set[UUID] | None = None) -> Change:
        key = self.key(stream_id)

        def body(values: dict[str, bytes | None], tx: Tx) -> Change:
            before = load(values[key], StreamRecord)
            if before is None or (account_ids is not None and before.stream.account_id not in account_ids):
                return Change(None, None)
            tx.delete(key, self.dropped_key(stream_id))
            tx.zrem(self.index, str(stream_id))
            for index in self._filter_keys(before):
                tx.zrem(index, str(stream_id))
            tx.zrem(self.pending, str(stream_id))
            tx.zrem(self.restarts, str(stream_id))
            tx.srem(self.scheduled, str(stream_id))
            if before.agent_id is not None:
                tx.srem(self.agent_streams(before.agent_id), str(stream_id))
            tx.hdel(self.unstarted, str(stream_id))
            tx.hset(self.dirty, str(stream_id), DELETED)
            return Change(before, None)

        return await self.store.transact([key], body)

    def _apply(
        self, tx: Tx, raw: bytes | None, mutate: Callable[[StreamRecord], None], frame_time: float | None = None,
        before: StreamRecord | None = None, shallow: bool = False,
    ) -> Change:
        """The write of ``mutate`` on a stored record (``before``: ``raw`` parsed already), a no-op Change
        when it changes nothing; ``shallow``: ``mutate`` only sets fields of the record and its stream."""
        if raw is None:
            return Change(None, None)
        before = before or StreamRecord.model_validate_json(raw)
        if shallow:
            after = before.model_copy(update={"stream": before.stream.model_copy()})
        else:  # a second parse, not a deep copy, and JSON compared, not models: each several times cheaper
            after = StreamRecord.model_validate_json(raw)
        mutate(after)
        if after.model_dump_json() == before.model_dump_json():
            return Change(before, before)
        return self._write(tx, before, after, frame_time)

    def _write(self, tx: Tx, before: StreamRecord | None, after: StreamRecord, frame_time: float | None = None) -> Change:
        sid = str(after.stream.stream_id)
        after.revision = (before.revision if before else 0) + 1
        tx.set(self.key(sid), after)
        tx.hset(self.dirty, sid, str(after.revision))
        # Each index gets a command only where membership changes: a bulk assignment's transaction then
        # queues four commands a stream, not nine (redis-py parses every reply in Python).
        was_pending, now_pending = _is_pending(before), _is_pending(after)
        if now_pending and not was_pending:
            tx.zadd(self.pending, {sid: time.time()}, nx=True)  # nx: a waiting stream keeps its place
        elif was_pending and not now_pending:
            tx.zrem(self.pending, sid)
        if _restart_at(after) is not None:
            if _restart_at(after) != _restart_at(before):
                tx.zadd(self.restarts, {sid: after.restart_at})
        elif _restart_at(before) is not None:
            tx.zrem(self.restarts, sid)
        was_scheduled, now_scheduled = _is_scheduled(before), _is_scheduled(after)
        if now_scheduled and not was_scheduled:
            tx.sadd(self.scheduled, sid)
        elif was_scheduled and not now_scheduled:
            tx.srem(self.scheduled, sid)
        was_unstarted, now_unstarted = _unstarted_on(before), _unstarted_on(after)
        if now_unstarted is not None and now_unstarted != was_unstarted:
            tx.hset(self.unstarted, sid, str(now_unstarted))
        elif now_unstarted is None and was_unstarted is not None:
            tx.hdel(self.unstarted, sid)
        old_agent = before.agent_id if before else None
        if old_agent != after.agent_id:
            if old_agent is not None:
                tx.srem(self.agent_streams(old_agent), sid)
            if after.agent_id is not None:
                tx.sadd(self.agent_streams(after.agent_id), sid)
        old_keys = self._filter_keys(before) if before else set()
        new_keys = self._filter_keys(after)
        for index in new_keys - old_keys:
            tx.zadd(index, {sid: after.stream.create_time.timestamp()})
        for index in old_keys - new_keys:
            tx.zrem(index, sid)
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

    async def to_publish(self, stream_id: UUID) -> tuple[str | None, StreamRecord | None]:
        """The stream's unpublished mark (None: published) and its record, in one round trip."""
        async with self.store.redis.pipeline(transaction=False) as pipe:
            pipe.hget(self.dirty, str(stream_id))
            pipe.get(self.key(stream_id))
            mark, raw = await pipe.execute()
        return (None if mark is None else mark.decode()), load(raw, StreamRecord)

    async def mark_published(self, stream_id: UUID, revision: str) -> None:
        """Clear the mark unless a newer write set it meanwhile (then that one gets published too)."""
        await self.store.redis.eval(_CLEAR_IF_EQUAL, 1, self.dirty, str(stream_id), revision)


_SET_IF_EXISTS = """
if redis.call('exists', KEYS[1]) == 1 then return redis.call('hset', KEYS[2], ARGV[1], ARGV[2]) end
return 0
"""


def _is_pending(record: StreamRecord | None) -> bool:
    return record is not None and record.stream.status == StreamStatus.PENDING and record.agent_id is None


def _restart_at(record: StreamRecord | None) -> float | None:
    """When the stream's autorestart is due, if it waits for one."""
    if record is None or record.stream.status != StreamStatus.RESTART:
        return None
    return record.restart_at


def _is_scheduled(record: StreamRecord | None) -> bool:
    return record is not None and any(analytic.schedules for analytic in record.stream.analytics)


def _unstarted_on(record: StreamRecord | None) -> UUID | None:
    """The agent the stream is assigned to while its current version is not handed over."""
    if record is None or record.agent_id is None or record.started_version == record.stream.version:
        return None
    return record.agent_id


def _unique(values: Iterable[object]) -> list[object]:
    return list(dict.fromkeys(values))


# The query of StreamRegistry.select. ARGV[1]: its spec; KEYS[1]: a scratch key (a script runs alone, so
# one name serves every query). Returns the match count, then the page's ids.
_SELECT = """
local q = cjson.decode(ARGV[1])
local scratch = KEYS[1]
local temps = {}
local sets = {}
for i, keys in ipairs(q.all) do
  if #keys == 1 then
    sets[#sets + 1] = keys[1]
  else
    local union = scratch .. ':u' .. i
    local args = {union, #keys}
    for _, k in ipairs(keys) do args[#args + 1] = k end
    args[#args + 1] = 'AGGREGATE'; args[#args + 1] = 'MIN'
    redis.call('zunionstore', unpack(args))
    temps[#temps + 1] = union
    sets[#sets + 1] = union
  end
end
local source = sets[1]
if #sets > 1 then
  source = scratch .. ':i'
  local args = {source, #sets}
  for _, k in ipairs(sets) do args[#args + 1] = k end
  args[#args + 1] = 'AGGREGATE'; args[#args + 1] = 'MIN'
  redis.call('zinterstore', unpack(args))
  temps[#temps + 1] = source
end
local low, high = q.min, q.max
local order = {}
if q.desc then
  order = {source, high, low, 'BYSCORE', 'REV'}
else
  order = {source, low, high, 'BYSCORE'}
end
local result = {}
local filtered = q.ids ~= cjson.null or q.id_gte ~= cjson.null or q.id_lt ~= cjson.null
if not filtered then
  result[1] = redis.call('zcount', source, low, high)
  if q.limit ~= 0 then
    order[#order + 1] = 'LIMIT'; order[#order + 1] = q.offset; order[#order + 1] = q.limit
    for _, id in ipairs(redis.call('zrange', unpack(order))) do result[#result + 1] = id end
  end
else
  local wanted = nil
  if q.ids ~= cjson.null then
    wanted = {}
    for _, id in ipairs(q.ids) do wanted[id] = true end
  end
  local total = 0
  for _, id in ipairs(redis.call('zrange', unpack(order))) do
    if (wanted == nil or wanted[id]) and (q.id_gte == cjson.null or id >= q.id_gte)
        and (q.id_lt == cjson.null or id < q.id_lt) then
      if total >= q.offset and (q.limit < 0 or total < q.offset + q.limit) then result[#result + 1] = id end
      total = total + 1
    end
  end
  table.insert(result, 1, total)
end
if #temps > 0 then redis.call('del', unpack(temps)) end
return result
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
