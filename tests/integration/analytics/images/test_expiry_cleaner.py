"""TTL on real local-disk buckets: a bucket's default TTL and a per-object one, expired objects invisible
at once, and the cleaner deleting them from disk, in one pass or running in the background."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from analytics.images.backend import bucket_ttls, open_image_store
from analytics.images.cleaner import ExpiryCleaner
from analytics.images.local_disk import LocalDiskStorage
from analytics.images.samples import BUCKETS, SampleStore
from analytics.images.store import IMAGES_BUCKET, OBJECTS_BUCKET, ImageStore
from analytics.images.ttl import FOREVER, TtlStorage
from infra.settings import ImageStoreSettings

pytestmark = pytest.mark.asyncio
SHORT = timedelta(seconds=0.5)


def files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


async def test_an_expired_object_is_invisible_before_the_cleaner_and_gone_after(tmp_path: Path) -> None:
    disk = LocalDiskStorage(tmp_path)
    store = ImageStore(TtlStorage(disk, {IMAGES_BUCKET: SHORT}))
    await store.start()
    account = uuid.uuid4()
    short = await store.images.put(account, b"\xff\xd8short", "image/jpeg")  # the bucket's default TTL
    kept = await store.images.put(account, b"\xff\xd8kept", "image/jpeg", expire_time=FOREVER)  # ttl=-1 overrides it
    other = await store.objects.put(account, b"no ttl", "text/plain")  # the objects bucket has no default
    info = await store.images.head(account, short)
    assert info is not None and info.expire_time is not None
    assert (await store.images.head(account, kept)).expire_time is None  # type: ignore[union-attr]

    await asyncio.sleep(SHORT.total_seconds() + 0.2)
    assert await store.images.get(account, short) is None
    assert await store.images.head(account, short) is None
    assert await store.images.delete(account, short) is False  # invisible: a DELETE answers 404 as well
    assert await store.images.get(account, kept) is not None
    assert await store.objects.get(account, other) is not None

    short = await store.images.put(account, b"\xff\xd8again", "image/jpeg")
    await asyncio.sleep(SHORT.total_seconds() + 0.2)
    assert len(await disk.keys(IMAGES_BUCKET)) == 2  # still on disk: only hidden
    cleaner = ExpiryCleaner(disk, (IMAGES_BUCKET, OBJECTS_BUCKET), interval=3600)
    assert await cleaner.clean_once() == 1
    assert await disk.keys(IMAGES_BUCKET) == [f"{account}/{kept}"]
    assert not any(str(short) in p.name for p in files(tmp_path))  # bytes and sidecar both gone
    assert await cleaner.clean_once() == 0


async def test_the_running_cleaner_removes_expired_samples_and_stops(tmp_path: Path) -> None:
    disk = LocalDiskStorage(tmp_path)
    samples = SampleStore(TtlStorage(disk))
    await samples.start()
    account = uuid.uuid4()
    soon = await samples.put(account, "faces", b"jpeg", expire_time=datetime.now(UTC) + SHORT)
    later = await samples.put(account, "bodies", b"jpeg", expire_time=datetime.now(UTC) + timedelta(days=1))
    cleaner = ExpiryCleaner(disk, tuple(BUCKETS.values()), interval=0.1)
    await cleaner.start()
    try:
        for _ in range(50):
            if not await disk.keys(BUCKETS["faces"]):
                break
            await asyncio.sleep(0.1)
        assert await disk.keys(BUCKETS["faces"]) == []
        assert await samples.get(account, "faces", soon) is None
        assert await samples.get(account, "bodies", later) == b"jpeg"
    finally:
        await cleaner.stop()
    await cleaner.stop()  # a second stop is harmless


async def test_settings_give_each_bucket_its_default_ttl(tmp_path: Path) -> None:
    settings = ImageStoreSettings(root=tmp_path, samples_ttl_days=30, images_ttl_days=-1, objects_ttl_days=0)
    assert bucket_ttls(settings) == {BUCKETS["faces"]: timedelta(days=30)}
    parts = open_image_store(settings, Path("unused"))
    await parts.start()
    try:
        account = uuid.uuid4()
        sample = await parts.samples.put(account, "faces", b"jpeg")
        expiry = (await parts.samples.head(account, "faces", sample)).expire_time  # type: ignore[union-attr]
        assert expiry is not None and timedelta(days=29) < expiry - datetime.now(UTC) <= timedelta(days=30)
        image = await parts.images.images.put(account, b"\xff\xd8", "image/jpeg")
        assert (await parts.images.images.head(account, image)).expire_time is None  # type: ignore[union-attr]
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*BUCKETS.values(), IMAGES_BUCKET, OBJECTS_BUCKET])
    finally:
        await parts.stop()
