"""The local-disk buckets on a real folder: write, read, replace, list, delete, and keys that try to escape."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analytics.images.local_disk import LocalDiskStorage
from analytics.images.samples import SampleStore

pytestmark = pytest.mark.asyncio


async def test_object_round_trip_keeps_bytes_type_meta_and_expiry(tmp_path: Path) -> None:
    storage = LocalDiskStorage(tmp_path)
    expire = datetime.now(UTC) + timedelta(seconds=60)
    await storage.put("bucket", "acc/one", b"\xff\xd8data", "image/jpeg", {"camera": "gate"}, expire)
    stored = await storage.get("bucket", "acc/one")
    assert stored is not None
    assert stored.data == b"\xff\xd8data"
    assert (stored.info.content_type, stored.info.size, stored.info.meta) == ("image/jpeg", 6, {"camera": "gate"})
    assert stored.info.expire_time == expire
    assert (stored.info.bucket, stored.info.key) == ("bucket", "acc/one")


async def test_a_second_write_replaces_and_delete_removes(tmp_path: Path) -> None:
    storage = LocalDiskStorage(tmp_path)
    await storage.put("b", "k", b"first", "text/plain")
    await storage.put("b", "k", b"second!", "text/plain")
    assert (await storage.get("b", "k")).data == b"second!"  # type: ignore[union-attr]
    assert await storage.keys("b") == ["k"]
    assert await storage.delete("b", "k") is True
    assert await storage.get("b", "k") is None
    assert await storage.head("b", "k") is None
    assert await storage.delete("b", "k") is False
    assert list(tmp_path.rglob("*")) == [tmp_path / "b"]  # nothing left behind, temporary files included


@pytest.mark.parametrize("key", ["../outside", "a/../../x", "/abs", "a//b", "sp ace"])
async def test_keys_cannot_leave_the_bucket(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError):
        await LocalDiskStorage(tmp_path / "root").put("b", key, b"x", "text/plain")
    assert not (tmp_path / "outside").exists()


async def test_samples_are_kept_per_account(tmp_path: Path) -> None:
    samples = SampleStore(LocalDiskStorage(tmp_path))
    await samples.start()
    owner, other = uuid.uuid4(), uuid.uuid4()
    sample_id = await samples.put(owner, "faces", b"jpeg")
    assert await samples.get(owner, "faces", sample_id) == b"jpeg"
    assert await samples.get(other, "faces", sample_id) is None
    assert await samples.get(owner, "bodies", sample_id) is None
    assert await samples.put(owner, "faces", b"again", sample_id) == sample_id  # a retried step: same object
    assert await samples.get(owner, "faces", sample_id) == b"again"
