"""The API over real HTTP for the image store's routes: the video manager fixture's app (real Redis, chdb,
Tansu) with its image store on a temporary folder; no Milvus, the image store does not need one."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest

from analytics.events.chdb_warehouse import ChdbWarehouse
from infra.settings import BrokerSettings, RedisSettings
from tests.integration.video_manager.conftest import Manager, start_manager


@pytest.fixture(scope="module")
async def api(redis_server: RedisSettings, broker: BrokerSettings, warehouse: ChdbWarehouse) -> AsyncIterator[Manager]:
    manager, stop = await start_manager(redis_server, broker, warehouse, f"test:{uuid.uuid4().hex[:8]}")
    yield manager
    await stop()
