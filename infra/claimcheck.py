"""Claim-check mode: a frame's JPEG goes to Redis with a TTL and only its key rides on Kafka.

For frames too large or too many for the broker: consumers read the key from the FrameHeader
(``encoding="claim-check"``, ``claim_key``) and fetch the bytes before the TTL runs out.
"""

from __future__ import annotations

from uuid import UUID

import redis.asyncio as redis


def claim_key(stream_id: UUID, version: int, run: int, frame_number: int) -> str:
    return f"selene:frame:{stream_id}:{version}:{run}:{frame_number}"


class ClaimCheck:
    def __init__(self, url: str, ttl: float = 60.0) -> None:
        self.ttl_ms = int(ttl * 1000)
        self._redis = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=5)  # an outage fails fast

    async def put(self, key: str, data: bytes) -> None:
        await self._redis.set(key, data, px=self.ttl_ms)

    async def get(self, key: str) -> bytes | None:
        """The frame's bytes; None once its TTL ran out."""
        return await self._redis.get(key)

    async def close(self) -> None:
        await self._redis.aclose()
