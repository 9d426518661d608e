"""The warehouse sink against a raw batched insert of the same rows, frame-to-row latency, and dashboard
latency at scale.

1. N people-count samples: (a) inserted directly in batches of the sink's size into the same chdb, in
   the sink's columnar form (JSONColumns), the payloads made before the clock starts (the baseline),
   timed before and after (b), the faster kept; (b) published to Kafka (Tansu) and written by the
   sink; rows/s of each and the ratio b/a. The row insert the sink used before (JSONEachRow of
   prepared rows) is timed too, for reference.
2. Frame to queryable row: samples published live (their timestamp is the publish time) at a steady
   rate to a sink with its default settings; each row's latency is until the sink's insert of it
   returned (the row is queryable from then on); p50/p95/p99.
3. Every Grafana panel at 10 million rows of the count series: p95 of 5 runs each.
Run: `python -m bench.sink [--rows-at-scale N] [--samples N]` (`--rows-at-scale 0` skips 3).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from aiokafka import AIOKafkaProducer
from pydantic_core import to_json

from analytics.events import dashboards, sink
from analytics.events.chdb_warehouse import ChdbWarehouse
from analytics.events.rows import count_columns, count_row
from analytics.events.setup import open_warehouse
from bench.common import record, scratch_broker, summarize, table
from infra import metrics
from infra.settings import CommonSettings, SinkSettings, WarehouseSettings
from schemas.events import CountSample
from schemas.topics import COUNTS

SETTINGS = SinkSettings()
LIVE_RATE, LIVE_SECONDS = 1000, 10  # rows/s (40 streams at 25 fps) for the latency run


def samples(n: int) -> list[CountSample]:
    stream, account, now = uuid.uuid4(), uuid.uuid4(), datetime.now(UTC)
    return [CountSample(stream_id=stream, account_id=account, time_offset=i / 10, timestamp=now, people_count=i % 9,
                        zone_counts={"door": i % 3}, line_in={"gate": i}, line_out={"gate": i // 2})
            for i in range(n)]


def sunk() -> float:
    """Rows the sink has written to people_counts in this process: counted right after each insert returned."""
    return metrics.SINK_ROWS.labels("people_counts")._value.get()


async def count(warehouse: ChdbWarehouse, stream_id: uuid.UUID) -> int:
    rows = await warehouse.query(f"SELECT count() AS n FROM {warehouse.database}.people_counts WHERE stream_id = '{stream_id}'")
    return int(rows[0]["n"])


async def raw_columns(warehouse: ChdbWarehouse, n: int) -> float:
    """The engine alone: the batches' columnar payloads are made before the clock starts."""
    payloads = [to_json(count_columns(chunk)) for chunk in _chunks(samples(n), SETTINGS.batch_size)]
    started = time.perf_counter()
    for payload in payloads:
        await warehouse.insert_json("people_counts", payload, "JSONColumns")
    return n / (time.perf_counter() - started)


async def raw_json(warehouse: ChdbWarehouse, n: int) -> float:
    batches = [[count_row(s) for s in chunk] for chunk in _chunks(samples(n), SETTINGS.batch_size)]
    started = time.perf_counter()
    for rows in batches:
        await warehouse.insert("people_counts", rows)
    return n / (time.perf_counter() - started)


def _chunks(items: list[CountSample], size: int) -> list[list[CountSample]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


async def publish(bootstrap: str, records: list[CountSample]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20)
    await producer.start()
    try:
        for r in records:
            await producer.send(COUNTS.name, r.model_dump_json().encode(), key=str(r.stream_id).encode())
        await producer.flush()
    finally:
        await producer.stop()


async def through_sink(warehouse: ChdbWarehouse, bootstrap: str, n: int) -> float:
    records = samples(n)
    await publish(bootstrap, records)  # before the clock starts: this times the sink, not the producer
    sinker = sink.Sink(bootstrap, f"bench-sink-{uuid.uuid4().hex[:6]}", warehouse, SETTINGS)
    base = sunk()
    await sinker.start()
    try:
        # From the first insert on, so the consumer group's join is not counted.
        while (first := sunk() - base) == 0:
            await asyncio.sleep(0.001)
        started = time.perf_counter()
        while sunk() - base < n:
            await asyncio.sleep(0.001)
        rate = (n - first) / (time.perf_counter() - started)
    finally:
        await sinker.stop()
    stored = await count(warehouse, records[0].stream_id)
    assert stored == n, f"the sink stored {stored} of {n} rows"
    return rate


async def frame_to_row(warehouse: ChdbWarehouse, bootstrap: str) -> list[float]:
    """Seconds from each live sample's frame time to its row being queryable, in publish order."""
    stream, account = uuid.uuid4(), uuid.uuid4()
    sinker = sink.Sink(bootstrap, f"bench-live-{stream.hex[:6]}", warehouse, SinkSettings())
    sinker.offset_reset = "latest"  # a live sink: not the throughput run's backlog
    await sinker.start()
    await sinker.hold_positions()
    base, sent, seen = sunk(), [], []  # publish times; (time, rows sunk so far) at each change
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()

    async def watch() -> None:
        last = 0.0
        while True:
            if (now := sunk() - base) != last:
                seen.append((time.time(), now))
                last = now
            await asyncio.sleep(0.001)

    watcher = asyncio.create_task(watch())
    try:
        tick, per_tick = 0.01, LIVE_RATE // 100
        begun = time.perf_counter()
        for i in range(LIVE_RATE * LIVE_SECONDS // per_tick):
            for j in range(per_tick):
                at = datetime.now(UTC)
                sample = CountSample(stream_id=stream, account_id=account, time_offset=(i * per_tick + j) / 25,
                                     timestamp=at, people_count=j % 9)
                sent.append(at.timestamp())
                await producer.send(COUNTS.name, sample.model_dump_json().encode(), key=str(stream).encode())
            await asyncio.sleep(max(0.0, begun + (i + 1) * tick - time.perf_counter()))
        await producer.flush()
        deadline = time.monotonic() + 30
        while sunk() - base < len(sent) and time.monotonic() < deadline:
            await asyncio.sleep(0.01)
    finally:
        watcher.cancel()
        await asyncio.gather(watcher, return_exceptions=True)
        await producer.stop()
        await sinker.stop()
    latencies, k = [], 0
    for i, at in enumerate(sent):  # one partition, so rows land in publish order
        while k < len(seen) and seen[k][1] < i + 1:
            k += 1
        if k == len(seen):
            raise AssertionError(f"only {i} of {len(sent)} live rows reached the warehouse")
        latencies.append(seen[k][0] - at)
    return latencies


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


def quantile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


async def main(rows_at_scale: int, n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        warehouse = await open_warehouse(WarehouseSettings(path=Path(tmp) / "ch", database="bench"), CommonSettings())
        assert isinstance(warehouse, ChdbWarehouse)
        try:
            async with scratch_broker(Path(tmp)) as broker:
                load_before = os.getloadavg()[0]
                await raw_columns(warehouse, SETTINGS.batch_size * 4)  # warm-up: types cached, first parts made
                before = await raw_columns(warehouse, n)
                json_rows = await raw_json(warehouse, n)
                through = await through_sink(warehouse, broker.bootstrap, n)
                after = await raw_columns(warehouse, n)
                latencies = await frame_to_row(warehouse, broker.bootstrap)
                load_after = os.getloadavg()[0]
            raw = max(before, after)
            p50, p95, p99 = (quantile(latencies, q) for q in (0.50, 0.95, 0.99))
            record("Warehouse sink (bench/sink.py)", table(
                ["path", "rows/s", "ratio to raw insert"],
                [[f"raw batched JSONColumns insert ({SETTINGS.batch_size} rows; before / after the sink)",
                  f"{raw:.0f} ({before:.0f} / {after:.0f})", "1.00"],
                 [f"raw batched JSONEachRow insert ({SETTINGS.batch_size} rows; the sink's form before)",
                  f"{json_rows:.0f}", f"{json_rows / raw:.2f}"],
                 ["Kafka -> sink -> chdb", f"{through:.0f}", f"{through / raw:.2f}"]],
            ) + "\n\n" + table(
                ["frame to queryable row", "p50 s", "p95 s", "p99 s"],
                [[f"{LIVE_RATE} rows/s for {LIVE_SECONDS} s, default sink settings",
                  f"{p50:.3f}", f"{p95:.3f}", f"{p99:.3f}"]],
            ), f"{n} people-count samples, one partition; the baseline is the faster of its two runs; targets: ratio "
               f">= 0.80, p99 <= 0.5 s. Sink, producer and chdb share one process and event loop. "
               f"1-minute load average {load_before:.2f} before, {load_after:.2f} after.")
            summarize(sink_ratio=through / raw, frame_to_row_p99_s=p99)
            if rows_at_scale:
                record(f"Dashboard queries at {rows_at_scale:,} rows (bench/sink.py)", table(
                    ["panel", "p95 ms (5 runs)"], await dashboards_at_scale(warehouse, rows_at_scale)),
                    "people_counts filled with 50 streams at 20 samples/s; the other tables are nearly empty.")
        finally:
            await warehouse.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows-at-scale", type=int, default=10_000_000)
    parser.add_argument("--samples", type=int, default=50_000)
    args = parser.parse_args()
    asyncio.run(main(args.rows_at_scale, args.samples))
