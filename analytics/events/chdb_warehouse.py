"""The embedded warehouse: ClickHouse's engine in this process (chdb), file-backed.

chdb allows one data path per process, and its calls block, so every call runs on one dedicated
thread: the event loop never waits on a query and queries never interleave.
"""

from __future__ import annotations

import asyncio
import json
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa

from analytics.events.warehouse import Columns, Warehouse
from infra.errors import StackError, writable_dir

_INSERT_SETTINGS = "SETTINGS date_time_input_format='best_effort'"
_SCALARS = {
    "UInt8": pa.uint8(), "UInt16": pa.uint16(), "UInt32": pa.uint32(), "UInt64": pa.uint64(),
    "Int8": pa.int8(), "Int16": pa.int16(), "Int32": pa.int32(), "Int64": pa.int64(),
    "Float32": pa.float32(), "Float64": pa.float64(), "String": pa.string(), "Bool": pa.bool_(),
    "UUID": pa.string(),  # as text: ClickHouse parses it on insert, and Arrow has no UUID chdb reads
}
_WRAPPER = re.compile(r"(?:Nullable|LowCardinality)\((.*)\)")
_DATETIME = re.compile(r"DateTime(?:64\((\d+)(?:, *'([^']+)')?\)|\('([^']+)'\))?")


def _bare(ch_type: str) -> str:
    while wrapped := _WRAPPER.fullmatch(ch_type):
        ch_type = wrapped.group(1)
    return ch_type


def arrow_type(ch_type: str) -> pa.DataType:
    """The Arrow type a column of ClickHouse type ``ch_type`` is sent as (nullability is Arrow's default)."""
    ch_type = _bare(ch_type)
    if ch_type in _SCALARS:
        return _SCALARS[ch_type]
    if when := _DATETIME.fullmatch(ch_type):
        precision, zone = int(when.group(1) or 0), when.group(2) or when.group(3) or "UTC"
        unit = "s" if precision == 0 else "ms" if precision <= 3 else "us" if precision <= 6 else "ns"
        return pa.timestamp(unit, tz=zone)
    if ch_type.startswith("Map(") and ch_type.endswith(")"):
        key, value = ch_type[4:-1].split(",", 1)
        return pa.map_(arrow_type(key.strip()), arrow_type(value.strip()))
    raise TypeError(f"no Arrow form for ClickHouse type {ch_type}")


def arrow_table(types: dict[str, str], columns: Columns) -> pa.Table:
    """``columns`` as an Arrow table typed from the ClickHouse table's ``types``; raises (ArrowInvalid,
    OverflowError, TypeError) for a value its column cannot hold, so the caller can find that row."""
    arrays = {}
    for name, values in columns.items():
        if name not in types:
            raise KeyError(f"no column {name}")
        if _bare(types[name]) == "UUID":
            values = [None if v is None else str(v) for v in values]
        arrays[name] = pa.array(values, type=arrow_type(types[name]))
    return pa.table(arrays)


class ChdbWarehouse(Warehouse):
    def __init__(self, path: Path, database: str) -> None:
        super().__init__(database)
        self.path = path
        self._executor: ThreadPoolExecutor | None = None
        self._session: Any = None

    async def start(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chdb")
        await self._run(self._open)
        await self.execute(f"CREATE DATABASE IF NOT EXISTS {self.database}")

    def _open(self) -> None:
        from chdb import session

        writable_dir(self.path, "clickhouse", "SELENE_DATA_DIR or SELENE_CLICKHOUSE_PATH")
        try:
            self._session = session.Session(str(self.path))
        except Exception as exc:
            raise StackError(
                "clickhouse", f"chdb could not open {self.path}: {exc}",
                "only one process may open a chdb path; stop the other Selene API or use another path",
            ) from exc

    async def stop(self) -> None:
        if self._session is not None:
            await self._run(self._session.close)
            self._session = None
        if self._executor is not None:
            self._executor.shutdown(wait=False)
            self._executor = None

    async def _run(self, fn: Any, *args: Any) -> Any:
        if self._executor is None:
            raise ConnectionError("chdb warehouse is stopped")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    def _query(self, sql: str, fmt: str = "JSONEachRow") -> str:
        if self._session is None:
            raise ConnectionError("chdb session is closed")
        return str(self._session.query(sql, fmt))

    async def execute(self, sql: str) -> None:
        await self._run(self._query, sql, "TabSeparated")

    async def query(self, sql: str) -> list[dict[str, Any]]:
        text = await self._run(self._query, sql)
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    async def insert_columns(self, table: str, columns: Columns) -> int:
        batch = arrow_table(await self.column_types(table), columns)  # built here, so inserts overlap it
        if batch.num_rows:
            await self._run(self._insert_arrow, table, batch)
        return batch.num_rows

    def _insert_arrow(self, table: str, batch: pa.Table) -> None:
        # chdb's Python() table function reads the Arrow table from this frame's local ``batch``.
        names = ", ".join(batch.column_names)
        self._query(f"INSERT INTO {self.database}.{table} ({names}) SELECT * FROM Python(batch)", "TabSeparated")

    async def insert_json(self, table: str, payload: bytes) -> None:
        sql = f"INSERT INTO {self.database}.{table} {_INSERT_SETTINGS} FORMAT JSONEachRow\n{payload.decode()}"
        await self.execute(sql)
