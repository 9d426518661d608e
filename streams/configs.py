"""Stream configurations as processors see them: the compacted ``selene.stream-configs`` topic as a table.

A stream with no configuration (frames from a producer that never registered it, such as the agent's
demo stream) is processed with ``people_count`` at its defaults: Selene counts people on any stream it
is given, and a registered stream gets exactly its analytics. A deleted stream's frames are dropped.
"""

from __future__ import annotations

import asyncio
import logging
from uuid import UUID

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from schemas.analytics import AnalyticParameters, HumanTrackingParameters, PeopleCountParameters
from schemas.streams import StreamConfig, StreamConfigAnalytic
from schemas.topics import STREAM_CONFIGS
from infra.kafka import consumer_options

log = logging.getLogger(__name__)

NO_ACCOUNT = UUID(int=0)  # account of events from unregistered streams
DEFAULT_ANALYTICS = (StreamConfigAnalytic(index=0, analytic_name="people_count"),)


def analytics_of(config: StreamConfig | None) -> list[tuple[StreamConfigAnalytic, AnalyticParameters]]:
    """The built-in analytics a stream runs, with parsed parameters; analytics Selene does not run are skipped."""
    if config is None:
        return [(a, a.parsed()) for a in DEFAULT_ANALYTICS]
    if config.deleted:
        return []
    result = []
    for analytic in config.analytics:
        try:
            result.append((analytic, analytic.parsed()))
        except KeyError:
            continue  # an analytic for someone else's agent
        except ValidationError as exc:
            log.warning("stream analytic has invalid parameters", extra={
                "stream_id": str(config.stream_id), "analytic_index": analytic.index, "error": str(exc)})
    return result


def people_count_analytics(config: StreamConfig | None) -> list[tuple[int, PeopleCountParameters]]:
    return [(a.index, p) for a, p in analytics_of(config) if isinstance(p, PeopleCountParameters)]


def human_tracking_analytics(config: StreamConfig | None) -> list[tuple[int, HumanTrackingParameters]]:
    return [(a.index, p) for a, p in analytics_of(config) if isinstance(p, HumanTrackingParameters)]


def parse_config(value: bytes | None) -> StreamConfig | None:
    """A table value back to a config; None for a tombstone or a value that does not validate."""
    if not value:
        return None
    try:
        return StreamConfig.model_validate_json(value)
    except ValidationError:
        log.warning("stream config does not validate; ignored")
        return None


class StreamConfigs:
    """Every stream's latest config, followed from the compacted topic (bytes key -> StreamConfig).

    Each worker reads every partition from the beginning (no consumer group, nothing committed) and keeps
    following it, so every processor sees every stream's current parameters after any restart. Faust's
    GlobalTable would be the natural fit, but its recovery never finished against Tansu (the start-up
    hung), so this is the same idea with a plain consumer.
    """

    def __init__(self) -> None:
        self.configs: dict[bytes, StreamConfig] = {}
        self.loaded = asyncio.Event()

    def get(self, stream_id: UUID) -> StreamConfig | None:
        """The stream's latest config; None for a stream never configured (or deleted and compacted)."""
        return self.configs.get(str(stream_id).encode())

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        config = parse_config(value)
        if config is not None:
            self.configs[key] = config
        elif value is None and key in self.configs:
            # A tombstone for a known stream: it was deleted, so its late frames must not fall back to defaults.
            self.configs[key] = self.configs[key].model_copy(update={"deleted": True})
        else:
            self.configs.pop(key, None)  # a value that does not validate

    async def follow(self, bootstrap: str) -> None:
        """Read the topic from the start, set ``loaded`` once caught up, then keep following it."""
        consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, **consumer_options())
        await consumer.start()
        try:
            await consumer.topics()  # fetches the metadata partitions_for_topic reads
            partitions = [TopicPartition(STREAM_CONFIGS.name, p)
                          for p in sorted(consumer.partitions_for_topic(STREAM_CONFIGS.name) or ())]
            consumer.assign(partitions)
            await consumer.seek_to_beginning(*partitions)
            ends = await consumer.end_offsets(partitions) if partitions else {}
            while True:
                batches = await consumer.getmany(timeout_ms=200)
                for records in batches.values():
                    for record in records:
                        self.apply(record.key, record.value)
                if not self.loaded.is_set() and await _caught_up(consumer, ends):
                    self.loaded.set()
                    log.info("stream configs loaded", extra={"streams": len(self.configs)})
        finally:
            await consumer.stop()


async def _caught_up(consumer: AIOKafkaConsumer, ends: dict[TopicPartition, int]) -> bool:
    for tp, end in ends.items():
        if await consumer.position(tp) < end:
            return False
    return True


def stream_configs(app: faust.App) -> StreamConfigs:
    """The stream configs of this app (one per app, shared by its processors, followed while it runs)."""
    existing = getattr(app, "_selene_stream_configs", None)
    if existing is None:
        existing = StreamConfigs()
        app._selene_stream_configs = existing  # type: ignore[attr-defined]
        bootstrap = ",".join(f"{url.host}:{url.port}" for url in app.conf.broker)

        @app.task
        async def follow_stream_configs() -> None:
            while True:  # a broker hiccup must not leave the processors waiting on `loaded` for ever
                try:
                    await existing.follow(bootstrap)
                except Exception:
                    log.exception("following stream configs failed; retrying")
                    await asyncio.sleep(1)

    return existing
