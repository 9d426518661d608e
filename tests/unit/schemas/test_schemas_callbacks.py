"""The handler callbacks' contract: LUNA's two types, their defaults, and what they refuse."""

from __future__ import annotations

import pytest
from pydantic import TypeAdapter, ValidationError

from schemas.callbacks import EventCallback, HttpEventCallback, WsNotificationCallback
from schemas.notifications import EventNotification

CALLBACK = TypeAdapter(EventCallback)


def test_http_callback_defaults_follow_luna() -> None:
    callback = CALLBACK.validate_python({"type": "http", "url": "http://127.0.0.1:8080/hook"})
    assert isinstance(callback, HttpEventCallback)
    assert (callback.enable, callback.params.timeout, callback.params.content_type) == (1, 60, "application/json")
    assert callback.authorization is None and callback.params.headers == {}


def test_ws_notification_callback_has_filters() -> None:
    callback = CALLBACK.validate_python({"type": "luna-ws-notification", "filters": {"gender": 1, "tags": ["vip"]}})
    assert isinstance(callback, WsNotificationCallback)
    assert callback.filters.gender == 1 and callback.filters.tags == ["vip"]


@pytest.mark.parametrize("body", [
    {"type": "telegram", "chat_id": "1", "token": "t"},  # a task callback type, not a handler's
    {"type": "http", "url": "ftp://host/x"},
    {"type": "http", "url": "http://h/x", "authorization": {"type": "basic", "login": "a"}},
    {"type": "http", "url": "http://h/x", "params": {"headers": {"X-Bad": "a\r\nInjected: 1"}}},
    {"type": "http", "url": "http://h/x", "params": {"timeout": 0}},
    {"type": "luna-ws-notification", "filters": {"gender": 2}},
    {"type": "luna-ws-notification", "filters": {"tags": []}},
    {"type": "luna-ws-notification", "filters": {"unknown_filter": 1}},
])
def test_invalid_callbacks_are_refused(body: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CALLBACK.validate_python(body)


def test_notification_round_trips_with_its_callbacks() -> None:
    notification = EventNotification.model_validate({
        "account_id": "8b8b5937-2e9c-4e8b-a7a7-5caf86621b5a", "event": {"event_id": "e"},
        "event-create-time": "2021-06-18T02:44:58+03:00", "event-end-time": "2021-06-18T02:44:58+03:00",
        "callbacks": [{"type": "http", "url": "http://h/x", "filters": {"geo_position": {
            "origin_longitude": 36.6, "origin_latitude": 55.7}}}],
    })
    again = EventNotification.model_validate_json(notification.model_dump_json(by_alias=True))
    assert again == notification
    geo = again.callbacks[0].filters.geo_position
    assert geo is not None and (geo.longitude_delta, geo.latitude_delta) == (0.01, 0.01)
