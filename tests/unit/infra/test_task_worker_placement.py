"""Where the task worker runs: in the API whenever the API holds a store no other process may open."""

from __future__ import annotations

from pathlib import Path

import pytest

from infra.root.tasks_worker import worker_in_api
from infra.settings import CommonSettings, MilvusSettings, TasksSettings, WarehouseSettings

COMMON = CommonSettings(data_dir=Path("/tmp/selene-placement"))


@pytest.mark.parametrize(("milvus_uri", "backend", "in_api"), [
    ("", "chdb", True),  # Milvus Lite and chdb: both in the API's process
    ("", "server", True),  # Milvus Lite
    ("http://milvus:19530", "chdb", True),  # chdb: a worker elsewhere could not read events
    ("http://milvus:19530", "server", False),  # compose: workers of their own, scaled
])
def test_the_api_runs_the_worker_where_it_holds_an_in_process_store(milvus_uri: str, backend: str, in_api: bool) -> None:
    assert worker_in_api(TasksSettings(), MilvusSettings(uri=milvus_uri), WarehouseSettings(backend=backend), COMMON) is in_api


def test_the_setting_decides_when_given() -> None:
    servers = MilvusSettings(uri="http://milvus:19530"), WarehouseSettings(backend="server")
    assert worker_in_api(TasksSettings(run_worker=True), *servers, COMMON) is True
    assert worker_in_api(TasksSettings(run_worker=False), MilvusSettings(), WarehouseSettings(), COMMON) is False
