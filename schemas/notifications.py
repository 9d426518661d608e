"""What a handler publishes for every event it generates (saved or not), for the sender's websockets and
callbacks: LUNA's Sender message, plus the account that owns the event."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import Field

from schemas.base import Message
from schemas.callbacks import MAX_CALLBACKS, EventCallback


class EventNotification(Message):
    """One generated event as the sender fans it out: to /6/ws subscribers and the handler's callbacks."""

    account_id: UUID
    handler_id: UUID | None = None
    # One entry of the generate-events response's ``events[]``, exactly as the handler answered it.
    event: dict[str, Any]
    event_create_time: datetime = Field(alias="event-create-time")
    event_end_time: datetime = Field(alias="event-end-time")
    request_id: str | None = Field(None, alias="Luna-Request-id")
    # The handler's ``storage_policy.callbacks``, so the sender needs no handler read. A handler's
    # deprecated ``notification_policy`` whose filters passed travels as a ``luna-ws-notification``
    # callback without filters; an event with no ws callback reaches no /6/ws subscriber.
    callbacks: list[EventCallback] = Field(default_factory=list, max_length=MAX_CALLBACKS)
