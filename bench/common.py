"""Shared by benchmarks: the machine description and appending a table to bench/RESULTS.md."""

from __future__ import annotations

import asyncio
import json
import os
import platform
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import UTC, datetime
from pathlib import Path

import httpx

from infra.kafka import ensure_topics
from infra.process import free_port
from infra.root import embedded
from infra.settings import BrokerSettings, RedisSettings

RESULTS = Path(__file__).with_name("RESULTS.md")
SUMMARY = Path(__file__).with_name("summary.json")
# The stable keys of bench/summary.json, one per row of issue 15's table, with the target each is held to.
TARGETS: dict[str, tuple[str, float]] = {
    "agent_ratio": (">=", 0.95),
    "pipeline_ratio": (">=", 0.90),
    "streams_per_worker": (">=", 16),
    "people_count_mae_heldout": ("<=", 0.30),
    "sink_ratio": (">=", 0.80),
    "api_p99_ratio": ("<=", 1.5),
    "frame_to_row_p99_s": ("<=", 0.5),
    "assign_10k_s": ("<=", 5.0),
}


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{platform.node()}: {cpu}, {os.cpu_count()} cores, Python {platform.python_version()}"


def table(headers: list[str], rows: list[list[str]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def record(title: str, body: str, notes: str = "") -> None:
    """Print the table and append it, with machine and date, to bench/RESULTS.md."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = f"\n## {title}, {stamp}\n\nMachine: {machine()}\n\n{body}\n"
    if notes:
        section += f"\n{notes}\n"
    print(section)
    with RESULTS.open("a") as out:
        out.write(section)


def summarize(**figures: float) -> None:
    """Merge measured figures into bench/summary.json under their stable keys, with machine and date."""
    unknown = set(figures) - set(TARGETS)
    if unknown:
        raise ValueError(f"not a bench/summary.json key: {sorted(unknown)}")
    try:
        summary = json.loads(SUMMARY.read_text())
    except (OSError, ValueError):
        summary = {}
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    for key, value in figures.items():
        op, target = TARGETS[key]
        holds = value >= target if op == ">=" else value <= target
        summary[key] = round(float(value), 3)
        summary.setdefault("measured", {})[key] = {"at": stamp, "target": f"{op} {target:g}", "holds": holds}
    summary["machine"] = machine()
    SUMMARY.write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")


async def wait_until_serving(port: int, timeout: float = 60) -> None:
    """Until the API on ``port`` answers /6/version (it may still be starting in a child process)."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as probe:
        while time.monotonic() < deadline:
            try:
                if (await probe.get(f"http://127.0.0.1:{port}/6/version")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(f"no API on port {port} after {timeout:.0f} s")


@contextmanager
def scratch_processes(workdir: Path) -> Iterator[tuple[BrokerSettings, RedisSettings]]:
    """A Tansu broker and a redis-server of the benchmark's own, on free ports, stopped on exit."""
    broker = BrokerSettings(bootstrap=f"127.0.0.1:{free_port()}", topic_partitions=2)
    redis = RedisSettings(url=f"redis://127.0.0.1:{free_port()}/0")
    processes = [embedded.broker(broker, workdir), embedded.redis(redis, workdir / "redis", workdir)]
    try:
        for process in processes:
            process.start()
            process.wait_ready(30)
        yield broker, redis
    finally:
        for process in reversed(processes):
            process.stop(10)


@asynccontextmanager
async def scratch_broker(workdir: Path) -> AsyncIterator[BrokerSettings]:
    """A Tansu broker of the benchmark's own on a free port, with Selene's topics, stopped on exit."""
    broker = BrokerSettings(bootstrap=f"127.0.0.1:{free_port()}", topic_partitions=2)
    process = embedded.broker(broker, workdir)
    process.start()
    try:
        process.wait_ready(30)
        await ensure_topics(broker.bootstrap, broker.topic_partitions)
        yield broker
    finally:
        process.stop(10)
