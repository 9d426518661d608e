"""The image store as a process builds it from its settings: the backend (local disk or S3), the TTL view
every reader and writer goes through, the samples, images and objects buckets, and the cleaner."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from analytics.images.cleaner import ExpiryCleaner
from analytics.images.local_disk import LocalDiskStorage
from analytics.images.s3 import S3Storage
from analytics.images.samples import BUCKETS, SampleStore
from analytics.images.storage import ObjectStorage
from analytics.images.store import IMAGES_BUCKET, OBJECTS_BUCKET, ImageStore
from analytics.images.ttl import TtlStorage
from infra.settings import ImageStoreSettings

ALL_BUCKETS = (BUCKETS["faces"], BUCKETS["bodies"], IMAGES_BUCKET, OBJECTS_BUCKET)


def bucket_ttls(settings: ImageStoreSettings) -> dict[str, timedelta]:
    """Each bucket's default TTL; a bucket absent keeps its objects until they are deleted."""
    days = {
        BUCKETS["faces"]: settings.samples_ttl_days, BUCKETS["bodies"]: settings.bodies_samples_ttl_days,
        IMAGES_BUCKET: settings.images_ttl_days, OBJECTS_BUCKET: settings.objects_ttl_days,
    }
    return {bucket: timedelta(days=n) for bucket, n in days.items() if n > 0}


def open_backend(settings: ImageStoreSettings, data_dir: Path) -> ObjectStorage:
    if settings.backend == "s3":
        return S3Storage(
            settings.s3_endpoint, settings.s3_region, settings.s3_access_key, settings.s3_secret_key,
            settings.s3_bucket_prefix, settings.s3_verify_ssl, settings.s3_timeout,
        )
    return LocalDiskStorage(settings.root or data_dir / "images")


@dataclass
class ImageStoreParts:
    samples: SampleStore
    images: ImageStore
    cleaner: ExpiryCleaner

    async def start(self) -> None:
        await self.samples.start()
        await self.images.start()
        await self.cleaner.start()

    async def stop(self) -> None:
        await self.cleaner.stop()


def open_image_store(settings: ImageStoreSettings, data_dir: Path) -> ImageStoreParts:
    backend = open_backend(settings, data_dir)
    storage = TtlStorage(backend, bucket_ttls(settings))
    return ImageStoreParts(
        samples=SampleStore(storage), images=ImageStore(storage, settings.max_object_bytes),
        cleaner=ExpiryCleaner(backend, ALL_BUCKETS, settings.clean_interval),
    )
