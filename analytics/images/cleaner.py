"""The periodic cleaner: deletes expired objects from the buckets. Reads hide them already, so a late or
failed pass costs space, never correctness. It runs in the API process, the one that owns the buckets."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence
from datetime import datetime

from analytics.images.storage import ObjectStorage
from analytics.images.ttl import now_utc

log = logging.getLogger(__name__)


class ExpiryCleaner:
    def __init__(
        self, storage: ObjectStorage, buckets: Sequence[str], interval: float,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.storage = storage  # the backend itself, not the TTL view: it must still see what has expired
        self.buckets = tuple(buckets)
        self.interval = interval
        self.clock = clock
        self._task: asyncio.Task[None] | None = None

    async def clean_once(self) -> int:
        """One pass over every bucket; returns how many objects it deleted."""
        deleted = 0
        for bucket in self.buckets:
            now = self.clock()
            for key in await self.storage.keys(bucket):
                info = await self.storage.head(bucket, key)
                if info is not None and info.expired(now) and await self.storage.delete(bucket, key):
                    deleted += 1
        if deleted:
            log.info("expired objects deleted", extra={"count": deleted})
        return deleted

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def wait(self) -> None:
        if self._task is not None:
            await self._task

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                await self.clean_once()
            except Exception as exc:  # noqa: BLE001 - the next pass retries; reads hide expired objects meanwhile
                log.warning("expiry cleaning failed", extra={"error": str(exc)})
            await asyncio.sleep(self.interval)
