"""Shared by benchmarks: the machine description and appending a table to bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

from infra.kafka import ensure_topics
from infra.process import free_port
from infra.root import embedded
from infra.settings import BrokerSettings

RESULTS = Path(__file__).with_name("RESULTS.md")


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
