"""What the general-events and analytics-events stores share: pages, one event by id, statistics."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar
from uuid import UUID

from pydantic import BaseModel

from analytics.events import stats
from analytics.events.warehouse import Warehouse

F = TypeVar("F", bound=BaseModel)


@dataclass
class EventTable(Generic[F]):
    warehouse: Warehouse

    TABLE: ClassVar[str]
    COLUMNS: ClassVar[str]  # the select list that gives LUNA's field names
    TIME_COLUMN: ClassVar[str]
    STAT_COLUMNS: ClassVar[dict[str, stats.Column]]
    JSON_COLUMN: ClassVar[str] = "event"  # statistics targets ``<JSON_COLUMN>.<path>`` read this JSON column
    FILTERS: ClassVar[type[BaseModel]]  # has ``event_ids``
    where: ClassVar[Callable[[Any, set[UUID]], str]]  # staticmethod: (filters, accounts) -> SQL
    to_event: ClassVar[Callable[[dict[str, Any]], dict[str, Any]]]  # staticmethod: row -> LUNA's shape

    @property
    def table(self) -> str:
        return f"{self.warehouse.database}.{self.TABLE}"

    def by_id(self, event_id: UUID) -> F:
        return self.FILTERS(event_ids=[event_id])  # type: ignore[return-value]

    async def list(self, filters: F, accounts: set[UUID], page: int, page_size: int, order: str) -> list[dict[str, Any]]:
        direction = "ASC" if order == "asc" else "DESC"
        # Filter in an inner query: the outer aliases (account_id as text ...) must not shadow columns.
        rows = await self.warehouse.query(
            f"SELECT {self.COLUMNS} FROM (SELECT * FROM {self.table} FINAL WHERE {self.where(filters, accounts)} "
            f"ORDER BY {self.TIME_COLUMN} {direction}, event_id {direction} "
            f"LIMIT {int(page_size)} OFFSET {(int(page) - 1) * int(page_size)})"
        )
        return [self.to_event(r) for r in rows]

    async def count(self, filters: F, accounts: set[UUID]) -> int:
        rows = await self.warehouse.query(f"SELECT count() AS n FROM {self.table} FINAL WHERE {self.where(filters, accounts)}")
        return int(rows[0]["n"])

    async def get(self, event_id: UUID, accounts: set[UUID]) -> dict[str, Any] | None:
        found = await self.list(self.by_id(event_id), accounts, 1, 1, "desc")
        return found[0] if found else None

    async def stats(self, query: stats.StatQuery, filters: F, accounts: set[UUID]) -> dict[str, Any]:
        text, fields = stats.build(
            query, self.STAT_COLUMNS, self.table, self.where(filters, accounts), self.TIME_COLUMN, self.JSON_COLUMN
        )
        return {"fields": fields, "stats": stats.rows_to_stats(await self.warehouse.query(text))}


def iso_times(row: dict[str, Any], *columns: str) -> None:
    """ClickHouse's ``YYYY-MM-DD hh:mm:ss.mmm`` (UTC) as RFC 3339, in place."""
    for column in columns:
        if row.get(column):
            row[column] = row[column].replace(" ", "T") + "Z"
