"""The warehouse sink against a raw batched insert of the same rows, and dashboard latency at scale.

1. N people-count samples: (a) inserted directly in batches of the sink's size (the baseline), and
   (b) published to Kafka (Tansu) and written by the sink agent; rows/s of each and the ratio b/a.
2. Every Grafana panel at 10 million rows of the count series: p95 of 5 runs each.
Run: `python -m bench.sink [--rows-at-scale N]`.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaProducer

from analytics.events import dashboards, sink
from analytics.events.chdb_warehouse import ChdbWarehouse
from analytics.events.rows import count_row
from analytics.events.setup import open_warehouse
from bench.common import record, scratch_broker, table
from infra.settings import CommonSettings, SinkSettings, WarehouseSettings
from schemas.events import CountSample
from schemas.topics import COUNTS

SAMPLES = 50_000
SETTINGS = SinkSettings()


def samples(n: int) -> list[CountSample]:
    stream, account, now = uuid.uuid4(), uuid.uuid4(), datetime.now(UTC)
    return [CountSample(stream_id=stream, account_id=account, time_offset=i / 10, timestamp=now, people_count=i % 9)
            for i in range(n)]


async def count(warehouse: ChdbWarehouse, stream_id: uuid.UUID) -> int:
    rows = await warehouse.query(f"SELECT count() AS n FROM {warehouse.database}.people_counts WHERE stream_id = '{stream_id}'")
    return int(rows[0]["n"])


async def raw_insert(warehouse: ChdbWarehouse) -> float:
    batch = [count_row(s) for s in samples(SAMPLES)]
    started = time.perf_counter()
    for i in range(0, len(batch), SETTINGS.batch_size):
        await warehouse.insert("people_counts", batch[i : i + SETTINGS.batch_size])
    return SAMPLES / (time.perf_counter() - started)


async def through_sink(warehouse: ChdbWarehouse, workdir: Path) -> float:
    async with scratch_broker(workdir) as broker:
        records = samples(SAMPLES)
        producer = AIOKafkaProducer(bootstrap_servers=broker.bootstrap, linger_ms=20)
        await producer.start()
        for r in records:  # published before the clock starts: this times the sink, not the producer
            await producer.send(COUNTS.name, r.model_dump_json().encode(), key=str(r.stream_id).encode())
        await producer.flush()
        await producer.stop()
        sinker = sink.Sink(broker.bootstrap, "bench-sink", warehouse, SETTINGS)
        await sinker.start()
        try:
            # Time from the first rows on, so the consumer group's join is not counted.
            while (first := await count(warehouse, records[0].stream_id)) == 0:
                await asyncio.sleep(0.01)
            started = time.perf_counter()
            while await count(warehouse, records[0].stream_id) < SAMPLES:
                await asyncio.sleep(0.02)
            return (SAMPLES - first) / (time.perf_counter() - started)
        finally:
            await sinker.stop()


async def dashboards_at_scale(warehouse: ChdbWarehouse, rows: int) -> list[list[str]]:
    db = warehouse.database
    await warehouse.execute(
        f"INSERT INTO {db}.people_counts (stream_id, account_id, version, analytic_index, time_offset, timestamp, "
        "people_count, zone_counts, line_in, line_out) "
        "SELECT toUUID(concat('00000000-0000-0000-0000-0000000000', leftPad(toString(number % 50), 2, '0'))), "
        "generateUUIDv4(), 1, 0, number / 10, now64(3) - toIntervalMillisecond(number * 50), number % 23, "
        "map('door', toUInt32(number % 5)), map('gate', toUInt32(number % 7)), map('gate', toUInt32(number % 3)) "
        f"FROM numbers({rows})"
    )
    end = datetime.now(UTC)
    start = end - timedelta(milliseconds=rows * 50)
    out = []
    for panel in dashboards.panels():
        text = dashboards.render(panel.sql, start, end, 3600, db)
        timings = []
        for _ in range(5):
            began = time.perf_counter()
            await warehouse.query(text)
            timings.append(time.perf_counter() - began)
        p95 = statistics.quantiles(timings, n=20)[18] if len(timings) > 1 else timings[0]
        out.append([f"{panel.dashboard.removeprefix('selene-')}: {panel.title}", f"{p95 * 1000:.0f}"])
    return out


async def main(rows_at_scale: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = await open_warehouse(WarehouseSettings(path=Path(tmp) / "ch", database="bench"), CommonSettings())
        assert isinstance(warehouse, ChdbWarehouse)
        try:
            raw = await raw_insert(warehouse)
            sunk = await through_sink(warehouse, Path(tmp))
            record("Warehouse sink (bench/sink.py)", table(
                ["path", "rows/s", "ratio to raw insert"],
                [[f"raw batched insert ({SETTINGS.batch_size} rows)", f"{raw:.0f}", "1.00"],
                 ["Kafka -> sink agent -> chdb", f"{sunk:.0f}", f"{sunk / raw:.2f}"]],
            ), f"{SAMPLES} people-count samples; the target ratio is >= 0.7.")
            record(f"Dashboard queries at {rows_at_scale:,} rows (bench/sink.py)", table(
                ["panel", "p95 ms (5 runs)"], await dashboards_at_scale(warehouse, rows_at_scale)),
                "people_counts filled with 50 streams at 20 samples/s; the other tables are nearly empty.")
        finally:
            await warehouse.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows-at-scale", type=int, default=10_000_000)
    asyncio.run(main(parser.parse_args().rows_at_scale))
