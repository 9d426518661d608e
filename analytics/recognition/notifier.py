"""Publishes what a handler generated on ``selene.event-notifications``, for the sender (/6/ws, callbacks).

LUNA's Handlers publish every generated event, saved or not, to the Sender; here the topic is that
channel. The key is the account, so one account's events keep their order.
"""

from __future__ import annotations

from aiokafka import AIOKafkaProducer

from schemas.notifications import EventNotification
from schemas.topics import EVENT_NOTIFICATIONS


class EventNotifier:
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

    async def publish(self, notifications: list[EventNotification]) -> None:
        if self._producer is None:
            raise RuntimeError("EventNotifier used before start")
        sent = [
            await self._producer.send(
                EVENT_NOTIFICATIONS.name, n.model_dump_json(by_alias=True).encode(), key=str(n.account_id).encode())
            for n in notifications
        ]
        for delivery in sent:
            await delivery
