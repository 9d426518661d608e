"""The warehouse interface: one set of SQL, two backends (in-process chdb, ClickHouse server)."""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pydantic_core import to_json

Columns = Mapping[str, Sequence[Any]]  # column name -> its values, one per row, as Python objects


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
    async def insert_json(self, table: str, payload: bytes, fmt: str = "JSONEachRow") -> None:
        """Insert a payload in one of ClickHouse's JSON input formats (JSONEachRow: a row a line;
        JSONColumns: one object of columns) into ``table`` (unqualified: the Selene database is implied)."""

    async def insert(self, table: str, rows: Iterable[Mapping[str, Any]]) -> int:
        lines = [json.dumps(row, default=str, separators=(",", ":")) for row in rows]
        if lines:
            await self.insert_json(table, "\n".join(lines).encode())
        return len(lines)

    async def insert_columns(self, table: str, columns: Columns) -> int:
        """Insert rows given column by column, in ClickHouse's columnar JSONColumns form: one serialiser
        call (pydantic_core, in Rust) for the batch, then ClickHouse parses it straight into columns;
        nothing is done row by row in Python. Columns not given take their defaults; returns the rows."""
        rows = len(next(iter(columns.values()), ()))
        if rows:
            await self.insert_json(table, to_json(columns), "JSONColumns")
        return rows

    async def ping(self) -> None:
        rows = await self.query("SELECT 1 AS ok")
        if not rows or int(rows[0]["ok"]) != 1:
            raise ConnectionError("warehouse answered SELECT 1 wrongly")

