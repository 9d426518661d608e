"""A consumer group's lag on a topic: how far its committed offsets trail the log's end, in messages
and in seconds (the age of the oldest message it has not consumed yet).

The worker's lag on the frames topic is the one figure that shows overload: a worker fed more frames
than it can process falls further behind every second while each part still answers its own probe.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from aiokafka import AIOKafkaConsumer, TopicPartition

from infra.health import Degraded, Probe

_TIMEOUT_MS = 5_000


@dataclass(frozen=True)
class Lag:
    messages: int
    seconds: float  # 0 when nothing waits


async def consumer_lag(bootstrap: str, group: str, topic: str) -> Lag:
    """``group``'s lag on ``topic``; a partition it never committed counts from the log's beginning
    (a consumer that reads from the earliest offset has all of it still to do)."""
    # The group's own consumer (never subscribed, so it never joins the group) reads the commits: the
    # admin client's OffsetFetch version is one Tansu answers in a shape aiokafka cannot parse.
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=group, enable_auto_commit=False,
                                request_timeout_ms=_TIMEOUT_MS)
    await consumer.start()
    try:
        await consumer.topics()  # fills the metadata that partitions_for_topic reads
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            return Lag(0, 0.0)
        beginnings = await consumer.beginning_offsets(partitions)
        positions = {}
        for tp in partitions:
            committed = await consumer.committed(tp)
            positions[tp] = max(committed if committed is not None else 0, beginnings[tp])
        ends, oldest = await _ends_and_oldest(consumer, positions)
        messages = sum(max(0, ends[tp] - positions[tp]) for tp in partitions)
        return Lag(messages, max(0.0, time.time() - oldest / 1000) if oldest is not None else 0.0)
    finally:
        await consumer.stop()


async def _ends_and_oldest(consumer: AIOKafkaConsumer, positions: dict[TopicPartition, int]
                           ) -> tuple[dict[TopicPartition, int], int | None]:
    """Each partition's end, and the earliest timestamp (ms) of the first message at ``positions``.

    The ends are the high watermarks a fetch answers with: Tansu's ListOffsets "latest" counts a batch
    of records as one, and the agent publishes frames in batches."""
    consumer.assign(list(positions))
    for tp, offset in positions.items():
        consumer.seek(tp, offset)
    ends: dict[TopicPartition, int] = {}
    first: dict[TopicPartition, int] = {}
    deadline = time.monotonic() + _TIMEOUT_MS / 1000
    while len(ends) < len(positions) and time.monotonic() < deadline:
        for tp, records in (await consumer.getmany(timeout_ms=100, max_records=len(positions))).items():
            if records and tp not in first:
                first[tp] = records[0].timestamp
        for tp in positions:
            highwater = consumer.highwater(tp)
            if tp not in ends and highwater is not None and (highwater <= positions[tp] or tp in first):
                ends[tp] = highwater
                consumer.pause(tp)
    if len(ends) < len(positions):
        raise TimeoutError(f"no fetch answer for {sorted(set(positions) - set(ends))}")
    return ends, min(first.values()) if first else None


def lag_probe(bootstrap: str, group: str, topic: str, limit_seconds: float) -> Probe:
    """A health probe: ``degraded`` while ``group``'s oldest unconsumed message of ``topic`` is older
    than ``limit_seconds``."""

    async def probe() -> None:
        lag = await consumer_lag(bootstrap, group, topic)
        if lag.seconds > limit_seconds:
            raise Degraded(f"{lag.messages} messages of {topic} wait for {group}, the oldest for "
                           f"{lag.seconds:.1f} s (limit {limit_seconds:g} s)")

    return probe
