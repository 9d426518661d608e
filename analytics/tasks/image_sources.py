"""Where an estimator task's images come from: a ZIP archive (an object of this account's ``/6/objects``,
or a URL) or a directory on the server (LUNA's network disk). A source lists its image names, sorted, when
the task is planned (subtasks are ranges of that list) and reads one image by name in a subtask; an
archive that cannot be read is 28026, a directory 28028, one unreadable file 28027 (that image only)."""

from __future__ import annotations

import asyncio
import io
import os
import zipfile
from pathlib import Path
from typing import Protocol
from uuid import UUID

import httpx

from analytics.images.storage import ObjectStorage
from analytics.images.store import OBJECTS_BUCKET, AccountBucket
from schemas.errors import ARCHIVE_READ_FAILED, DIRECTORY_READ_FAILED, FILE_READ_FAILED, SeleneError
from schemas.estimator_task import FolderSource, ZipSource

ARCHIVE_MAX_BYTES = 1 << 30  # held in memory by a subtask; LUNA's ARCHIVE_MAX_SIZE is for a disk copy
DOWNLOAD_TIMEOUT = 60.0


class ImageSource(Protocol):
    async def names(self) -> list[str]: ...

    async def read(self, name: str) -> bytes: ...


class ZipImages:
    def __init__(self, data: bytes, reference: str) -> None:
        self.reference = reference
        try:
            self.archive = zipfile.ZipFile(io.BytesIO(data))
        except (zipfile.BadZipFile, ValueError) as exc:
            raise SeleneError(ARCHIVE_READ_FAILED, f"{reference}: {exc}") from exc

    @classmethod
    async def open(cls, source: ZipSource, storage: ObjectStorage, account_id: UUID) -> ZipImages:
        return cls(await _archive_bytes(source.reference, storage, account_id), source.reference)

    async def names(self) -> list[str]:
        return sorted(i.filename for i in self.archive.infolist()
                      if not i.is_dir() and not i.filename.startswith("__MACOSX/"))

    async def read(self, name: str) -> bytes:
        try:
            return await asyncio.to_thread(self.archive.read, name)
        except (KeyError, RuntimeError, zipfile.BadZipFile, NotImplementedError) as exc:  # missing, encrypted, bad CRC
            raise SeleneError(FILE_READ_FAILED, f"{name}: {exc}") from exc


async def _archive_bytes(reference: str, storage: ObjectStorage, account_id: UUID) -> bytes:
    if reference.startswith(("http://", "https://")):
        try:
            async with httpx.AsyncClient(follow_redirects=True, timeout=DOWNLOAD_TIMEOUT) as client:
                response = await client.get(reference)
                response.raise_for_status()
        except httpx.HTTPError as exc:
            raise SeleneError(ARCHIVE_READ_FAILED, f"{reference}: {exc}") from exc
        data = response.content
    else:
        try:
            object_id = UUID(reference)
        except ValueError as exc:
            raise SeleneError(ARCHIVE_READ_FAILED, f"{reference}: neither an object id nor an http(s) URL") from exc
        found = await AccountBucket(storage, OBJECTS_BUCKET).get(account_id, object_id)  # another account's: absent
        if found is None:
            raise SeleneError(ARCHIVE_READ_FAILED, f"{reference}: no such object")
        data = found.data
    if len(data) > ARCHIVE_MAX_BYTES:
        raise SeleneError(ARCHIVE_READ_FAILED, f"{reference}: larger than {ARCHIVE_MAX_BYTES} bytes")
    return data


class FolderImages:
    """Only under the directories the settings allow: a task must not read the server's other files."""

    def __init__(self, source: FolderSource, allowed: list[str]) -> None:
        self.source = source
        self.root = Path(source.path)
        self.allowed = [Path(a).resolve() for a in allowed]

    async def names(self) -> list[str]:
        if not self.root.is_absolute() or not self.root.is_dir():
            raise SeleneError(DIRECTORY_READ_FAILED, f"{self.source.path}: not an absolute path of a directory")
        if not any(self.root.resolve().is_relative_to(a) for a in self.allowed):
            raise SeleneError(DIRECTORY_READ_FAILED, f"{self.source.path}: not under the allowed directories")
        return await asyncio.to_thread(self._walk)

    def _walk(self) -> list[str]:
        found = []
        for folder, _, files in os.walk(self.root, followlinks=bool(self.source.follow_links)):
            for file in files:
                if file.startswith(self.source.prefix) and file.endswith(self.source.postfix):
                    found.append(str((Path(folder) / file).relative_to(self.root)))
        return sorted(found)

    async def read(self, name: str) -> bytes:
        path = (self.root / name).resolve()
        if not self.source.follow_links and not path.is_relative_to(self.root.resolve()):
            raise SeleneError(FILE_READ_FAILED, f"{name}: outside {self.source.path}")
        try:
            return await asyncio.to_thread(path.read_bytes)
        except OSError as exc:
            raise SeleneError(FILE_READ_FAILED, f"{name}: {exc.strerror}") from exc


async def open_source(source: ZipSource | FolderSource, storage: ObjectStorage, account_id: UUID,
                      allowed_directories: list[str]) -> ImageSource:
    if isinstance(source, ZipSource):
        return await ZipImages.open(source, storage, account_id)
    return FolderImages(source, allowed_directories)
