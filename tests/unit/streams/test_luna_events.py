from __future__ import annotations

import uuid
from datetime import UTC, datetime

from schemas.events import AnalyticsEventMessage
from schemas.streams import StreamConfig
from streams.configs import DEFAULT_SETUP, StreamSetup, setup_for
from streams.luna_events import general_event

STREAM, ACCOUNT = uuid.uuid4(), uuid.uuid4()


def config(*callbacks: list[dict]) -> StreamConfig:
    return StreamConfig.model_validate({
        "stream_id": STREAM, "account_id": ACCOUNT, "version": 1, "source": "entrance",
        "data": {"type": "stream", "reference": "rtsp://cam/1"},
        "analytics": [
            {"index": i, "analytic_name": "people_count", "parameters": {"callbacks": cbs}}
            for i, cbs in enumerate(callbacks)
        ],
    })


def setup(*callbacks: list[dict]) -> StreamSetup:
    return setup_for(config(*callbacks))


def crowd(index: int, status: str) -> AnalyticsEventMessage:
    event_id = uuid.uuid4()
    return AnalyticsEventMessage.model_validate({
        "event_id": event_id, "stream_id": STREAM, "account_id": ACCOUNT, "version": 1,
        "analytic_name": "people_count", "analytic_index": index, "event_type": "crowd",
        "create_time": datetime(2026, 1, 1, tzinfo=UTC),
        "event": {"event_id": event_id, "track_id": "t1", "people_count": 4, "event_status": status,
                  "video_segment": {"start_time_offset": 0, "end_time_offset": 5}},
    })


def test_only_analytics_with_an_enabled_luna_event_callback() -> None:
    assert setup([{"type": "luna-event"}], [], [{"type": "luna-event", "enable": 0}]).luna_event_indexes == {0}
    assert DEFAULT_SETUP.luna_event_indexes == set()  # the default analytic has no callbacks


def test_ended_event_becomes_a_general_event() -> None:
    cfg = setup([{"type": "luna-event"}], [])
    stored = general_event(crowd(0, "ended"), cfg)
    assert stored is not None
    assert (stored.event_type, stored.stream_id, stored.source, stored.track_id) == ("crowd", STREAM, "entrance", "t1")
    assert stored.event["people_count"] == 4 and "event_id" not in stored.event
    assert general_event(crowd(0, "started"), cfg) is None
    assert general_event(crowd(1, "ended"), cfg) is None
