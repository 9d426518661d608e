"""Time to live: a bucket's default TTL for writes that name none, and expired objects hidden from reads at
once, so that an object is gone for clients the moment it expires; the cleaner frees its space later.

LUNA gives a TTL in days: one of ``TTL_DAYS``, or -1 to keep the object until it is deleted.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta

from analytics.images.storage import ObjectInfo, ObjectStorage, StoredObject

TTL_DAYS = (1, 2, 3, 4, 5, 6, 7, 14, 30, 60, 90, 180, 365)  # LUNA's values (its S3 lifecycle rules)
KEEP = -1
# An expire_time that overrides the bucket's default: kept until deleted. Never stored as such.
FOREVER = datetime.max.replace(tzinfo=UTC)


def now_utc() -> datetime:
    return datetime.now(UTC)


def expire_time_of(ttl_days: int | None, now: datetime) -> datetime | None:
    """A LUNA ``ttl`` as the expire_time to write: None (the bucket's default), FOREVER for -1, else now + days."""
    if ttl_days is None:
        return None
    if ttl_days == KEEP:
        return FOREVER
    return now + timedelta(days=ttl_days)


class TtlStorage:
    """An ObjectStorage that applies per-bucket default TTLs and hides what has expired. ``keys`` still lists
    expired objects until the cleaner removes them."""

    def __init__(
        self, storage: ObjectStorage, defaults: Mapping[str, timedelta] | None = None,
        clock: Callable[[], datetime] = now_utc,
    ) -> None:
        self.storage = storage
        self.defaults = dict(defaults or {})
        self.clock = clock

    async def ensure_bucket(self, bucket: str) -> None:
        await self.storage.ensure_bucket(bucket)

    async def put(
        self, bucket: str, key: str, data: bytes, content_type: str,
        meta: dict[str, str] | None = None, expire_time: datetime | None = None,
    ) -> ObjectInfo:
        if expire_time is None and bucket in self.defaults:
            expire_time = self.clock() + self.defaults[bucket]
        elif expire_time == FOREVER:
            expire_time = None
        return await self.storage.put(bucket, key, data, content_type, meta, expire_time)

    async def get(self, bucket: str, key: str) -> StoredObject | None:
        stored = await self.storage.get(bucket, key)
        return None if stored is None or stored.info.expired(self.clock()) else stored

    async def head(self, bucket: str, key: str) -> ObjectInfo | None:
        info = await self.storage.head(bucket, key)
        return None if info is None or info.expired(self.clock()) else info

    async def delete(self, bucket: str, key: str) -> bool:
        """Removes the object, expired or not; True only if it was still visible."""
        visible = await self.head(bucket, key) is not None
        return await self.storage.delete(bucket, key) and visible

    async def keys(self, bucket: str, prefix: str = "") -> list[str]:
        return await self.storage.keys(bucket, prefix)
