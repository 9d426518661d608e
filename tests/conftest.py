"""Session-wide real parts: the Tansu broker, redis-server, a chdb warehouse and a Milvus Lite file.

Nothing here is mocked; every integration test talks to these over their real protocols.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from analytics.events.chdb_warehouse import ChdbWarehouse
from analytics.events.setup import open_warehouse
from analytics.recognition.milvus import open_milvus
from infra.kafka import ensure_topics
from infra.process import free_port
from infra.root import embedded
from infra.settings import (
    BrokerSettings,
    CommonSettings,
    MilvusSettings,
    RedisSettings,
    WarehouseSettings,
    WorkerSettings,
)


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("selene")


@pytest.fixture(scope="session")
def broker(session_dir: Path) -> Iterator[BrokerSettings]:
    settings = BrokerSettings(bootstrap=f"127.0.0.1:{free_port()}", topic_partitions=2)
    process = embedded.broker(settings, session_dir / "run")
    process.start()
    try:
        process.wait_ready(30)
        asyncio.run(ensure_topics(settings.bootstrap, settings.topic_partitions))
        yield settings
    finally:
        process.stop(10)


@pytest.fixture(scope="session")
def redis_server(session_dir: Path) -> Iterator[RedisSettings]:
    settings = RedisSettings(url=f"redis://127.0.0.1:{free_port()}/0")
    process = embedded.redis(settings, session_dir / "redis", session_dir / "run")
    process.start()
    try:
        process.wait_ready(30)
        yield settings
    finally:
        process.stop(10)


@pytest.fixture(scope="session")
async def warehouse(session_dir: Path) -> AsyncIterator[ChdbWarehouse]:
    # chdb allows one data path per process: every test shares this one.
    settings = WarehouseSettings(path=session_dir / "clickhouse", database="selene_test")
    store = await open_warehouse(settings, CommonSettings())
    assert isinstance(store, ChdbWarehouse)
    yield store
    await store.stop()


@pytest.fixture(scope="session")
def milvus_uri(session_dir: Path) -> str:
    return str(session_dir / "milvus.db")


@pytest.fixture(scope="session")
def milvus_client(milvus_uri: str) -> Iterator[Any]:
    """One Milvus Lite client for the session (Lite serves one file per process), opened as the API opens it."""
    client = open_milvus(MilvusSettings(uri=milvus_uri))
    yield client
    client.close()


@pytest.fixture(scope="session")
def milvus_server_uri(session_dir: Path) -> Iterator[str]:
    """A Milvus standalone server for the session, started on first use (some 10-30 s)."""
    server = embedded.MilvusServerProcess(session_dir / "milvus-server")
    server.start()
    yield server.uri
    server.stop()


@pytest.fixture(scope="session")
def milvus_server_client(milvus_server_uri: str) -> Iterator[Any]:
    client = open_milvus(MilvusSettings(uri=milvus_server_uri))
    yield client
    client.close()


@pytest.fixture
def worker_settings() -> WorkerSettings:
    return WorkerSettings(app_id=f"selene-test-{uuid.uuid4().hex[:8]}")
