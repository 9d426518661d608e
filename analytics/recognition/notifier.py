"""Publishes what a handler generated on ``selene.event-notifications``, for the sender (/6/ws, callbacks).

LUNA's Handlers publish every generated event, saved or not, to the Sender; here the topic is that
channel. The key is the account, so one account's events keep their order.
"""

from __future__ import annotations

from infra.producer import Producer
from schemas.notifications import EventNotification
from schemas.topics import EVENT_NOTIFICATIONS


class EventNotifier(Producer):
    async def publish(self, notifications: list[EventNotification]) -> None:
        await self.send_all(EVENT_NOTIFICATIONS.name, (
            (str(n.account_id), n.model_dump_json(by_alias=True).encode()) for n in notifications))
