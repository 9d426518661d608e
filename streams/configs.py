"""Stream configurations as processors see them: the compacted ``selene.stream-configs`` topic as a table
of ``StreamSetup``s, each stream's analytics parsed once per config.

A stream with no configuration (frames from a producer that never registered it, such as the agent's
demo stream) is processed with ``people_count`` at its defaults: Selene counts people on any stream it
is given, and a registered stream gets exactly its analytics. A deleted stream's frames are dropped.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

import faust
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import ValidationError

from infra.kafka import consumer_options
from schemas.analytics import AnalyticParameters, LunaEventCallback
from schemas.frames import FrameEnvelope
from schemas.streams import StreamConfig, StreamConfigAnalytic
from schemas.topics import STREAM_CONFIGS

log = logging.getLogger(__name__)

NO_ACCOUNT = UUID(int=0)  # account of events from unregistered streams
DEFAULT_ANALYTICS = (StreamConfigAnalytic(index=0, analytic_name="people_count"),)
P = TypeVar("P", bound=AnalyticParameters)
B = TypeVar("B")
S = TypeVar("S")


@dataclass(frozen=True, eq=False)
class StreamSetup:
    """What the processors run on one stream, parsed once when its config arrives: the built-in
    analytics with validated parameters (analytics Selene does not run, and invalid ones, left out).

    Processors compare setups by identity: a config that arrives unchanged keeps its setup object.
    """

    config: StreamConfig | None  # None: a stream never configured, run with the default analytics
    analytics: tuple[tuple[int, AnalyticParameters], ...]
    luna_event_indexes: frozenset[int]  # analytics with an enabled ``luna-event`` callback

    @property
    def account_id(self) -> UUID:
        return self.config.account_id if self.config else NO_ACCOUNT

    def of(self, kind: type[P]) -> list[tuple[int, P]]:
        """(index, parameters) of the stream's analytics of one kind."""
        return [(i, p) for i, p in self.analytics if isinstance(p, kind)]


def setup_for(config: StreamConfig | None) -> StreamSetup:
    """Parse a config's analytics; a deleted stream runs none."""
    analytics = []
    for analytic in DEFAULT_ANALYTICS if config is None else () if config.deleted else config.analytics:
        try:
            analytics.append((analytic.index, analytic.parsed()))
        except KeyError:
            continue  # an analytic for someone else's agent
        except ValidationError as exc:
            assert config is not None
            log.warning("stream analytic has invalid parameters", extra={
                "stream_id": str(config.stream_id), "analytic_index": analytic.index, "error": str(exc)})
    luna_events = frozenset(i for i, p in analytics
                            if any(isinstance(c, LunaEventCallback) and c.enable for c in p.callbacks))
    return StreamSetup(config, tuple(analytics), luna_events)


DEFAULT_SETUP = setup_for(None)


class PerStream(Generic[B, S]):
    """One processor's state per stream, built for one stream version and agent run from one basis (the
    stream's setup, compared by identity) and built again when any of them changes; a message of an older
    version, or an older run of the same version, than the state's is stale."""

    def __init__(self, build: Callable[[UUID, int, B], S]) -> None:
        self.build = build
        self.streams: dict[UUID, tuple[tuple[int, int], B, S]] = {}

    def get(self, frame: FrameEnvelope, basis: B) -> tuple[S | None, S | None]:
        """(the state for this frame's message, None when it is stale; the state it replaced, if any)."""
        current = self.streams.get(frame.stream_id)
        epoch = (frame.version, frame.run)
        if current is not None and current[0] > epoch:
            return None, None
        if current is not None and current[0] == epoch and current[1] is basis:
            return current[2], None
        state = self.build(frame.stream_id, frame.version, basis)
        self.streams[frame.stream_id] = (epoch, basis, state)
        return state, current[2] if current is not None else None

    def states(self) -> list[S]:
        return [state for _, _, state in self.streams.values()]


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
    """Every stream's latest setup, followed from the compacted topic (bytes key -> StreamSetup).

    Each worker reads every partition from the beginning (no consumer group, nothing committed) and keeps
    following it, so every processor sees every stream's current parameters after any restart. Faust's
    GlobalTable would be the natural fit, but its recovery never finished against Tansu (the start-up
    hung), so this is the same idea with a plain consumer.
    """

    def __init__(self) -> None:
        self.setups: dict[bytes, StreamSetup] = {}
        self.loaded = asyncio.Event()

    def get(self, stream_id: UUID) -> StreamSetup:
        """The stream's setup: the default one for a stream never configured (or deleted and compacted)."""
        return self.setups.get(str(stream_id).encode(), DEFAULT_SETUP)

    def apply(self, key: bytes | None, value: bytes | None) -> None:
        if key is None:
            return
        config = parse_config(value)
        known = self.setups.get(key)
        if config is not None:
            if known is None or known.config != config:  # a config read again keeps its setup
                self.setups[key] = setup_for(config)
        elif value is None and known is not None and known.config is not None:
            # A tombstone for a known stream: it was deleted, so its late frames must not fall back to defaults.
            self.setups[key] = setup_for(known.config.model_copy(update={"deleted": True}))
        else:
            self.setups.pop(key, None)  # a value that does not validate

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
                    log.info("stream configs loaded", extra={"streams": len(self.setups)})
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
