"""Face and body samples (warped crops) in their LUNA buckets, one key per account and sample id."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from analytics.images.storage import ObjectInfo, ObjectStorage
from analytics.images.store import AccountBucket

SampleKind = Literal["faces", "bodies"]
BUCKETS: dict[str, str] = {"faces": "visionlabs-samples", "bodies": "visionlabs-bodies-samples"}
CONTENT_TYPE = "image/jpeg"


class SampleStore:
    def __init__(self, storage: ObjectStorage) -> None:
        self.storage = storage
        self.buckets = {kind: AccountBucket(storage, bucket) for kind, bucket in BUCKETS.items()}

    async def start(self) -> None:
        for bucket in BUCKETS.values():
            await self.storage.ensure_bucket(bucket)

    async def put(
        self, account_id: UUID, kind: SampleKind, jpeg: bytes, sample_id: UUID | None = None,
        expire_time: datetime | None = None,
    ) -> UUID:
        """Store a sample; given its id (a retried handler step), the write replaces the same object.
        ``expire_time`` None: the bucket's default TTL."""
        return await self.buckets[kind].put(account_id, jpeg, CONTENT_TYPE, expire_time=expire_time, object_id=sample_id)

    async def get(self, account_id: UUID, kind: SampleKind, sample_id: UUID) -> bytes | None:
        stored = await self.buckets[kind].get(account_id, sample_id)
        return None if stored is None else stored.data

    async def head(self, account_id: UUID, kind: SampleKind, sample_id: UUID) -> ObjectInfo | None:
        return await self.buckets[kind].head(account_id, sample_id)

    async def delete(self, account_id: UUID, kind: SampleKind, sample_id: UUID) -> bool:
        return await self.buckets[kind].delete(account_id, sample_id)
