"""Where a task's objects come from: ``faces`` reads the face store; ``events`` (``event_source.py``) the
events archive. ``selection`` picks the source by the task's filters, so that every task type reads both."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from uuid import UUID

import numpy as np

from analytics.recognition.face_store import FaceFilters, FaceStore, StoredFace
from analytics.recognition.service import Recognition
from analytics.tasks.descriptors import Descriptors
from analytics.tasks.event_source import EventSource
from analytics.tasks.splitting import IdRange, narrowed, read_by_ranges
from schemas.errors import EVENTS_SOURCE_UNSUPPORTED, SeleneError
from schemas.tasks import EventObjectFilters, FaceObjectFilters

PAGE = 1000


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

        async def read(part: IdRange, offset: int) -> list[StoredFace]:
            narrow = replace(filters, face_id__gte=part[0], face_id__lt=part[1])
            return await self.store.query(account_id, narrow, offset=offset, limit=PAGE, with_vectors=with_vectors)

        count = await self.store.count(account_id, filters)
        found = await read_by_ranges(count, PAGE, (filters.face_id__gte, filters.face_id__lt), read)
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


@dataclass(frozen=True)
class Selection:
    """The objects a task's filters select, from the source the filters are for."""

    source: FaceSource | EventSource
    given: FaceObjectFilters | EventObjectFilters

    async def count(self, account_id: UUID) -> int:
        if isinstance(self.source, EventSource):
            assert isinstance(self.given, EventObjectFilters)
            return await self.source.count(account_id, self.source.filters(self.given))
        assert isinstance(self.given, FaceObjectFilters)
        return await self.source.count(account_id, self.source.filters(self.given))

    async def descriptors(self, account_id: UUID, part: IdRange = (None, None)) -> list[Descriptors]:
        """The selected objects' descriptors in ``part`` of the id range (faces' or events' ids)."""
        if isinstance(self.source, EventSource):
            assert isinstance(self.given, EventObjectFilters)
            return await self.source.descriptors(account_id, self.source.filters(self.given, part))
        assert isinstance(self.given, FaceObjectFilters)
        return await self.source.descriptors(account_id, self.source.filters(self.given, part))


def events_of(recognition: Recognition) -> EventSource:
    """The events as a source; LUNA's 28021 where this process keeps no events archive."""
    if recognition.events is None:
        raise SeleneError(EVENTS_SOURCE_UNSUPPORTED)
    return EventSource(recognition.events)


def selection(recognition: Recognition, given: FaceObjectFilters | EventObjectFilters) -> Selection:
    """Faces for faces' filters; events for events' filters."""
    if isinstance(given, EventObjectFilters):
        return Selection(events_of(recognition), given)
    return Selection(FaceSource(recognition.store), given)
