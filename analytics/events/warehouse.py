"""The warehouse interface: one set of SQL, two backends (in-process chdb, ClickHouse server)."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from typing import Any


class Warehouse(ABC):
    """Async facade over ClickHouse. Every method may raise; callers decide whether to retry."""

    def __init__(self, database: str) -> None:
        self.database = database

    @abstractmethod
    async def start(self) -> None: ...

    @abstractmethod
    async def stop(self) -> None: ...

    @abstractmethod
    async def execute(self, sql: str) -> None:
        """Run a statement that returns nothing (DDL, ALTER, INSERT ... SELECT)."""

    @abstractmethod
    async def query(self, sql: str) -> list[dict[str, Any]]:
        """Run a SELECT and return its rows as dicts."""

    @abstractmethod
    async def insert_json(self, table: str, payload: bytes) -> None:
        """Insert a JSONEachRow payload into ``table`` (unqualified: the Selene database is implied)."""

    async def insert(self, table: str, rows: Iterable[Mapping[str, Any]]) -> int:
        lines = [json.dumps(row, default=str, separators=(",", ":")) for row in rows]
        if lines:
            await self.insert_json(table, "\n".join(lines).encode())
        return len(lines)

    async def ping(self) -> None:
        rows = await self.query("SELECT 1 AS ok")
        if not rows or int(rows[0]["ok"]) != 1:
            raise ConnectionError("warehouse answered SELECT 1 wrongly")

