"""The distributed warehouse: a ClickHouse server reached with clickhouse-connect."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlparse

from analytics.events.warehouse import Warehouse
from infra.settings import WarehouseSettings


class ServerWarehouse(Warehouse):
    def __init__(self, settings: WarehouseSettings) -> None:
        super().__init__(settings.database)
        self.settings = settings
        self._client: Any = None

    async def start(self) -> None:
        import clickhouse_connect

        url = urlparse(self.settings.url)
        self._client = await clickhouse_connect.get_async_client(
            host=url.hostname or "127.0.0.1",
            port=url.port or 8123,
            secure=url.scheme == "https",
            username=self.settings.user,
            password=self.settings.password,
        )
        await self.execute(f"CREATE DATABASE IF NOT EXISTS {self.database}")

    async def stop(self) -> None:
        if self._client is not None:
            await asyncio.shield(self._client.close())
            self._client = None

    async def execute(self, sql: str) -> None:
        await self._client.command(sql)

    async def query(self, sql: str) -> list[dict[str, Any]]:
        result = await self._client.query(sql)
        return [dict(zip(result.column_names, row, strict=True)) for row in result.result_rows]

    async def insert_json(self, table: str, payload: bytes, fmt: str = "JSONEachRow") -> None:
        await self._client.raw_insert(
            f"{self.database}.{table}",
            insert_block=payload,
            fmt=fmt,
            settings={"date_time_input_format": "best_effort"},
        )
