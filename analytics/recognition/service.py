"""Faces, lists and matching for the API: face creation from images or descriptors, list membership
and 1:N search, over the Milvus face store and the dlib extractor.

The extractor runs in one worker thread (dlib objects are not shared between threads) and is loaded
on first use, so an API that never sees an image never pays for the model.
"""

from __future__ import annotations

import asyncio
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from uuid import UUID

import numpy as np
import redis.asyncio as aioredis

from analytics.recognition.event_descriptors import EventArchive
from analytics.recognition.face_store import FaceFilters, FaceStore, StoredFace
from infra.media.image import decode_image
from infra.redis_collection import Collection
from infra.redis_store import Store
from schemas.descriptor_formats import (
    common_version,
    decode_descriptor,
    encode_raw,
)
from schemas.errors import (
    BAD_INPUT_DATA,
    MATCH_LIMIT_EXCEEDED,
    MULTIPLE_FACES,
    NO_FACES_FOUND,
    OBJECT_NOT_FOUND,
    SERVICE_UNAVAILABLE,
    SeleneError,
)
from schemas.faces import (
    MAX_RESULT_CANDIDATES,
    CandidateSetResult,
    EventCandidates,
    EventCandidateSetResult,
    EventReference,
    Face,
    FaceCandidates,
    FaceCreate,
    FaceList,
    FaceMatch,
    FaceReference,
    ImageReference,
    Reference,
    ReferenceId,
    ReferenceMatches,
)

if TYPE_CHECKING:
    from streams.models.face_descriptor import FaceExtractor


def _now() -> datetime:
    return datetime.now(UTC)


def face_not_found(face_id: UUID) -> SeleneError:
    return SeleneError(OBJECT_NOT_FOUND, f"face with id {face_id}")


def to_face(stored: StoredFace, with_descriptor: bool = False) -> Face:
    return Face(
        account_id=stored.account_id, avatar=stored.avatar, create_time=stored.create_time, event_id=stored.event_id,
        external_id=stored.external_id, face_id=stored.face_id, lists=stored.lists, user_data=stored.user_data,
        descriptor_version=stored.descriptor_version,
        descriptor=encode_raw(stored.vector) if with_descriptor and stored.vector is not None else None,
    )


def open_lists(client: aioredis.Redis, prefix: str = "selene:vm") -> Collection[FaceList]:
    """Face lists in Redis (a list is small and changes rarely; its faces live in Milvus)."""
    return Collection(Store(client, prefix), "list", FaceList, "list")


class Recognition:
    def __init__(self, store: FaceStore, lists: Collection[FaceList], events: EventArchive | None = None) -> None:
        self.store = store
        self.lists = lists
        self.events = events  # None: no event store (events as references or candidates answer 45004)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="face-extractor")
        self._extractor: FaceExtractor | None = None

    def close(self) -> None:
        self._thread.shutdown(wait=False, cancel_futures=True)

    # -- extraction --------------------------------------------------------------------------------
    def _extract(self, image: np.ndarray, multiface_policy: int) -> tuple[int, np.ndarray]:
        if self._extractor is None:
            from streams.models.face_descriptor import FaceExtractor

            self._extractor = FaceExtractor()
        faces = self._extractor.extract(image)
        if not faces:  # a photo cropped tight around one face: the detector needs a margin around it
            tight = self._extractor.describe_crop(image)
            faces = [tight] if tight is not None else []
        if not faces:
            raise SeleneError(NO_FACES_FOUND)
        if len(faces) > 1 and multiface_policy == 0:
            raise SeleneError(MULTIPLE_FACES, "", f"{len(faces)} faces")
        # The photo's subject: the largest face (the detector's best score may be a face in the background).
        subject = max(faces, key=lambda f: f.area)
        return self._extractor.descriptor_version, subject.descriptor

    async def descriptor_of_image(self, data: str | bytes, multiface_policy: int = 2) -> tuple[int, np.ndarray]:
        image = decode_image(data)
        return await asyncio.get_running_loop().run_in_executor(self._thread, self._extract, image, multiface_policy)

    # -- faces ---------------------------------------------------------------------------------------
    async def create_face(self, account_id: UUID, body: FaceCreate, image: bytes | None = None) -> StoredFace:
        if image is not None or body.image is not None:
            version, vector = await self.descriptor_of_image(image if image is not None else body.image or "",
                                                             body.multiface_policy)
        else:
            descriptor = body.descriptor or body.sdk_descriptor
            assert descriptor is not None
            version, vector = decode_descriptor(descriptor)
        for list_id in body.lists:
            await self.face_list(list_id, {account_id})
        face = StoredFace(
            face_id=uuid.uuid4(), account_id=account_id, external_id=body.external_id, user_data=body.user_data,
            avatar=body.avatar, event_id=body.event_id, create_time=_now(), lists=list(body.lists),
            descriptor_version=version, vector=vector.tolist(),
        )
        await self.store.insert(face)
        return face

    async def face(self, face_id: UUID, account_id: UUID | None, with_descriptor: bool = False) -> StoredFace:
        found = await self.store.get(account_id, [face_id], with_vectors=with_descriptor)
        if not found:
            raise face_not_found(face_id)
        return found[0]

    # -- lists -----------------------------------------------------------------------------------
    async def create_list(self, account_id: UUID, user_data: str) -> FaceList:
        now = _now()
        face_list = FaceList(account_id=account_id, list_id=uuid.uuid4(), user_data=user_data, create_time=now,
                             last_update_time=now)
        await self.lists.create(face_list.list_id, face_list, now)
        return face_list

    async def face_list(self, list_id: UUID, accounts: set[UUID]) -> FaceList:
        found = await self.lists.get(list_id)
        if found is None or found.account_id not in accounts:
            raise SeleneError(OBJECT_NOT_FOUND, f"list with id {list_id}")
        return found

    async def with_count(self, face_list: FaceList) -> FaceList:
        count = await self.store.count(face_list.account_id, FaceFilters(list_id=face_list.list_id))
        return face_list.model_copy(update={"faces_count": count})

    async def delete_list(self, face_list: FaceList, with_faces: bool) -> None:
        await self.store.drop_list(face_list.account_id, face_list.list_id, with_faces)
        await self.lists.delete(face_list.list_id)

    async def link(self, face_list: FaceList, action: str, face_ids: list[UUID]) -> None:
        change = self.store.attach if action == "attach" else self.store.detach
        missing = await change(face_list.account_id, face_list.list_id, face_ids)
        await self.lists.update(face_list.list_id, lambda fl: setattr(fl, "last_update_time", _now()))
        if missing:
            raise SeleneError(OBJECT_NOT_FOUND, "faces with ids " + ", ".join(str(m) for m in missing))

    # -- matching --------------------------------------------------------------------------------
    def archive(self) -> EventArchive:
        if self.events is None:
            raise SeleneError(SERVICE_UNAVAILABLE, "event store", "this API runs without the events warehouse")
        return self.events

    async def reference_vector(self, reference: Reference, account_id: UUID) -> tuple[int, np.ndarray]:
        if isinstance(reference, EventReference):
            found = await self.archive().vector(account_id, reference.id)
            if found is None:  # unknown, another account's, or an event without a face descriptor
                raise SeleneError(OBJECT_NOT_FOUND, f"event with id {reference.id} and a face descriptor")
            return found[0], np.asarray(found[1], np.float32)
        if isinstance(reference, FaceReference):
            face = await self.face(reference.id, account_id, with_descriptor=True)
            assert face.vector is not None
            return face.descriptor_version, np.asarray(face.vector, np.float32)
        if isinstance(reference, ImageReference):
            return await self.descriptor_of_image(reference.data)
        return decode_descriptor(reference.data)  # raw (with its version) or SDK-like

    async def match(
        self, account_id: UUID, references: list[Reference], candidates: list[FaceCandidates | EventCandidates]
    ) -> list[ReferenceMatches]:
        """Each reference against each candidate set: faces (lists, face ids) or events (``"origin":
        "events"``, LUNA's event filters). Lists named in the filters must exist and be the account's
        (LUNA would silently match nothing; a typo in a list id deserves an error)."""
        for candidate in candidates:
            if candidate.limit > MAX_RESULT_CANDIDATES:
                raise SeleneError(MATCH_LIMIT_EXCEEDED, MAX_RESULT_CANDIDATES)
            if isinstance(candidate, EventCandidates):
                self.archive()
            elif candidate.filters.list_id is not None:
                await self.face_list(candidate.filters.list_id, {account_id})
        vectors = [await self.reference_vector(r, account_id) for r in references]
        version = common_version(v for v, _ in vectors)
        plain = [v.tolist() for _, v in vectors]
        per_set: list[list[CandidateSetResult | EventCandidateSetResult]] = [[] for _ in references]
        for candidate in candidates:
            if isinstance(candidate, EventCandidates):
                try:
                    events = await self.archive().match(
                        account_id, version, plain, candidate.filters, candidate.limit, candidate.threshold)
                except ValueError as exc:  # a filter Milvus cannot express (control characters)
                    raise SeleneError(BAD_INPUT_DATA, str(exc)) from None
                for i, found in enumerate(events):
                    per_set[i].append(EventCandidateSetResult(filters=candidate.filters, result=found))
                continue
            lists = None if candidate.filters.list_id is None else [candidate.filters.list_id]
            faces = await self.store.search(
                account_id, version, plain, list_ids=lists, face_ids=candidate.filters.face_ids,
                limit=candidate.limit, threshold=candidate.threshold,
            )
            for i, scored in enumerate(faces):
                per_set[i].append(CandidateSetResult(
                    filters=candidate.filters,
                    result=[FaceMatch(face=to_face(face), similarity=round(s, 6)) for face, s in scored],
                ))
        return [
            ReferenceMatches(reference=ReferenceId(id=str(reference.id), type=reference.type), matches=per_set[i])
            for i, reference in enumerate(references)
        ]
