"""``selene worker``: the stream processors, one Faust app, one consumer group."""

from __future__ import annotations

import asyncio
import sys

import faust

from infra import logs
from infra.metrics import serve_metrics
from infra.lifecycle import faust_service, run_process
from infra.settings import BrokerSettings, CommonSettings, RedisSettings, WorkerSettings
from streams import (
    detection,
    extraction,
    frame_stats,
    human_tracking,
    luna_events,
    people_count,
    tracking,
)
from streams.app import create_app

PROCESSORS = (frame_stats, detection, tracking, people_count, human_tracking, extraction, luna_events)


def build_app(broker: BrokerSettings | None = None, worker: WorkerSettings | None = None) -> faust.App:
    worker = worker or WorkerSettings()
    app = create_app(f"{worker.app_id}-worker", broker, worker)
    for processor in PROCESSORS:
        if processor is detection:
            detection.register(app, worker=worker)  # it skips stale live frames by the worker's settings
        else:
            processor.register(app)
    return app


def main() -> None:
    common = CommonSettings()
    logs.configure("worker", common)
    serve_metrics(common.metrics_host, WorkerSettings().metrics_port, "worker")
    sys.exit(asyncio.run(run_process(faust_service("worker", build_app()), RedisSettings().url)))
