"""The leader's lease in Redis: SET NX PX, renewed by its holder only, given back on a clean stop.

When the holder dies its lease runs out and another instance takes it.
"""

from __future__ import annotations

import uuid

import redis.asyncio as aioredis

_RENEW = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) end
return redis.call('set', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) and 1 or 0
"""
_RESIGN = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


class Lease:
    def __init__(self, redis: aioredis.Redis, key: str) -> None:
        self._redis = redis
        self._key = key
        self.instance = uuid.uuid4().hex

    async def hold(self, ttl: float) -> bool:
        """Take the lease if it is free, renew it if it is ours; whether we hold it for ``ttl`` seconds."""
        return bool(await self._redis.eval(_RENEW, 1, self._key, self.instance, int(ttl * 1000)))

    async def give_back(self) -> None:
        """Free the lease if it is still ours."""
        await self._redis.eval(_RESIGN, 1, self._key, self.instance)
