"""The one consumer loop of every stream processor: consume, validate, process, publish.

A processor is its logic, a plain function from validated messages to what they produce, plus one
``processor(...)`` call that wires it to Kafka. The loop validates each message against the source
model (one that does not validate goes to dead letter with the reason), hands the valid ones to the
logic, and publishes what it returns, in input order. A message the logic reports as ``Failed``, and
every message of a batch whose logic raised, goes to dead letter too: bad input costs messages, never
the processor.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar
from uuid import UUID

import faust
from faust.types import EventT
from pydantic import BaseModel

from infra import metrics
from infra.dead_letter import send_dead_letter, validated
from schemas.errors import ANALYTICS_PROCESSING_FAILED, ErrorCode
from schemas.topics import TopicSpec
from streams.app import dead_letter_topic, topic
from streams.configs import StreamConfigs

M = TypeVar("M", bound=BaseModel)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Publish:
    """One message to send: ``value`` as JSON on ``topic``, keyed by ``key``."""

    topic: TopicSpec
    key: UUID | str
    value: BaseModel


@dataclass(frozen=True)
class Failed:
    """The logic could not process a message: it goes to dead letter with this error."""

    error: ErrorCode
    detail: str


Outcome = list[Publish] | Failed


@dataclass(frozen=True)
class Received(Generic[M]):
    """A valid message and its raw Kafka value (for frames, the JPEG; the header is ``message``)."""

    message: M
    value: bytes


BatchLogic = Callable[[list[Received[M]]], Awaitable[list[Outcome]]]


def each(logic: Callable[[M], Iterable[Publish]]) -> BatchLogic[M]:
    """Per-message logic as batch logic."""

    async def run(batch: list[Received[M]]) -> list[Outcome]:
        return [list(logic(item.message)) for item in batch]

    return run


async def _singles(stream: faust.StreamT) -> AsyncIterator[list[EventT]]:
    async for event in stream.events():
        yield [event]


def processor(app: faust.App, name: str, source: TopicSpec, model: type[M], logic: BatchLogic[M], *,
              outputs: Iterable[TopicSpec], configs: StreamConfigs | None = None,
              batch: tuple[int, float] | None = None) -> None:
    """Register processor ``name`` on ``app``: ``source`` messages validated as ``model`` go through
    ``logic``, which may publish to ``outputs``. With ``configs`` it starts once the stream configs are
    loaded (a registered stream must not be processed with the defaults); with ``batch`` (size, seconds)
    it takes micro-batches, else one message at a time."""
    dead_letters = dead_letter_topic(app)
    targets = {spec.name: topic(app, spec) for spec in outputs}

    @app.agent(topic(app, source), name=name)
    async def consume(stream: faust.StreamT) -> None:
        if configs is not None:
            await configs.loaded.wait()
        events = stream.take_events(batch[0], within=batch[1]) if batch else _singles(stream)
        async for group in events:
            received, sources = [], []
            for event in group:
                message = await validated(dead_letters, event, model, name)
                if message is not None:
                    received.append(Received(message, event.value or b""))
                    sources.append(event)
            if not received:
                continue
            try:
                with metrics.STAGE_SECONDS.labels(name).time():
                    outcomes = await logic(received)
            except Exception as exc:  # noqa: BLE001 - a failure loses these messages to dead letter, not the agent
                log.exception("processing failed", extra={"processor": name, "messages": len(received)})
                outcomes = [Failed(ANALYTICS_PROCESSING_FAILED, ANALYTICS_PROCESSING_FAILED.body(exc).detail)
                            ] * len(received)
            _count(app, name, sources)
            for event, outcome in zip(sources, outcomes, strict=True):
                if isinstance(outcome, Failed):
                    await send_dead_letter(dead_letters, event, outcome.error, outcome.detail, name)
                    continue
                for out in outcome:
                    await targets[out.topic.name].send(key=str(out.key).encode(),
                                                       value=out.value.model_dump_json().encode())


def _count(app: faust.App, name: str, events: list[EventT]) -> None:
    """Messages handled per stream (the key is the stream id) and the lag of the partitions they came from."""
    group = app.conf.id
    for event in events:
        metrics.FRAMES_PROCESSED.labels(name, (event.key or b"").decode(errors="replace")).inc()
    last = events[-1].message
    try:
        highwater = app.consumer.highwater(last.tp)
    except Exception:  # noqa: BLE001 - the partition was revoked by a rebalance meanwhile: no lag to tell
        return
    if highwater is not None:
        metrics.CONSUMER_LAG.labels(group, last.tp.topic, str(last.tp.partition)).set(max(0, highwater - last.offset - 1))
