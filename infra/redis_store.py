"""Optimistic transactions on Redis: WATCH the keys, read them, compute, MULTI/EXEC the writes; retry
when another writer got there first. The compute step is a plain function, so a retry simply runs it
again on fresh values, and no concurrent request's write is ever lost."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import cached_property
from typing import Any, TypeVar

import redis.asyncio as aioredis
from pydantic import BaseModel
from redis.exceptions import WatchError

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)
MAX_ATTEMPTS = 100


class Tx:
    """Writes queued by a transaction body, applied atomically once the body returns."""

    def __init__(self) -> None:
        self.ops: list[Callable[[Any], Any]] = []

    def set(self, key: str, value: BaseModel) -> None:
        data = value.model_dump_json()
        self.ops.append(lambda p: p.set(key, data))

    def delete(self, *keys: str) -> None:
        self.ops.append(lambda p: p.delete(*keys))

    def zadd(self, key: str, mapping: dict[str, float], nx: bool = False) -> None:
        self.ops.append(lambda p: p.zadd(key, mapping, nx=nx))

    def sadd(self, key: str, *members: str) -> None:
        self.ops.append(lambda p: p.sadd(key, *members))

    def srem(self, key: str, *members: str) -> None:
        self.ops.append(lambda p: p.srem(key, *members))

    def zrem(self, key: str, *members: str) -> None:
        self.ops.append(lambda p: p.zrem(key, *members))

    def hset(self, key: str, field: str, value: str) -> None:
        self.ops.append(lambda p: p.hset(key, field, value))

    def hdel(self, key: str, *fields: str) -> None:
        self.ops.append(lambda p: p.hdel(key, *fields))

    def hincr(self, key: str, field: str) -> None:
        self.ops.append(lambda p: p.hincrby(key, field, 1))


class Store:
    """A Redis client plus the key namespace; every registry part goes through it."""

    def __init__(self, client: aioredis.Redis, prefix: str = "selene:vm") -> None:
        self.redis = client
        self.prefix = prefix

    @cached_property
    def _get_indexed(self) -> Any:
        """Registered on first use: a store is built before (or, in unit tests, without) a connection."""
        return self.redis.register_script(_GET_INDEXED)

    def key(self, *parts: object) -> str:
        return ":".join([self.prefix, *(str(p) for p in parts)])

    async def get(self, key: str, model: type[M]) -> M | None:
        raw = await self.redis.get(key)
        return None if raw is None else model.model_validate_json(raw)

    async def get_many(self, keys: Sequence[str], model: type[M]) -> list[M]:
        if not keys:
            return []
        return [model.model_validate_json(raw) for raw in await self.redis.mget(keys) if raw is not None]

    async def get_indexed(self, index: str, key_prefix: str, model: type[M], low: int = 0, high: int = -1) -> list[M]:
        """The values whose ids are ranks ``low..high`` of the sorted set ``index`` (keys ``key_prefix<id>``),
        in the index's order, read in one round trip."""
        raws = await self._get_indexed(keys=[index], args=[key_prefix, low, high])
        return [model.model_validate_json(raw) for raw in raws if raw]

    async def transact(self, watch: Sequence[str], body: Callable[[dict[str, bytes | None], Tx], T]) -> T:
        """Run ``body(values of watch, tx)`` and apply ``tx`` atomically, retrying on conflict.

        ``body`` may be sync only: nothing may await between the read and the EXEC.
        """
        for _ in range(MAX_ATTEMPTS):
            async with self.redis.pipeline(transaction=True) as pipe:
                try:
                    values: dict[str, bytes | None] = {}
                    if watch:
                        await pipe.watch(*watch)
                        values = dict(zip(watch, await pipe.mget(watch), strict=True))
                    tx = Tx()
                    result = body(values, tx)
                    pipe.multi()
                    for op in tx.ops:
                        op(pipe)
                    await pipe.execute()
                    return result
                except WatchError:
                    continue
        raise RuntimeError(f"transaction on {list(watch)} kept conflicting")


def load(raw: bytes | None, model: type[M]) -> M | None:
    return None if raw is None else model.model_validate_json(raw)


# ZRANGE, then MGET in slices (Lua's unpack is limited to a few thousand values); a missing value is false.
_GET_INDEXED = """
local ids = redis.call('zrange', KEYS[1], ARGV[2], ARGV[3])
local values = {}
for start = 1, #ids, 1000 do
  local keys = {}
  for i = start, math.min(start + 999, #ids) do keys[#keys + 1] = ARGV[1] .. ids[i] end
  for _, value in ipairs(redis.call('mget', unpack(keys))) do values[#values + 1] = value end
end
return values
"""
