"""An account's objects in one bucket, keyed ``<account_id>/<object_id>``: another account's id is simply
not there. The images and objects buckets of LUNA's ``/images`` and ``/objects`` are two of these."""

from __future__ import annotations

import uuid
from datetime import datetime
from uuid import UUID

from analytics.images.storage import ObjectInfo, ObjectStorage, StoredObject

IMAGES_BUCKET = "visionlabs-image-origin"
OBJECTS_BUCKET = "visionlabs-objects"
DEFAULT_MAX_BYTES = 16 * 1024 * 1024


def account_key(account_id: UUID, object_id: UUID) -> str:
    return f"{account_id}/{object_id}"


class AccountBucket:
    def __init__(self, storage: ObjectStorage, bucket: str) -> None:
        self.storage = storage
        self.bucket = bucket

    async def put(
        self, account_id: UUID, data: bytes, content_type: str, meta: dict[str, str] | None = None,
        expire_time: datetime | None = None, object_id: UUID | None = None,
    ) -> UUID:
        """Store under a new id, or under ``object_id`` (a retried step writes the same object again)."""
        object_id = object_id or uuid.uuid4()
        await self.storage.put(self.bucket, account_key(account_id, object_id), data, content_type, meta, expire_time)
        return object_id

    async def get(self, account_id: UUID, object_id: UUID) -> StoredObject | None:
        return await self.storage.get(self.bucket, account_key(account_id, object_id))

    async def head(self, account_id: UUID, object_id: UUID) -> ObjectInfo | None:
        return await self.storage.head(self.bucket, account_key(account_id, object_id))

    async def delete(self, account_id: UUID, object_id: UUID) -> bool:
        return await self.storage.delete(self.bucket, account_key(account_id, object_id))


class ImageStore:
    """Source images (``/images``) and arbitrary objects (``/objects``); ``max_object_bytes`` bounds every
    upload to the store, samples included."""

    def __init__(self, storage: ObjectStorage, max_object_bytes: int = DEFAULT_MAX_BYTES) -> None:
        self.storage = storage
        self.max_object_bytes = max_object_bytes
        self.images = AccountBucket(storage, IMAGES_BUCKET)
        self.objects = AccountBucket(storage, OBJECTS_BUCKET)

    async def start(self) -> None:
        for bucket in (IMAGES_BUCKET, OBJECTS_BUCKET):
            await self.storage.ensure_bucket(bucket)
