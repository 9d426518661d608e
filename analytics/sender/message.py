"""What a subscriber and an http callback receive for one event: LUNA's Sender message
``{"event", "handler_id", "event-create-time", "event-end-time", "Luna-Request-id"}`` (003 ``ws
handshake``, whose messages "you can view in callback section": both carry the same document)."""

from __future__ import annotations

from typing import Any

from schemas.notifications import EventNotification

_FIELDS = {"event", "handler_id", "event_create_time", "event_end_time", "request_id"}


def sender_message(notification: EventNotification) -> dict[str, Any]:
    return notification.model_dump(mode="json", by_alias=True, include=_FIELDS)
