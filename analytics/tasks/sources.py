"""Where a task's objects come from. ``faces`` reads the face store; ``events`` (``event_source.py``) the
events archive, for gc and exporter. The other task types refuse events with 28021 (``faces_only``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import numpy as np

from analytics.recognition.face_store import FaceFilters, FaceStore, StoredFace
from analytics.tasks.splitting import IdRange, narrowed
from schemas.errors import EVENTS_SOURCE_UNSUPPORTED, SeleneError
from schemas.tasks import FaceObjectFilters

PAGE = 1000


@dataclass(frozen=True)
class Descriptors:
    """Objects' descriptors of one version, row i of ``vectors`` belonging to ``ids[i]``."""

    ids: list[UUID]
    version: int
    vectors: np.ndarray


class FaceSource:
    def __init__(self, store: FaceStore) -> None:
        self.store = store

    @staticmethod
    def filters(given: FaceObjectFilters, part: IdRange = (None, None)) -> FaceFilters:
        gte, lt = narrowed((given.face_id__gte, given.face_id__lt), part)
        return FaceFilters(
            face_ids=given.face_ids, external_ids=given.external_ids, user_data=given.user_data,
            list_id=given.list_id, create_time__gte=given.create_time__gte, create_time__lt=given.create_time__lt,
            face_id__gte=gte, face_id__lt=lt,
        )

    async def count(self, account_id: UUID, filters: FaceFilters) -> int:
        return await self.store.count(account_id, filters)

    async def faces(self, account_id: UUID, filters: FaceFilters, with_vectors: bool = False) -> list[StoredFace]:
        """Every matching face, ordered by face id (a stable order for results)."""
        found: list[StoredFace] = []
        while True:
            page = await self.store.query(account_id, filters, offset=len(found), limit=PAGE, with_vectors=with_vectors)
            found.extend(page)
            if len(page) < PAGE:
                return sorted(found, key=lambda f: f.face_id)

    async def descriptors(self, account_id: UUID, filters: FaceFilters) -> list[Descriptors]:
        """The faces' descriptors from Milvus, one group per descriptor version."""
        groups: dict[int, list[StoredFace]] = {}
        for face in await self.faces(account_id, filters, with_vectors=True):
            groups.setdefault(face.descriptor_version, []).append(face)
        return [
            Descriptors([f.face_id for f in faces], version, np.asarray([f.vector for f in faces], np.float32))
            for version, faces in sorted(groups.items())
        ]

    async def get(self, account_id: UUID, ids: Sequence[UUID]) -> list[StoredFace]:
        return await self.store.get(account_id, ids)

    async def delete(self, account_id: UUID, ids: Sequence[UUID]) -> list[UUID]:
        return await self.store.delete(account_id, ids)


def faces_only(objects_type: str) -> None:
    """Refuse the sources Selene's tasks cannot read yet, with LUNA's error for a missing Events."""
    if objects_type != "faces":
        raise SeleneError(EVENTS_SOURCE_UNSUPPORTED)
