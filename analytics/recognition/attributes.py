"""Attributes: temporary attributes in Redis for their TTL (LUNA's ``ATTRIBUTES_STORAGE_POLICY``:
default 300 s, at most 86400 s), what a face keeps of the attribute it was made of, and extraction of
attributes from stored face samples.

Usage::

    store = AttributeStore(redis, "selene:vm", AttributeSettings())
    extractor = AttributeExtractor(sdk, samples, store)
    [attribute] = await extractor.extract(account_id, [sample_id], aggregate=True, ttl=store.ttl(None))
    found = await store.get(attribute.attribute_id, {account_id})  # None: unknown, expired or another's

Keys: ``<prefix>:attribute:<id>`` (JSON, expiring), ``<prefix>:attribute-face:<id>`` (set once the
attribute made a face, expiring with it: an attribute makes one face only) and
``<prefix>:face-attribute:<face_id>`` (kept).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

import numpy as np
import redis.asyncio as aioredis

from analytics.images.samples import SampleStore
from analytics.sdk.service import RemoteSdk
from infra.media.image import decode_image
from infra.redis_store import Store
from infra.settings import AttributeSettings
from schemas.attributes import (
    AttributeCreate,
    DescriptorData,
    FaceAttributeRecord,
    TemporaryAttribute,
)
from schemas.descriptor_formats import decode_raw, decode_sdk, encode_raw
from schemas.descriptors import DEFAULT_FACE_DESCRIPTOR_VERSION, DESCRIPTOR_VERSIONS, FACE_DLIB_RESNET_128
from schemas.errors import (
    ATTRIBUTE_EMPTY,
    ATTRIBUTE_LINKED,
    ATTRIBUTE_SAMPLES_WITHOUT_DATA,
    ATTRIBUTE_VERSIONS_REPEATED,
    BAD_QUERY,
    DESCRIPTOR_OF_VERSION_NOT_FOUND,
    DESCRIPTOR_VERSION_UNKNOWN,
    NO_FACES_FOUND,
    SAMPLE_NOT_FOUND,
    WARP_SIZE_INVALID,
    SeleneError,
)
from schemas.faces import RawDescriptor
from streams.models.estimators.engine import Wanted
from streams.models.estimators.registry import require
from streams.models.estimators.warp import FACE_WARP_SIZE

_FROM_WARPS = Wanted(frozenset({"face_descriptor"}), detect_face=True, image_type=1)


def _now() -> datetime:
    return datetime.now(UTC)


def attribute_url(attribute_id: UUID) -> str:
    return f"/6/attributes/{attribute_id}"


def new_attribute(
    account_id: UUID, version: int | None = None, vector: np.ndarray | None = None,
    samples: Sequence[UUID] = (),
) -> TemporaryAttribute:
    """A fresh temporary attribute holding one descriptor (or none) made of ``samples``."""
    descriptors = [] if vector is None or version is None else [
        RawDescriptor(descriptor=encode_raw(vector), descriptor_version=version)]
    return TemporaryAttribute(attribute_id=uuid.uuid4(), account_id=account_id, create_time=_now(),
                              descriptors=descriptors, face_descriptor_samples=list(samples) if descriptors else [])


def descriptor_vector(data: DescriptorData | str) -> tuple[int, np.ndarray]:
    """Version and vector of a descriptor given as ``POST /6/attributes`` takes it."""
    if isinstance(data, str):
        return DEFAULT_FACE_DESCRIPTOR_VERSION, decode_raw(data, DEFAULT_FACE_DESCRIPTOR_VERSION)
    if data.version is None:
        return decode_sdk(data.descriptor)
    return data.version, decode_raw(data.descriptor, data.version)


def attribute_from(account_id: UUID, body: AttributeCreate) -> TemporaryAttribute:
    """A temporary attribute of external data, checked as LUNA checks it (22022, 22023, 22024, 12034...)."""
    if body.face_descriptors is None and body.basic_attributes is None:
        raise SeleneError(ATTRIBUTE_EMPTY)
    if body.face_descriptors is None and body.face_descriptor_samples:
        raise SeleneError(ATTRIBUTE_SAMPLES_WITHOUT_DATA, "face_descriptor_samples")
    if body.basic_attributes is None and body.basic_attributes_samples:
        raise SeleneError(ATTRIBUTE_SAMPLES_WITHOUT_DATA, "basic_attributes_samples")
    descriptors: dict[int, RawDescriptor] = {}
    for given in body.face_descriptors or []:
        version, vector = descriptor_vector(given)
        if DESCRIPTOR_VERSIONS[version].kind != "face":
            raise SeleneError(DESCRIPTOR_VERSION_UNKNOWN, f"{version} (a body version)")
        if version in descriptors:
            raise SeleneError(ATTRIBUTE_VERSIONS_REPEATED, version)
        descriptors[version] = RawDescriptor(descriptor=encode_raw(vector), descriptor_version=version)
    return TemporaryAttribute(
        attribute_id=uuid.uuid4(), account_id=account_id, create_time=_now(), descriptors=list(descriptors.values()),
        basic_attributes=body.basic_attributes, face_descriptor_samples=body.face_descriptor_samples,
        basic_attributes_samples=body.basic_attributes_samples,
    )


def pick_descriptor(attribute: TemporaryAttribute, version: int | None = None) -> RawDescriptor | None:
    """The attribute's descriptor of ``version`` (22018 when it has none of it); without a version the
    default version's, else its first; None when it holds no descriptor."""
    by_version = {d.descriptor_version: d for d in attribute.descriptors}
    if version is not None:
        if version not in by_version:
            raise SeleneError(DESCRIPTOR_OF_VERSION_NOT_FOUND, version, attribute.attribute_id)
        return by_version[version]
    return by_version.get(DEFAULT_FACE_DESCRIPTOR_VERSION) or next(iter(by_version.values()), None)


def targets(given: str | None, allowed: tuple[str, ...]) -> frozenset[str]:
    """LUNA's comma-separated ``targets`` (all when not given); 12012 for an unknown one."""
    if given is None:
        return frozenset(allowed)
    chosen = frozenset(t.strip() for t in given.split(",") if t.strip())
    unknown = chosen - set(allowed)
    if unknown or not chosen:
        raise SeleneError(BAD_QUERY, f"targets: {', '.join(sorted(unknown)) or 'none'}; valid: {', '.join(allowed)}")
    return chosen


class AttributeStore:
    """Temporary attributes (expiring) and face attribute records (kept), scoped by account."""

    def __init__(self, client: aioredis.Redis, prefix: str, settings: AttributeSettings | None = None) -> None:
        self._store = Store(client, prefix)
        self.settings = settings or AttributeSettings()

    def ttl(self, requested: int | None) -> int:
        """The TTL of a new attribute: the default when none is asked for; 12012 past ``max_ttl``."""
        if requested is None:
            return self.settings.default_ttl
        if not 1 <= requested <= self.settings.max_ttl:
            raise SeleneError(BAD_QUERY, f"ttl must be 1..{self.settings.max_ttl}, got {requested}")
        return requested

    def _key(self, attribute_id: UUID) -> str:
        return self._store.key("attribute", attribute_id)

    async def put(self, attribute: TemporaryAttribute, ttl: int) -> None:
        await self._store.redis.set(self._key(attribute.attribute_id), attribute.model_dump_json(), ex=ttl)

    async def get(self, attribute_id: UUID, accounts: set[UUID]) -> TemporaryAttribute | None:
        """The attribute, or None when unknown, expired or of an account not in ``accounts``."""
        found = await self._store.get(self._key(attribute_id), TemporaryAttribute)
        return found if found is not None and found.account_id in accounts else None

    async def get_many(self, attribute_ids: Sequence[UUID], accounts: set[UUID]) -> list[TemporaryAttribute]:
        """Those found, in the order asked."""
        found = await self._store.get_many([self._key(i) for i in attribute_ids], TemporaryAttribute)
        return [a for a in found if a.account_id in accounts]

    async def delete(self, attribute_id: UUID, accounts: set[UUID]) -> bool:
        if await self.get(attribute_id, accounts) is None:
            return False
        await self._store.redis.delete(self._key(attribute_id), self._store.key("attribute-face", attribute_id))
        return True

    async def claim(self, attribute: TemporaryAttribute) -> None:
        """Mark the attribute as made into a face (for as long as it lives); 22001 when it already made one."""
        ttl_ms = await self._store.redis.pttl(self._key(attribute.attribute_id))
        claimed = await self._store.redis.set(self._store.key("attribute-face", attribute.attribute_id), "1",
                                              nx=True, px=max(int(ttl_ms), 1000))
        if not claimed:
            raise SeleneError(ATTRIBUTE_LINKED)

    async def release(self, attribute_id: UUID) -> None:
        """Undo ``claim`` (the face could not be created)."""
        await self._store.redis.delete(self._store.key("attribute-face", attribute_id))

    # -- what faces keep -------------------------------------------------------------------------
    def _face_key(self, face_id: UUID) -> str:
        return self._store.key("face-attribute", face_id)

    async def put_face(self, record: FaceAttributeRecord) -> None:
        await self._store.redis.set(self._face_key(record.face_id), record.model_dump_json())

    async def face(self, face_id: UUID, accounts: set[UUID]) -> FaceAttributeRecord | None:
        found = await self._store.get(self._face_key(face_id), FaceAttributeRecord)
        return found if found is not None and found.account_id in accounts else None

    async def delete_face(self, face_id: UUID) -> None:
        await self._store.redis.delete(self._face_key(face_id))


class AttributeExtractor:
    """Descriptors of stored face samples (warps), run in the Remote SDK's inference thread."""

    def __init__(self, sdk: RemoteSdk, samples: SampleStore, store: AttributeStore) -> None:
        self.sdk = sdk
        self.samples = samples
        self.store = store

    async def descriptors(self, account_id: UUID, sample_ids: Sequence[UUID]) -> list[np.ndarray]:
        """One dlib descriptor (version 1001) per face sample of the account, in order. 11031 for a
        sample that is unknown or another account's, 11030 for one that is not a 250x250 warp."""
        warps = []
        for sample_id in sample_ids:
            data = await self.samples.get(account_id, "faces", sample_id)
            if data is None:
                raise SeleneError(SAMPLE_NOT_FOUND, sample_id)
            pixels = decode_image(data, use_exif=False)
            if pixels.shape[:2] != (FACE_WARP_SIZE, FACE_WARP_SIZE):
                raise SeleneError(WARP_SIZE_INVALID, "250x250")
            warps.append(pixels)
        vectors = []
        for sample_id, estimation in zip(sample_ids, await self.sdk.estimate(warps, _FROM_WARPS)):
            if not estimation.faces or estimation.faces[0].descriptor is None:
                raise SeleneError(NO_FACES_FOUND, sample_id)
            vectors.append(estimation.faces[0].descriptor)
        return vectors

    async def extract(
        self, account_id: UUID, sample_ids: Sequence[UUID], *, descriptor: bool = True, basic: bool = False,
        aggregate: bool = False, ttl: int | None = None,
    ) -> list[TemporaryAttribute]:
        """LUNA's ``extract attributes``: one temporary attribute per sample, or one for them all with
        ``aggregate`` (the mean descriptor: dlib's space is Euclidean). Basic attributes: 200005."""
        if basic:
            require({"basic_attributes"})
        if not descriptor:
            raise SeleneError(BAD_QUERY, "extract_descriptor=0 leaves nothing to extract")
        lifetime = self.store.ttl(ttl)
        vectors = await self.descriptors(account_id, sample_ids)
        if aggregate:
            made = [new_attribute(account_id, FACE_DLIB_RESNET_128, np.mean(vectors, axis=0), sample_ids)]
        else:
            made = [new_attribute(account_id, FACE_DLIB_RESNET_128, v, [s]) for s, v in zip(sample_ids, vectors)]
        for attribute in made:
            await self.store.put(attribute, lifetime)
        return made
