"""The /6/ws subscribers of this API instance: each one account's, with its handshake filters and a
bounded queue (a slow client loses its oldest messages, counted in ``selene_ws_messages_dropped``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from uuid import UUID

from analytics.sender.filters import EventFacts, matches
from analytics.sender.message import sender_message
from infra.http.websocket import Close, MessageQueue
from schemas.callbacks import EventFilters
from schemas.notifications import EventNotification


@dataclass(eq=False)
class Subscriber:
    account_id: UUID
    filters: EventFilters
    queue: MessageQueue


class Subscribers:
    def __init__(self, queue_size: int) -> None:
        self._queue_size = queue_size
        self._by_account: dict[UUID, set[Subscriber]] = {}

    def __len__(self) -> int:
        return sum(len(s) for s in self._by_account.values())

    @contextmanager
    def subscribe(self, account_id: UUID, filters: EventFilters) -> Iterator[MessageQueue]:
        subscriber = Subscriber(account_id, filters, MessageQueue(self._queue_size, "events", {"account_id": str(account_id)}))
        self._by_account.setdefault(account_id, set()).add(subscriber)
        try:
            yield subscriber.queue
        finally:
            subscribers = self._by_account.get(account_id, set())
            subscribers.discard(subscriber)
            if not subscribers:
                self._by_account.pop(account_id, None)

    def publish(self, notification: EventNotification, facts: EventFacts) -> int:
        """Queue the event for the account's subscribers whose filters it meets; how many they are."""
        text: str | None = None
        sent = 0
        for subscriber in self._by_account.get(notification.account_id, ()):
            if matches(subscriber.filters, facts):
                text = text or json.dumps(sender_message(notification))
                subscriber.queue.put(text)
                sent += 1
        return sent

    def close_all(self, close: Close) -> None:
        for subscribers in self._by_account.values():
            for subscriber in subscribers:
                subscriber.queue.put(close)
