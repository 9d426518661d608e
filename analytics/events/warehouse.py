"""The warehouse interface: one set of SQL, two backends (in-process chdb, ClickHouse server)."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

Columns = Mapping[str, Sequence[Any]]  # column name -> its values, one per row, as Python objects


class Warehouse(ABC):
    """Async facade over ClickHouse. Every method may raise; callers decide whether to retry."""

    def __init__(self, database: str) -> None:
        self.database = database
        self._column_types: dict[str, dict[str, str]] = {}

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

    @abstractmethod
    async def insert_columns(self, table: str, columns: Columns) -> int:
        """Insert rows given column by column (ClickHouse's own form: no per-row serialisation); the
        columns not given take their defaults. Returns the number of rows."""

    async def column_types(self, table: str) -> dict[str, str]:
        """``table``'s column types by name, asked once: migrations run before anything inserts."""
        if table not in self._column_types:
            rows = await self.query(
                f"SELECT name, type FROM system.columns WHERE database = '{self.database}' AND table = '{table}'"
            )
            if not rows:
                raise LookupError(f"no table {self.database}.{table}")
            self._column_types[table] = {row["name"]: row["type"] for row in rows}
        return self._column_types[table]

    async def insert(self, table: str, rows: Iterable[Mapping[str, Any]]) -> int:
        lines = [json.dumps(row, default=str, separators=(",", ":")) for row in rows]
        if lines:
            await self.insert_json(table, "\n".join(lines).encode())
        return len(lines)

    async def ping(self) -> None:
        rows = await self.query("SELECT 1 AS ok")
        if not rows or int(rows[0]["ok"]) != 1:
            raise ConnectionError("warehouse answered SELECT 1 wrongly")

