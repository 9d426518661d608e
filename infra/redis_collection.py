"""Plain collections of registry objects (agents, groups, analytics, accounts, tokens): one JSON value
per object, an index by creation time, and an optional unique name per scope."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Generic, TypeVar

from pydantic import BaseModel
from redis.exceptions import WatchError

from infra.redis_store import Store, Tx, load
from schemas.errors import OBJECT_EXISTS, OBJECT_NOT_FOUND, SeleneError

M = TypeVar("M", bound=BaseModel)


class Collection(Generic[M]):
    def __init__(self, store: Store, kind: str, model: type[M], what: str) -> None:
        self.store = store
        self.kind = kind
        self.model = model
        self.what = what  # the object named in 11020 errors
        self.index = store.key(f"{kind}s")
        self.names = store.key(f"{kind}-names")

    def key(self, object_id: object) -> str:
        return self.store.key(self.kind, object_id)

    async def get(self, object_id: object) -> M | None:
        return await self.store.get(self.key(object_id), self.model)

    async def get_raw(self, object_id: object) -> bytes | None:
        """The stored JSON, for a caller that keeps what it parsed."""
        return await self.store.redis.get(self.key(object_id))

    async def all(self) -> list[M]:
        """Every object, oldest first (one round trip: the index and the values are read in Redis)."""
        return await self.store.get_indexed(self.index, self.key(""), self.model)

    async def id_by_name(self, name: str) -> str | None:
        raw = await self.store.redis.hget(self.names, name)
        return None if raw is None else raw.decode()

    async def ids_by_names(self, *names: str) -> list[str | None]:
        """The ids of ``names`` in one round trip (None for a name not taken)."""
        return [None if raw is None else raw.decode() for raw in await self.store.redis.hmget(self.names, list(names))]

    async def create(self, object_id: object, value: M, created: datetime, name: str | None = None) -> None:
        """Store a new object; with ``name``, refuse it if the name is taken."""

        def body(values: dict[str, bytes | None], tx: Tx) -> None:
            if name is not None:
                tx.hset(self.names, name, str(object_id))
            tx.set(self.key(object_id), value)
            tx.zadd(self.index, {str(object_id): created.timestamp()})

        if name is None:
            await self.store.transact([], body)
            return
        await self._with_free_name(name, body)

    async def _with_free_name(self, name: str, body: Callable[[dict[str, bytes | None], Tx], None]) -> None:
        async with self.store.redis.pipeline(transaction=True) as pipe:
            # Uniqueness: WATCH the names hash, so two concurrent creates cannot both see the name free.
            while True:
                try:
                    await pipe.watch(self.names)
                    if await pipe.hexists(self.names, name):
                        raise SeleneError(OBJECT_EXISTS, f"{self.what} {name.split(':', 1)[-1]!r}")
                    tx = Tx()
                    body({}, tx)
                    pipe.multi()
                    for op in tx.ops:
                        op(pipe)
                    await pipe.execute()
                    return
                except WatchError:
                    continue

    async def rename(self, object_id: object, old_name: str, new_name: str, value: M) -> None:
        """Store ``value`` under a new unique name, freeing the old one in the same transaction."""

        def body(values: dict[str, bytes | None], tx: Tx) -> None:
            tx.hdel(self.names, old_name)
            tx.hset(self.names, new_name, str(object_id))
            tx.set(self.key(object_id), value)

        await self._with_free_name(new_name, body)

    async def update(self, object_id: object, mutate: Callable[[M], None]) -> M:
        key = self.key(object_id)

        def body(values: dict[str, bytes | None], tx: Tx) -> M:
            value = load(values[key], self.model)
            if value is None:
                raise SeleneError(OBJECT_NOT_FOUND, f"{self.what} with id {object_id}")
            mutate(value)
            tx.set(key, value)
            return value

        return await self.store.transact([key], body)

    async def delete(self, object_id: object, name: str | None = None) -> bool:
        removed = await self.store.redis.delete(self.key(object_id))
        await self.store.redis.zrem(self.index, str(object_id))
        if name is not None:
            await self.store.redis.hdel(self.names, name)
        return bool(removed)
