"""The embedded warehouse: ClickHouse's engine in this process (chdb), file-backed.

chdb allows one data path per process, and its calls block, so every call runs on one dedicated
thread: the event loop never waits on a query and queries never interleave.
"""

from __future__ import annotations

import asyncio
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from analytics.events.warehouse import Warehouse
from infra.errors import StackError, writable_dir

_INSERT_SETTINGS = "SETTINGS date_time_input_format='best_effort'"


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

    async def insert_json(self, table: str, payload: bytes, fmt: str = "JSONEachRow") -> None:
        sql = f"INSERT INTO {self.database}.{table} {_INSERT_SETTINGS} FORMAT {fmt}\n{payload.decode()}"
        await self.execute(sql)
