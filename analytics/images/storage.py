"""The storage interface every bucket backend (local disk, S3) implements, and the object it returns."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class ObjectInfo:
    """What HEAD answers: everything about a stored object but its bytes."""

    bucket: str
    key: str
    size: int
    content_type: str
    create_time: datetime
    expire_time: datetime | None = None  # None: kept until deleted
    meta: dict[str, str] = field(default_factory=dict)  # X-Luna-Meta-<name> headers, names lower-case

    def expired(self, now: datetime) -> bool:
        return self.expire_time is not None and self.expire_time <= now


@dataclass(frozen=True)
class StoredObject:
    info: ObjectInfo
    data: bytes


class ObjectStorage(Protocol):
    """Buckets of keyed objects. Keys may hold ``/`` (Selene puts the account id first). Writing a key again
    replaces the object, so every write is idempotent on its key."""

    async def ensure_bucket(self, bucket: str) -> None: ...

    async def put(
        self, bucket: str, key: str, data: bytes, content_type: str,
        meta: dict[str, str] | None = None, expire_time: datetime | None = None,
    ) -> ObjectInfo: ...

    async def get(self, bucket: str, key: str) -> StoredObject | None: ...

    async def head(self, bucket: str, key: str) -> ObjectInfo | None: ...

    async def delete(self, bucket: str, key: str) -> bool: ...

    async def keys(self, bucket: str, prefix: str = "") -> list[str]: ...
