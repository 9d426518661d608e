"""Buckets as folders on local disk: each object is its bytes plus a JSON sidecar with its info.

Writes go to a temporary file renamed into place, so a reader never sees half an object and a crash
mid-write leaves the old object (or none), never a torn one.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from analytics.images.storage import ObjectInfo, StoredObject

_SAFE_PART = re.compile(r"^[A-Za-z0-9._-]+$")
_SIDECAR = ".info.json"


class LocalDiskStorage:
    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, bucket: str, key: str) -> Path:
        parts = [bucket, *key.split("/")]
        # Keys come from clients: refuse anything that could leave the bucket's folder.
        if not all(_SAFE_PART.match(part) and part not in (".", "..") for part in parts):
            raise ValueError(f"invalid object key {bucket}/{key}")
        return self.root.joinpath(*parts)

    async def ensure_bucket(self, bucket: str) -> None:
        await asyncio.to_thread(self._path(bucket, "x").parent.mkdir, parents=True, exist_ok=True)

    async def put(
        self, bucket: str, key: str, data: bytes, content_type: str,
        meta: dict[str, str] | None = None, expire_time: datetime | None = None,
    ) -> ObjectInfo:
        info = ObjectInfo(bucket, key, len(data), content_type, datetime.now(UTC), expire_time, dict(meta or {}))
        await asyncio.to_thread(self._write, self._path(bucket, key), data, info)
        return info

    async def get(self, bucket: str, key: str) -> StoredObject | None:
        return await asyncio.to_thread(self._read, bucket, key)

    async def head(self, bucket: str, key: str) -> ObjectInfo | None:
        return await asyncio.to_thread(self._read_info, bucket, key)

    async def delete(self, bucket: str, key: str) -> bool:
        return await asyncio.to_thread(self._remove, self._path(bucket, key))

    async def keys(self, bucket: str, prefix: str = "") -> list[str]:
        return await asyncio.to_thread(self._keys, self.root / bucket, prefix)

    @staticmethod
    def _write(path: Path, data: bytes, info: ObjectInfo) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        sidecar = json.dumps({
            "size": info.size, "content_type": info.content_type, "create_time": info.create_time.isoformat(),
            "expire_time": info.expire_time.isoformat() if info.expire_time else None, "meta": info.meta,
        }).encode()
        # The sidecar lands last: an object without one is invisible, so readers never pair new bytes with old info.
        for target, content in ((path, data), (path.with_name(path.name + _SIDECAR), sidecar)):
            handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
            with os.fdopen(handle, "wb") as file:
                file.write(content)
            os.replace(temporary, target)

    def _read_info(self, bucket: str, key: str) -> ObjectInfo | None:
        path = self._path(bucket, key)
        try:
            raw = json.loads(path.with_name(path.name + _SIDECAR).read_bytes())
        except FileNotFoundError:
            return None
        return ObjectInfo(
            bucket=bucket, key=key, size=raw["size"], content_type=raw["content_type"],
            create_time=datetime.fromisoformat(raw["create_time"]),
            expire_time=datetime.fromisoformat(raw["expire_time"]) if raw["expire_time"] else None,
            meta=raw["meta"],
        )

    def _read(self, bucket: str, key: str) -> StoredObject | None:
        info = self._read_info(bucket, key)
        if info is None:
            return None
        try:
            data = self._path(bucket, key).read_bytes()
        except FileNotFoundError:  # deleted between the two reads
            return None
        return StoredObject(info, data)

    @staticmethod
    def _remove(path: Path) -> bool:
        sidecar = path.with_name(path.name + _SIDECAR)
        existed = sidecar.exists()
        for target in (sidecar, path):  # the sidecar first: the object vanishes at once for readers
            target.unlink(missing_ok=True)
        return existed

    @staticmethod
    def _keys(folder: Path, prefix: str) -> list[str]:
        if not folder.is_dir():
            return []
        found = []
        for sidecar in folder.rglob("*" + _SIDECAR):
            key = sidecar.relative_to(folder).as_posix()[: -len(_SIDECAR)]
            if key.startswith(prefix):
                found.append(key)
        return sorted(found)
