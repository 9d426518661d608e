"""LUNA's ``events`` as a task source: the events archive (warehouse rows, Milvus descriptors) behind the
faces source's questions (filters for a subtask's id range, count, the objects in id order, their
descriptors, delete)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

import numpy as np

from analytics.events.luna_event_store import LunaEventFilters
from analytics.recognition.event_descriptors import EventArchive
from analytics.tasks.descriptors import Descriptors
from analytics.tasks.splitting import IdRange, narrowed, read_by_ranges
from schemas.tasks import EventObjectFilters

PAGE = 1000


class EventSource:
    def __init__(self, archive: EventArchive) -> None:
        self.archive = archive

    @staticmethod
    def filters(given: EventObjectFilters, part: IdRange = (None, None)) -> LunaEventFilters:
        gte, lt = narrowed((given.event_id__gte, given.event_id__lt), part)
        fields = given.model_dump(exclude={"account_id", "event_id__gte", "event_id__lt"}, exclude_none=True)
        return LunaEventFilters(**fields, event_id__gte=gte, event_id__lt=lt)

    async def count(self, account_id: UUID, filters: LunaEventFilters) -> int:
        return await self.archive.store.count(filters, {account_id})

    async def events(self, account_id: UUID, filters: LunaEventFilters) -> list[dict[str, Any]]:
        """Every matching event in LUNA's shape, ordered by event id (a stable order for results)."""

        async def read(part: IdRange, offset: int) -> list[dict[str, Any]]:
            narrow = filters.model_copy(update={"event_id__gte": part[0], "event_id__lt": part[1]})
            return await self.archive.store.list(narrow, {account_id}, offset // PAGE + 1, PAGE, "asc")

        count = await self.count(account_id, filters)
        found = await read_by_ranges(count, PAGE, (filters.event_id__gte, filters.event_id__lt), read)
        return sorted(found, key=lambda e: UUID(e["event_id"]))

    async def descriptors(self, account_id: UUID, filters: LunaEventFilters) -> list[Descriptors]:
        """The events' face descriptors from Milvus, one group per descriptor version, in event id order;
        events without a face descriptor are left out."""
        ids = [UUID(e["event_id"]) for e in await self.events(account_id, filters)]
        vectors = await self.archive.faces.vectors(account_id, ids)
        groups: dict[int, list[tuple[UUID, list[float]]]] = {}
        for event_id in ids:
            if event_id in vectors:
                version, vector = vectors[event_id]
                groups.setdefault(version, []).append((event_id, vector))
        return [
            Descriptors([i for i, _ in rows], version, np.asarray([v for _, v in rows], np.float32))
            for version, rows in sorted(groups.items())
        ]

    async def delete(self, account_id: UUID, ids: Sequence[UUID]) -> None:
        await self.archive.delete(account_id, list(ids))
