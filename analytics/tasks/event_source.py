"""LUNA's ``events`` as a task source: the events archive (warehouse rows, Milvus descriptors) behind the
faces source's questions (filters for a subtask's id range, count, the objects in id order, delete)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from analytics.events.luna_event_store import LunaEventFilters
from analytics.recognition.event_descriptors import EventArchive
from analytics.tasks.splitting import IdRange, narrowed
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
        found: list[dict[str, Any]] = []
        while True:
            page = await self.archive.store.list(filters, {account_id}, len(found) // PAGE + 1, PAGE, "asc")
            found.extend(page)
            if len(page) < PAGE:
                return sorted(found, key=lambda e: UUID(e["event_id"]))

    async def delete(self, account_id: UUID, ids: Sequence[UUID]) -> None:
        await self.archive.delete(account_id, list(ids))
