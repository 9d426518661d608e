"""Liveness of Selene's own processes, as Redis keys that expire when a process stops beating.

Works the same in the embedded stack and in compose: ``selene healthcheck worker`` and the API's
health page both read these keys.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import time
from typing import Any

import redis.asyncio as aioredis

log = logging.getLogger(__name__)
PREFIX = "selene:heartbeat"


def instance_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def key(part: str, instance: str) -> str:
    return f"{PREFIX}:{part}:{instance}"


class Heartbeat:
    def __init__(self, redis_url: str, part: str, interval: float = 2.0, ttl: float = 10.0) -> None:
        self.redis_url = redis_url
        self.part = part
        self.instance = instance_name()
        self.interval = interval
        self.ttl = ttl
        self.info: dict[str, Any] = {}
        self._started = time.time()
        self._task: asyncio.Task[None] | None = None
        self._client: aioredis.Redis | None = None

    async def start(self) -> None:
        """Write the first beat before returning, so that the part counts as alive once started."""
        self._client = aioredis.from_url(self.redis_url, socket_timeout=2, socket_connect_timeout=2)
        self._started = time.time()
        await self._write()
        self._task = asyncio.create_task(self._beat(), name=f"heartbeat-{self.part}")

    async def _write(self) -> None:
        assert self._client is not None
        value = json.dumps({"pid": os.getpid(), "started_at": self._started, "beat_at": time.time(), **self.info})
        try:
            await self._client.set(key(self.part, self.instance), value, px=int(self.ttl * 1000))
        except Exception as exc:  # noqa: BLE001 - Redis may be down; keep beating, never crash
            log.warning("heartbeat not written", extra={"part": self.part, "error": str(exc)})

    async def _beat(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self._write()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._client is not None:
            try:
                await self._client.delete(key(self.part, self.instance))
            except Exception:  # noqa: BLE001 - best effort; the key expires anyway
                pass
            await self._client.aclose()


async def alive(client: aioredis.Redis, part: str, instance: str | None = None) -> dict[str, dict[str, Any]]:
    """Instances of ``part`` with a live heartbeat (optionally only ``instance`` or its host prefix)."""
    pattern = key(part, instance + "*" if instance else "*")
    found = {}
    async for name in client.scan_iter(match=pattern, count=100):
        raw = await client.get(name)
        if raw:
            found[name.decode().removeprefix(f"{PREFIX}:{part}:")] = json.loads(raw)
    return found
