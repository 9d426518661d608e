"""Kafka plumbing shared by every process: topic creation, a cheap liveness probe, consumer positions."""

from __future__ import annotations

import asyncio
import logging
import struct

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from infra.settings import BrokerSettings
from schemas.topics import CATALOGUE, STREAM_PARTITIONS, TopicSpec

log = logging.getLogger(__name__)


def consumer_options() -> dict[str, int]:
    """Options every Selene consumer shares (see BrokerSettings.fetch_max_wait_ms)."""
    broker = BrokerSettings()
    return {"fetch_max_wait_ms": broker.fetch_max_wait_ms, "session_timeout_ms": broker.session_timeout_ms,
            "heartbeat_interval_ms": broker.heartbeat_interval_ms}


async def wait_for_positions(consumer: AIOKafkaConsumer) -> None:
    """Wait until a started group-less consumer knows where it reads each partition from, so that
    nothing sent after this returns is missed (``auto_offset_reset="latest"`` resolves lazily)."""
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=100)
    for partition in consumer.assignment():
        await consumer.position(partition)


def partitions_for(spec: TopicSpec, stream_partitions: int) -> int:
    """Stream-keyed topics take the configured count so that they stay co-partitioned."""
    return stream_partitions if spec.partitions == STREAM_PARTITIONS else spec.partitions


async def ensure_topics(
    bootstrap: str,
    stream_partitions: int = STREAM_PARTITIONS,
    replication_factor: int = 1,
    catalogue: tuple[TopicSpec, ...] = CATALOGUE,
) -> list[str]:
    """Create every catalogue topic that does not exist yet; return the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=10_000)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name=spec.name,
                num_partitions=partitions_for(spec, stream_partitions),
                replication_factor=replication_factor,
                topic_configs=spec.config,
            )
            for spec in catalogue
            if spec.name not in existing
        ]
        if missing:
            try:
                await admin.create_topics(missing)
            except TopicAlreadyExistsError:
                pass  # another process won the race; the topic is there, which is all we need
        return [t.name for t in missing]
    finally:
        await admin.close()


async def probe_broker(host: str, port: int, timeout: float) -> None:
    """Send Kafka's ApiVersions request and check the answer; raise on anything but a healthy reply.

    A TCP connect alone would pass for a hung broker; a real request proves it serves the protocol.
    """
    correlation_id = 0x5E1E
    client_id = b"selene-health"
    body = struct.pack(">hhih", 18, 0, correlation_id, len(client_id)) + client_id
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(struct.pack(">i", len(body)) + body)
        await asyncio.wait_for(writer.drain(), timeout)
        size = struct.unpack(">i", await asyncio.wait_for(reader.readexactly(4), timeout))[0]
        reply = await asyncio.wait_for(reader.readexactly(size), timeout)
        got_id, error_code = struct.unpack(">ih", reply[:6])
        if got_id != correlation_id or error_code != 0:
            raise ConnectionError(f"bad ApiVersions reply (correlation {got_id}, error {error_code})")
    finally:
        writer.close()
