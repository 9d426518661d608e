"""Face and body samples (warped crops) in their LUNA buckets, one key per account and sample id."""

from __future__ import annotations

import uuid
from typing import Literal
from uuid import UUID

from analytics.images.storage import ObjectInfo, ObjectStorage

SampleKind = Literal["faces", "bodies"]
BUCKETS: dict[str, str] = {"faces": "visionlabs-samples", "bodies": "visionlabs-bodies-samples"}
CONTENT_TYPE = "image/jpeg"


def sample_key(account_id: UUID, sample_id: UUID) -> str:
    return f"{account_id}/{sample_id}"


class SampleStore:
    def __init__(self, storage: ObjectStorage) -> None:
        self.storage = storage

    async def start(self) -> None:
        for bucket in BUCKETS.values():
            await self.storage.ensure_bucket(bucket)

    async def put(self, account_id: UUID, kind: SampleKind, jpeg: bytes, sample_id: UUID | None = None) -> UUID:
        """Store a sample; given its id (a retried handler step), the write replaces the same object."""
        sample_id = sample_id or uuid.uuid4()
        await self.storage.put(BUCKETS[kind], sample_key(account_id, sample_id), jpeg, CONTENT_TYPE)
        return sample_id

    async def get(self, account_id: UUID, kind: SampleKind, sample_id: UUID) -> bytes | None:
        stored = await self.storage.get(BUCKETS[kind], sample_key(account_id, sample_id))
        return None if stored is None else stored.data

    async def head(self, account_id: UUID, kind: SampleKind, sample_id: UUID) -> ObjectInfo | None:
        return await self.storage.head(BUCKETS[kind], sample_key(account_id, sample_id))

    async def delete(self, account_id: UUID, kind: SampleKind, sample_id: UUID) -> bool:
        return await self.storage.delete(BUCKETS[kind], sample_key(account_id, sample_id))
