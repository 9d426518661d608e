"""The /6/ws side of the sender: every API instance reads ``selene.event-notifications`` from its end,
without a consumer group, so each sees every event and serves its own subscribers. An event goes to
them when one of the handler's ``luna-ws-notification`` callbacks lets it through (its filters met),
then to each subscriber whose handshake filters it meets.

A record that is not a notification is skipped here (the callback sender, which reads every record
once, dead-letters it with 29003). If the consumer fails, the subscribers are closed with 29005 and
new handshakes refused with it until the service is started again.
"""

from __future__ import annotations

import asyncio
import logging

from aiokafka import AIOKafkaConsumer
from pydantic import ValidationError

from analytics.sender.filters import EventFacts, to_deliver
from analytics.sender.subscribers import Subscribers
from infra.http.websocket import GOING_AWAY, Close
from infra.kafka import consumer_options, wait_for_positions
from schemas.callbacks import WsNotificationCallback
from schemas.errors import SENDER_DISCONNECTED
from schemas.notifications import EventNotification
from schemas.topics import EVENT_NOTIFICATIONS

log = logging.getLogger(__name__)
UNAVAILABLE = 4503  # websocket close code: 4000 + the HTTP status of 29005


class WsFanout:
    name = "sender-ws"

    def __init__(self, bootstrap: str, subscribers: Subscribers) -> None:
        self.bootstrap = bootstrap
        self.subscribers = subscribers
        self._consumer: AIOKafkaConsumer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        """Whether events flow: started, and the consumer has not failed."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Returns once the consumer holds its positions: every event published after it is delivered."""
        consumer = AIOKafkaConsumer(
            EVENT_NOTIFICATIONS.name, bootstrap_servers=self.bootstrap, group_id=None, auto_offset_reset="latest",
            **consumer_options(),
        )
        await consumer.start()
        try:
            await wait_for_positions(consumer)
        except BaseException:
            await consumer.stop()
            raise
        self._consumer = consumer
        self._task = asyncio.create_task(self._consume(consumer), name=self.name)

    async def wait(self) -> None:
        if self._task is not None:
            await self._task

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None
        if self._consumer is not None:
            await self._consumer.stop()
            self._consumer = None
        self.subscribers.close_all(Close(GOING_AWAY))

    async def _consume(self, consumer: AIOKafkaConsumer) -> None:
        try:
            async for record in consumer:
                try:
                    notification = EventNotification.model_validate_json(record.value or b"")
                except ValidationError as exc:
                    log.warning("invalid event notification skipped", extra={"offset": record.offset, "error": str(exc)[:500]})
                    continue
                self.publish(notification)
        except Exception:
            log.exception("sender websocket feed stopped: the consumer failed")
            gone = SENDER_DISCONNECTED.body("Broker").model_dump_json()
            self.subscribers.close_all(Close(UNAVAILABLE, gone))
            raise

    def publish(self, notification: EventNotification) -> int:
        """To the subscribers, if a ws callback of the handler lets the event through."""
        facts = EventFacts.of(notification)
        if not to_deliver(notification.callbacks, WsNotificationCallback, facts):
            return 0
        return self.subscribers.publish(notification, facts)
