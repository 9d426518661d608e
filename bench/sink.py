"""The warehouse sink against a raw batched insert of the same rows, frame-to-row latency, and dashboard
latency at scale.

1. Rounds of N people-count samples: (a) inserted directly in batches of the sink's size into the same
   chdb, in the sink's columnar form (JSONColumns), the payloads made before the clock starts (the
   baseline), timed before and after each (b); (b) published to Kafka (Tansu) and written by the sink.
   Each round's ratio is b over the faster of the (a) beside it; the median round is reported, with
   this process's CPU time per row (a figure less shaken by other load on a shared machine). The row
   insert the sink used before (JSONEachRow of prepared rows) is timed too, for reference.
2. Frame to queryable row: samples published live (their timestamp is the publish time) at a steady
   rate to a sink with its default settings; each row's latency is until the first insert of it
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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaProducer
from pydantic_core import to_json

from analytics.events import dashboards, sink
from analytics.events.chdb_warehouse import ChdbWarehouse
from analytics.events.rows import count_columns, count_row
from analytics.events.migrate import migrate
from analytics.events.warehouse import Columns
from bench.common import record, scratch_broker, summarize, table
from infra import metrics
from infra.settings import SinkSettings
from schemas.events import CountSample
from schemas.topics import COUNTS

SETTINGS = SinkSettings()
ROUNDS = 3
LIVE_RATE, LIVE_SECONDS = 1000, 10  # rows/s (40 streams at 25 fps) for the latency run


@dataclass(frozen=True)
class Run:
    rows: int
    wall: float
    cpu: float  # this process's CPU seconds, every thread (chdb's too)

    @property
    def rate(self) -> float:
        return self.rows / self.wall

    @property
    def cpu_us(self) -> float:
        return self.cpu / self.rows * 1e6


class Clock:
    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def run(self, rows: int) -> Run:
        return Run(rows, time.perf_counter() - self.wall, time.process_time() - self.cpu)


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


async def raw_columns(warehouse: ChdbWarehouse, n: int) -> Run:
    """The engine alone: the batches' columnar payloads are made before the clock starts."""
    payloads = [to_json(count_columns(chunk)) for chunk in _chunks(samples(n), SETTINGS.batch_size)]
    clock = Clock()
    for payload in payloads:
        await warehouse.insert_json("people_counts", payload, "JSONColumns")
    return clock.run(n)


async def raw_json(warehouse: ChdbWarehouse, n: int) -> Run:
    batches = [[count_row(s) for s in chunk] for chunk in _chunks(samples(n), SETTINGS.batch_size)]
    clock = Clock()
    for rows in batches:
        await warehouse.insert("people_counts", rows)
    return clock.run(n)


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


async def through_sink(warehouse: ChdbWarehouse, bootstrap: str, n: int, group: str) -> Run:
    """``n`` new samples through the sink; the group resumes where the last round committed."""
    records = samples(n)
    await publish(bootstrap, records)  # before the clock starts: this times the sink, not the producer
    sinker = sink.Sink(bootstrap, group, warehouse, SETTINGS)
    base = sunk()
    await sinker.start()
    try:
        # From the first insert on, so the consumer group's join is not counted.
        while (first := sunk() - base) == 0:
            await asyncio.sleep(0.005)
        clock = Clock()
        while sunk() - base < n:
            await asyncio.sleep(0.005)
        run = clock.run(int(n - first))
    finally:
        await sinker.stop()
    stored = await count(warehouse, records[0].stream_id)
    assert stored == n, f"the sink stored {stored} of {n} rows"
    return run


class Landings(ChdbWarehouse):
    """The bench's chdb: notes when each people-count insert returned, with its rows' keys (a row is
    queryable from then on)."""

    def __init__(self, path: Path, database: str) -> None:
        super().__init__(path, database)
        self.landed: list[tuple[float, Sequence[Any], Sequence[Any]]] = []  # (time, stream ids, time offsets)

    async def insert_columns(self, table: str, columns: Columns) -> int:
        rows = await super().insert_columns(table, columns)
        if table == "people_counts":
            self.landed.append((time.time(), columns["stream_id"], columns["time_offset"]))
        return rows


async def frame_to_row(warehouse: Landings, bootstrap: str) -> list[float]:
    """Seconds from each live sample's frame time to its row's first insert returning."""
    stream, account = uuid.uuid4(), uuid.uuid4()
    sinker = sink.Sink(bootstrap, f"bench-live-{stream.hex[:6]}", warehouse, SinkSettings())
    sinker.offset_reset = "latest"  # a live sink: not the throughput rounds' backlog
    await sinker.start()
    await sinker.hold_positions()
    sent: dict[float, float] = {}  # time offset -> frame time
    landed: dict[float, float] = {}  # time offset -> when its row first became queryable
    seen = len(warehouse.landed)

    def collect() -> None:
        nonlocal seen
        for at, streams, offsets in warehouse.landed[seen:]:
            for stream_id, offset in zip(streams, offsets, strict=True):
                if stream_id == stream:
                    landed.setdefault(offset, at)
        seen = len(warehouse.landed)

    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        tick, per_tick = 0.01, LIVE_RATE // 100
        begun = time.perf_counter()
        for i in range(LIVE_RATE * LIVE_SECONDS // per_tick):
            for j in range(per_tick):
                at, offset = datetime.now(UTC), (i * per_tick + j) / 25
                sample = CountSample(stream_id=stream, account_id=account, time_offset=offset, timestamp=at,
                                     people_count=j % 9)
                sent[offset] = at.timestamp()
                await producer.send(COUNTS.name, sample.model_dump_json().encode(), key=str(stream).encode())
            await asyncio.sleep(max(0.0, begun + (i + 1) * tick - time.perf_counter()))
        await producer.flush()
        deadline = time.monotonic() + 30
        while len(landed) < len(sent) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            collect()
    finally:
        await producer.stop()
        await sinker.stop()
    missing = len(sent) - len(landed)
    assert not missing, f"{missing} of {len(sent)} live rows never reached the warehouse"
    return [landed[offset] - at for offset, at in sent.items()]


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
        warehouse = Landings(Path(tmp) / "ch", "bench")
        await warehouse.start()
        try:
            await migrate(warehouse)
            async with scratch_broker(Path(tmp)) as broker:
                load_before = os.getloadavg()[0]
                await raw_columns(warehouse, SETTINGS.batch_size * 4)  # warm-up: first parts made
                json_rows = await raw_json(warehouse, n)
                raws, sinks = [await raw_columns(warehouse, n)], []
                for _ in range(ROUNDS):
                    sinks.append(await through_sink(warehouse, broker.bootstrap, n, "bench-sink"))
                    raws.append(await raw_columns(warehouse, n))
                latencies = await frame_to_row(warehouse, broker.bootstrap)
                load_after = os.getloadavg()[0]
            ratios = [s.rate / max(raws[i].rate, raws[i + 1].rate) for i, s in enumerate(sinks)]
            ratio = statistics.median(ratios)
            raw_cpu, sink_cpu = statistics.median(r.cpu_us for r in raws), statistics.median(s.cpu_us for s in sinks)
            p50, p95, p99 = (quantile(latencies, q) for q in (0.50, 0.95, 0.99))
            rates = lambda runs: " / ".join(f"{r.rate:.0f}" for r in runs)  # noqa: E731
            record("Warehouse sink (bench/sink.py)", table(
                ["path", "rows/s, each run", "ratio to raw insert", "CPU µs/row (median)", "CPU ratio"],
                [[f"raw batched JSONColumns insert ({SETTINGS.batch_size} rows)", rates(raws), "1.00",
                  f"{raw_cpu:.1f}", "1.00"],
                 [f"raw batched JSONEachRow insert ({SETTINGS.batch_size} rows; the sink's form before)",
                  rates([json_rows]), f"{json_rows.rate / max(r.rate for r in raws):.2f}", f"{json_rows.cpu_us:.1f}",
                  f"{raw_cpu / json_rows.cpu_us:.2f}"],
                 ["Kafka -> sink -> chdb", rates(sinks), f"{ratio:.2f} (rounds: {', '.join(f'{r:.2f}' for r in ratios)})",
                  f"{sink_cpu:.1f}", f"{raw_cpu / sink_cpu:.2f}"]],
            ) + "\n\n" + table(
                ["frame to queryable row", "p50 s", "p95 s", "p99 s"],
                [[f"{LIVE_RATE} rows/s for {LIVE_SECONDS} s, default sink settings",
                  f"{p50:.3f}", f"{p95:.3f}", f"{p99:.3f}"]],
            ), f"{ROUNDS} rounds of {n} people-count samples, one partition; targets: ratio >= 0.80, p99 <= 0.5 s. "
               f"Sink, producer and chdb share one process and event loop; the Tansu broker is another process. "
               f"1-minute load average {load_before:.2f} before, {load_after:.2f} after, on {os.cpu_count()} cores.")
            summarize(sink_ratio=ratio, frame_to_row_p99_s=p99)
            if rows_at_scale:
                record(f"Dashboard queries at {rows_at_scale:,} rows (bench/sink.py)", table(
                    ["panel", "p95 ms (5 runs)"], await dashboards_at_scale(warehouse, rows_at_scale)),
                    "people_counts filled with 50 streams at 20 samples/s; the other tables are nearly empty.")
        finally:
            await warehouse.stop()


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows-at-scale", type=int, default=10_000_000)
    parser.add_argument("--samples", type=int, default=20_000, help="per round")
    args = parser.parse_args()
    asyncio.run(main(args.rows_at_scale, args.samples))
