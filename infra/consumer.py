"""The loop of the Kafka services embedded beside the stores (the warehouse sink, the watch-list matcher),
written once: fetch a batch, validate it (the bad records go to the dead-letter topic), hand the valid
ones to the service's ``handle`` step, commit after it succeeded. While ``handle`` raises (a store or the
broker is down) the batch is held and retried with backoff, and nothing is committed; so delivery is
at-least-once and the services' results are idempotent. The next batch is fetched and validated while
one is handled (one batch ahead, never more), and batches are handled and committed one at a time, in
order. Explicit start/wait/stop.
"""

from __future__ import annotations

import asyncio
import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Protocol

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from pydantic import BaseModel, TypeAdapter, ValidationError
from pydantic_core import from_json

from infra import metrics
from infra.backoff import Backoff
from infra.dead_letter import dead_letter_for
from infra.kafka import consumer_options
from schemas.errors import MESSAGE_INVALID, ErrorCode
from schemas.topics import DEAD_LETTER

log = logging.getLogger(__name__)
Received = tuple[ConsumerRecord, BaseModel]  # a record and its validated value


class ConsumerSettings(Protocol):
    """What each consumer service's settings class (infra.settings) gives the loop."""

    @property
    def batch_size(self) -> int: ...
    @property
    def batch_seconds(self) -> float: ...
    @property
    def retry_initial(self) -> float: ...
    @property
    def retry_max(self) -> float: ...


class ConsumerService(ABC):
    """A consumer group with manual commits over ``models``' topics (each record validated as its topic's
    model) and a producer for what the service emits. Subclasses supply ``handle``."""

    name = "consumer"
    invalid_error: ErrorCode = MESSAGE_INVALID  # the code a record failing validation is dead-lettered with
    offset_reset = "earliest"  # where a new group starts; once it has committed, it resumes from there

    def __init__(self, bootstrap: str, group_id: str, models: Mapping[str, type[BaseModel]], settings: ConsumerSettings) -> None:
        self.bootstrap, self.group_id, self.models, self.settings = bootstrap, group_id, dict(models), settings
        self._batches = {topic: TypeAdapter(list[model]) for topic, model in self.models.items()}
        self.backoff = Backoff(settings.retry_initial, settings.retry_max)
        self._consumer: AIOKafkaConsumer | None = None
        self._producer: AIOKafkaProducer | None = None
        self._task: asyncio.Task[None] | None = None

    @abstractmethod
    async def handle(self, topic: str, received: list[Received]) -> None:
        """Process one partition's valid records, in order. Raise to have the whole batch retried (a
        store is down); records refused for good are the handler's to dead-letter."""

    async def start(self) -> None:
        """Join the group and start draining; raises if the broker cannot be reached."""
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap)
        self._consumer = AIOKafkaConsumer(
            *self.models, bootstrap_servers=self.bootstrap, group_id=self.group_id, enable_auto_commit=False,
            auto_offset_reset=self.offset_reset, max_poll_records=self.settings.batch_size, **consumer_options(),
        )
        try:
            await self._producer.start()
            await self._consumer.start()
        except BaseException:
            await self._close()
            raise
        self._task = asyncio.create_task(self._run(), name=self.name)

    async def hold_positions(self) -> None:
        """Wait until the group assigned this member its partitions and their positions are known, so a
        new group starting at "latest" misses nothing published after this returns."""
        assert self._consumer is not None
        while not self._consumer.assignment():
            await asyncio.sleep(0.05)
        for partition in self._consumer.assignment():
            await self._consumer.position(partition)

    async def stop(self) -> None:
        """Stop without committing what is not done: it is redelivered, and results are idempotent."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._close()

    async def wait(self) -> None:
        """Until the drain loop ends: only by stop() or a crash (which it raises)."""
        if self._task is not None:
            await self._task

    async def _close(self) -> None:
        for client in (self._consumer, self._producer):
            if client is not None:
                await client.stop()
        self._consumer = self._producer = None

    async def dead_letter(self, record: ConsumerRecord, error: ErrorCode, reason: str) -> None:
        assert self._producer is not None
        letter = dead_letter_for(record, error, reason, self.name)
        log.warning("record sent to dead letter", extra={"topic": record.topic, "offset": record.offset, "reason": reason})
        await self._producer.send_and_wait(DEAD_LETTER.name, letter.model_dump_json().encode(), key=record.topic.encode())

    async def _run(self) -> None:
        assert self._consumer is not None
        timeout_ms = int(self.settings.batch_seconds * 1000)
        finishing: asyncio.Task[None] | None = None  # the batch being handled and committed
        try:
            while True:
                batch = await self._consumer.getmany(timeout_ms=timeout_ms, max_records=self.settings.batch_size)
                for partition, records in batch.items():
                    received = await self._validated(records)  # meanwhile the previous batch is being written
                    if finishing is not None:
                        await finishing
                    finishing = asyncio.create_task(self._finish(partition, records, received))
                    await asyncio.sleep(0)  # let it start its write before this loop validates the next batch
                if finishing is not None and finishing.done():
                    finishing.result()  # a crash (a failed commit) ends the loop now, not at the next batch
        finally:
            if finishing is not None and not finishing.done():
                finishing.cancel()  # uncommitted: redelivered, and results are idempotent
                await asyncio.gather(finishing, return_exceptions=True)

    async def _finish(self, partition: TopicPartition, records: list[ConsumerRecord], received: list[Received]) -> None:
        if received:
            await self._handled(partition.topic, received)
        assert self._consumer is not None
        await self._consumer.commit({partition: records[-1].offset + 1})
        self._record_lag(partition, records[-1].offset + 1)

    def _record_lag(self, partition: TopicPartition, position: int) -> None:
        try:
            highwater = self._consumer.highwater(partition) if self._consumer is not None else None
        except (AssertionError, AttributeError):  # aiokafka: "not assigned", revoked by a rebalance meanwhile
            return
        if highwater is not None:
            metrics.CONSUMER_LAG.labels(self.group_id, partition.topic, str(partition.partition)).set(
                max(0, highwater - position))

    async def _validated(self, records: list[ConsumerRecord]) -> list[Received]:
        """The records as their topic's model, validated as one list: a JSON parse each, then one validator
        call for the batch. A batch that fails is validated record by record, to dead-letter the bad ones
        with their own errors and keep the rest in order."""
        topic = records[0].topic
        try:
            values = self._batches[topic].validate_python([from_json(record.value or b"") for record in records])
            return list(zip(records, values, strict=True))
        except ValueError:  # bad JSON or a ValidationError somewhere in the batch
            pass
        model = self.models[topic]
        received: list[Received] = []
        for record in records:
            try:
                received.append((record, model.model_validate_json(record.value or b"")))
            except ValidationError as exc:
                reason = MESSAGE_INVALID.body(model.__name__, exc.errors(include_url=False)).detail
                await self.dead_letter(record, self.invalid_error, reason)
        return received

    async def _handled(self, topic: str, received: list[Received]) -> None:
        while True:
            try:
                await self.handle(topic, received)
                self.backoff.reset()
                return
            except Exception as exc:  # noqa: BLE001 - a store or the broker is away: hold the batch, commit nothing
                log.warning(
                    "batch not handled, holding it",
                    extra={"service": self.name, "topic": topic, "records": len(received), "error": str(exc)[:500],
                           "retry_in": self.backoff.upcoming},
                )
                await self.backoff.wait()
