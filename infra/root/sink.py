"""``selene sink``: the warehouse sink on its own (compose); embedded, it runs inside ``selene api``."""

from __future__ import annotations

import asyncio
import sys

from analytics.events import sink
from analytics.events.setup import open_warehouse
from infra import logs
from infra.lifecycle import Service, run_process
from infra.metrics import serve_metrics
from infra.settings import (
    BrokerSettings,
    CommonSettings,
    RedisSettings,
    SinkSettings,
    WarehouseSettings,
    WorkerSettings,
)


def sink_group(worker: WorkerSettings) -> str:
    return f"{worker.app_id}-sink"


def matcher_group(worker: WorkerSettings) -> str:
    """The watch-list matcher's consumer group (it runs beside the face store, in the API process)."""
    return f"{worker.app_id}-matcher"


def sender_group(worker: WorkerSettings) -> str:
    """The http callbacks' consumer group (the /6/ws feed reads without one: every API instance)."""
    return f"{worker.app_id}-sender"


async def run() -> int:
    warehouse = await open_warehouse(WarehouseSettings(), CommonSettings())
    try:
        sinker = sink.Sink(BrokerSettings().bootstrap, sink_group(WorkerSettings()), warehouse, SinkSettings())
        return await run_process(Service("sink", sinker.start, sinker.wait, sinker.stop), RedisSettings().url)
    finally:
        await warehouse.stop()


def main() -> None:
    common = CommonSettings()
    logs.configure("sink", common)
    serve_metrics(common.metrics_host, SinkSettings().metrics_port, "sink")
    sys.exit(asyncio.run(run()))
