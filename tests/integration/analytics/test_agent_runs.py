"""Agent runs over the real broker, sink and chdb: a restarted agent plays the same stream version from
frame 0 again, and its rows sit beside the first run's instead of replacing them; the migration that
adds the run keeps the rows written before it."""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest

from analytics.events.chdb_warehouse import ChdbWarehouse
from analytics.events.migrate import MIGRATIONS_DIR, migrate
from infra.settings import BrokerSettings
from schemas.events import CountSample
from schemas.frames import FrameStat
from schemas.topics import COUNTS, FRAME_STATS
from tests.integration.analytics.test_sink_delivery import publish, running_sink
from tests.support import eventually

pytestmark = pytest.mark.asyncio(loop_scope="session")
FIRST, SECOND = 1_767_000_000_000, 1_767_000_042_000  # two runs' start times (Unix ms)


def stat(stream_id: uuid.UUID, run: int, n: int) -> FrameStat:
    now = datetime.now(UTC)
    return FrameStat(stream_id=stream_id, version=1, run=run, frame_number=n, time_offset=n / 10, timestamp=now,
                     received_at=now, width=640, height=480, size=1000 + n)


def sample(stream_id: uuid.UUID, account_id: uuid.UUID, run: int, n: int) -> CountSample:
    return CountSample(stream_id=stream_id, account_id=account_id, version=1, run=run, frame_number=n,
                       time_offset=n / 10, timestamp=datetime.now(UTC), people_count=run % 7)


async def per_run(warehouse: ChdbWarehouse, table: str, stream_id: uuid.UUID) -> dict[int, int]:
    rows = await warehouse.query(
        f"SELECT run, count() AS n, uniqExact(frame_number) AS frames FROM {warehouse.database}.{table} FINAL "
        f"WHERE stream_id = '{stream_id}' GROUP BY run ORDER BY run")
    assert all(int(r["n"]) == int(r["frames"]) for r in rows), rows  # no frame number twice in a run
    return {int(r["run"]): int(r["n"]) for r in rows}


async def test_a_restarted_run_keeps_the_first_runs_rows(broker: BrokerSettings, warehouse: ChdbWarehouse) -> None:
    stream_id, account_id = uuid.uuid4(), uuid.uuid4()
    # The first run plays 30 frames; the agent dies, is restarted and plays frames 0..19 again; the broker
    # redelivers five of the first run's frames (at-least-once).
    stats = [stat(stream_id, FIRST, n) for n in range(30)] + [stat(stream_id, SECOND, n) for n in range(20)]
    stats += [stat(stream_id, FIRST, n) for n in range(5)]
    samples = [sample(stream_id, account_id, FIRST, n) for n in range(30)]
    samples += [sample(stream_id, account_id, SECOND, n) for n in range(20)]
    async with running_sink(broker, warehouse, f"sink-runs-{stream_id.hex[:8]}"):
        await publish(broker, FRAME_STATS.name, stats, stream_id)
        await publish(broker, COUNTS.name, samples, stream_id)
        expected = {FIRST: 30, SECOND: 20}
        await eventually(lambda: per_run(warehouse, "frame_stats", stream_id), lambda r: r == expected)
        await eventually(lambda: per_run(warehouse, "people_counts", stream_id), lambda r: r == expected)
        await asyncio.sleep(1.0)  # let every redelivery reach the tables before judging
    assert await per_run(warehouse, "frame_stats", stream_id) == {FIRST: 30, SECOND: 20}
    assert await per_run(warehouse, "people_counts", stream_id) == {FIRST: 30, SECOND: 20}
    sizes = await warehouse.query(
        f"SELECT run, size FROM {warehouse.database}.frame_stats FINAL "
        f"WHERE stream_id = '{stream_id}' AND frame_number = 3 ORDER BY run")
    assert [(int(r["run"]), r["size"]) for r in sizes] == [(FIRST, 1003), (SECOND, 1003)]


@contextmanager
def another_database(warehouse: ChdbWarehouse, name: str) -> Iterator[None]:
    """The shared engine (one chdb path per process) pointed at a database of this test's own."""
    database = warehouse.database
    warehouse.database = name
    try:
        yield
    finally:
        warehouse.database = database


async def test_the_run_migration_keeps_rows_written_before_it(warehouse: ChdbWarehouse, tmp_path: Path) -> None:
    before = tmp_path / "before-runs"
    before.mkdir()
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        if not path.name.startswith("0004"):
            shutil.copy(path, before / path.name)
    stream_id = uuid.uuid4()
    name = f"selene_upgrade_{stream_id.hex[:8]}"
    with another_database(warehouse, name):
        await warehouse.execute(f"CREATE DATABASE {name}")
        try:
            assert await migrate(warehouse, before) == [1, 2, 3]
            old = stat(stream_id, FIRST, 7).model_dump(mode="json", exclude={"run"})
            await warehouse.insert("frame_stats", [old])
            assert 4 in await migrate(warehouse)
            await warehouse.insert("frame_stats", [stat(stream_id, SECOND, 7).model_dump(mode="json")])
            rows = await warehouse.query(
                f"SELECT run, frame_number FROM {name}.frame_stats FINAL ORDER BY run")
            assert [(int(r["run"]), int(r["frame_number"])) for r in rows] == [(0, 7), (SECOND, 7)]
            keys = await warehouse.query(
                f"SELECT name, sorting_key FROM system.tables WHERE database = '{name}' "
                "AND name IN ('frame_stats', 'people_counts') ORDER BY name")
            assert [k["sorting_key"].endswith("run") for k in keys] == [True, True]
        finally:
            await warehouse.execute(f"DROP DATABASE IF EXISTS {name}")
