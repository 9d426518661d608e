"""One Kafka producer with an explicit start and stop, for the services that publish keyed JSON records
and wait until the broker has them (acks from all replicas)."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaProducer


class Producer:
    def __init__(self, bootstrap: str) -> None:
        self.bootstrap = bootstrap
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        self._producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=False, acks="all")
        await self._producer.start()

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    def _started(self) -> AIOKafkaProducer:
        if self._producer is None:
            raise RuntimeError(f"{type(self).__name__} used before start")
        return self._producer

    async def send(self, topic: str, key: str, payload: bytes | None) -> None:
        await self._started().send_and_wait(topic, payload, key=key.encode())

    async def send_all(self, topic: str, records: Iterable[tuple[str, bytes]]) -> None:
        """Hand every record to the producer first, then wait for all: one round of acks, not one per record."""
        producer = self._started()
        sent = [await producer.send(topic, payload, key=key.encode()) for key, payload in records]
        for delivery in sent:
            await delivery
