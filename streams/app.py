"""The Faust application factory shared by the worker (stream processors) and the sink."""

from __future__ import annotations

import faust

from infra.kafka import partitions_for
from infra.settings import BrokerSettings, WorkerSettings
from schemas.topics import DEAD_LETTER, TopicSpec
from streams import fetch_wait


def broker_urls(bootstrap: str) -> str:
    return ";".join(f"kafka://{server.strip()}" for server in bootstrap.split(",") if server.strip())


def create_app(
    app_id: str, broker: BrokerSettings | None = None, worker: WorkerSettings | None = None
) -> faust.App:
    """A Faust app whose messages are raw bytes: Selene validates them itself against ``schemas``,
    so a message that does not parse reaches our code (and the dead-letter topic), not Faust's crash path."""
    broker = broker or BrokerSettings()
    worker = worker or WorkerSettings()
    fetch_wait.install(broker.fetch_max_wait_ms)
    return faust.App(
        app_id,
        broker=broker_urls(broker.bootstrap),
        web_enabled=False,
        store="memory://",
        topic_partitions=broker.topic_partitions,
        topic_replication_factor=broker.replication_factor,
        broker_rebalance_timeout=worker.rebalance_timeout,
        broker_session_timeout=broker.session_timeout_ms / 1000,
        broker_heartbeat_interval=broker.heartbeat_interval_ms / 1000,
        key_serializer="raw",
        value_serializer="raw",
        # Stop commits what was acked and returns: waiting for in-flight events can spin forever once the
        # agents have stopped, and the unacked ones are redone on restart (outputs are idempotent on ids).
        stream_wait_empty=False,
    )


def topic(app: faust.App, spec: TopicSpec) -> faust.TopicT:
    return app.topic(
        spec.name,
        partitions=partitions_for(spec, app.conf.topic_partitions),
        key_serializer="raw",
        value_serializer="raw",
        compacting=spec.compacted or None,
        retention=spec.retention_ms / 1000 if spec.retention_ms else None,
    )


def dead_letter_topic(app: faust.App) -> faust.TopicT:
    return topic(app, DEAD_LETTER)
