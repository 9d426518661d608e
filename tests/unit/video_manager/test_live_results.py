"""The pieces of live results that need no broker: a slow client's bounded queue, the cached view."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from agents.video_manager.live_results import Close, StreamView, Subscription
from schemas.status import StreamStatus
from schemas.streams import Stream, StreamAnalytic


async def test_a_slow_client_loses_its_oldest_messages() -> None:
    subscription = Subscription(uuid.uuid4(), size=2)
    for text in ("a", "b", "c"):
        subscription.put(text)
    subscription.put(Close(1001))
    assert subscription.dropped == 2
    assert [await subscription.get(), await subscription.get()] == ["c", Close(1001)]


def test_view_keeps_each_analytics_enabled_http_callbacks() -> None:
    callbacks = [
        {"type": "http", "url": "http://127.0.0.1:1/a"},
        {"type": "http", "url": "http://127.0.0.1:1/off", "enable": 0},
        {"type": "luna-event"},
    ]
    stream = Stream.model_validate({
        "account_id": uuid.uuid4(), "stream_id": uuid.uuid4(), "create_time": datetime.now(UTC),
        "data": {"type": "videofile", "reference": "file:///v.mp4"}, "status": StreamStatus.IN_PROGRESS,
        "analytics": [
            StreamAnalytic(analytic_name="people_count", parameters={"callbacks": callbacks}).model_dump(),
            StreamAnalytic(analytic_name="human_tracking").model_dump(),
        ],
    })
    view = StreamView.of(stream)
    assert [[c.url for c in per] for per in view.callbacks] == [["http://127.0.0.1:1/a"], []]
    assert view.message() == {"stream_status": "in_progress", "error": None, "analytics_results": {}}
