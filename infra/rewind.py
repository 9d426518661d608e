"""Logs that went back under a consumer: a broker restarted without its data (the embedded, memory-only
Tansu) starts every partition again at offset 0, while a consumer still asks for the offset it had
reached. Tansu answers such a fetch with nothing rather than an "offset out of range" error, so the
consumer would wait, silently, until the new log grew past its old position.

``RewindWatch`` compares the consumer's positions with the partitions' high watermarks, which every
fetch answer carries (Tansu's ListOffsets "latest" is no help: it counts a batch of records as one); a
position past the high watermark means the log was recreated, and every message on it is newer than
anything read before, so the partition is read again from its beginning.
"""

from __future__ import annotations

import logging
import time

from aiokafka import AIOKafkaConsumer, TopicPartition

log = logging.getLogger(__name__)
CHECK_SECONDS = 1.0  # rarely enough to cost nothing, often enough that a new log cannot outgrow the old position


class RewindWatch:
    def __init__(self, consumer: AIOKafkaConsumer, name: str, every: float = CHECK_SECONDS) -> None:
        self.consumer, self.name, self.every = consumer, name, every
        self._next = time.monotonic() + every

    async def check(self) -> list[TopicPartition]:
        """At most every ``every`` seconds: the assigned partitions whose log went back, now read from
        their beginning. The high watermarks come with the fetches, so a quiet check asks the broker
        nothing, and a broker that does not answer leaves the last answer's marks."""
        if time.monotonic() < self._next:
            return []
        self._next = time.monotonic() + self.every
        behind: dict[TopicPartition, tuple[int, int]] = {}
        for tp in sorted(self.consumer.assignment()):
            highwater = self.consumer.highwater(tp)
            position = await self.consumer.position(tp)
            if highwater is not None and position > highwater:
                behind[tp] = (position, highwater)
        if not behind:
            return []
        try:
            starts = await self.consumer.beginning_offsets(list(behind))
        except Exception as exc:  # noqa: BLE001 - the broker went away again: the next check retries
            log.debug("log beginnings not known", extra={"consumer": self.name, "error": str(exc)})
            return []
        # Explicit seeks: aiokafka's seek_to_beginning left these positions where they were against Tansu.
        for tp, start in starts.items():
            self.consumer.seek(tp, start)
        log.warning("the broker's log went back (a restart without its data): reading it again from its beginning",
                    extra={"consumer": self.name, "partitions": [f"{tp.topic}:{tp.partition}" for tp in behind],
                           "positions_and_ends": list(behind.values())})
        return list(behind)
