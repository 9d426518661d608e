"""The pieces of live results that need no broker: the cached view, the shape of a watch-list match on
the websocket (a slow client's bounded queue: tests/unit/infra/test_websocket.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from agents.video_manager.live_results import StreamView, match_results
from schemas.events import ListMatch
from schemas.recognition import TrackMatches
from schemas.status import StreamStatus
from schemas.streams import Stream, StreamAnalytic


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


def test_a_match_result_is_a_human_tracking_result_with_the_event_id_and_matches() -> None:
    event_id, list_id, face_id = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    found = TrackMatches(
        match_id=uuid.uuid5(event_id, "match"), stream_id=uuid.uuid4(), account_id=uuid.uuid4(), version=2,
        analytic_index=1, event_id=event_id, track_id="t-3", time=datetime.now(UTC),
        matches=[ListMatch(list_id=list_id, face_id=face_id, similarity=0.91)],
    )
    assert match_results(found) == {"human_tracking": {
        "event_id": str(event_id), "track_id": "t-3",
        "matches": [{"list_id": str(list_id), "face_id": str(face_id), "similarity": 0.91}],
    }}
