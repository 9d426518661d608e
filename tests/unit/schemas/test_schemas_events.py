from __future__ import annotations

import json
from typing import Any
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from schemas.descriptors import FACE_DLIB_RESNET_128, SdkDescriptor
from schemas.events import (
    AnalyticsEventMessage,
    CountSample,
    GeneralEvent,
    GeneralEventMessage,
    HumanTrackingEvent,
    LineCrossingEvent,
    PeopleCountEvent,
    VideoSegment,
    ZoneOccupancyEvent,
)
from schemas.streams import Location

STREAM = "0b7a0c7e-8f43-4a5e-9d2c-6a1b2c3d4e5f"
ACCOUNT = "4f8e1c5a-2b3d-4e5f-8a9b-0c1d2e3f4a5b"
SEGMENT = {"start_time_offset": 1.0, "end_time_offset": 5.0}
BOX = {"x": 1, "y": 2, "width": 3, "height": 4}


def envelope(event_type: str, event: dict[str, Any], analytic_name: str = "people_count") -> dict[str, Any]:
    return {
        "event_id": event["event_id"],
        "stream_id": STREAM,
        "account_id": ACCOUNT,
        "version": 1,
        "analytic_name": analytic_name,
        "analytic_index": 0,
        "event_type": event_type,
        "create_time": "2025-05-01T00:00:01Z",
        "event": event,
    }


def crowd_event(**change: Any) -> dict[str, Any]:
    # the /videosdk sample's crowd event, plus Selene's event_status
    return {
        "event_id": str(uuid4()),
        "frames_estimations": [
            {"people_count": 2, "time_offset": 1.0},
            {"people_count": 1, "time_offset": 2.0},
        ],
        "people_count": 2,
        "track_id": "c1",
        "video_segment": SEGMENT,
        "event_status": "ended",
        **change,
    }


CASES: list[tuple[str, type, dict[str, Any]]] = [
    ("crowd", PeopleCountEvent, crowd_event(overview="/9j/4A==")),
    (
        "human_tracking",
        HumanTrackingEvent,
        {
            "event_id": str(uuid4()),
            "track_id": "t9",
            "video_segment": SEGMENT,
            "frames_estimations": [{"time_offset": 1.0, "bbox": BOX, "score": 0.9}],
            "best_shots": [
                {"kind": "face", "time_offset": 1.0, "bbox": BOX, "score": 0.9, "image": "/9j/4A=="}
            ],
            "aggregated_estimations": {"face": {"descriptor": "x"}},
            "event_status": "started",
        },
    ),
    (
        "line_crossing",
        LineCrossingEvent,
        {
            "event_id": str(uuid4()),
            "line_id": "door",
            "track_id": "t1",
            "direction": "in",
            "time_offset": 3.5,
        },
    ),
    (
        "zone_occupancy",
        ZoneOccupancyEvent,
        {
            "event_id": str(uuid4()),
            "zone_id": "hall",
            "track_id": "t1",
            "video_segment": SEGMENT,
            "people_count": 4,
            "event_status": "started",
        },
    ),
]


@pytest.mark.parametrize(("event_type", "cls", "event"), CASES)
def test_envelope_parses_the_right_event(event_type: str, cls: type, event: dict[str, Any]) -> None:
    msg = AnalyticsEventMessage.model_validate(envelope(event_type, event))
    assert type(msg.event) is cls
    text = msg.model_dump_json()
    assert "__event_type" not in text
    back = AnalyticsEventMessage.model_validate_json(text)
    assert back == msg and type(back.event) is cls


def test_crowd_event_keeps_luna_keys() -> None:
    event = crowd_event()
    msg = AnalyticsEventMessage.model_validate(envelope("crowd", event))
    dumped = json.loads(msg.model_dump_json())["event"]
    assert set(dumped) == set(event) | {"overview"}


def test_event_error_names_the_field() -> None:
    with pytest.raises(ValidationError) as exc:
        AnalyticsEventMessage.model_validate(envelope("crowd", crowd_event(people_count=-1)))
    assert exc.value.errors()[0]["loc"] == ("event", "crowd", "people_count")


def test_unknown_event_type_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        AnalyticsEventMessage.model_validate(envelope("fire", crowd_event()))
    assert ("event_type",) in [e["loc"] for e in exc.value.errors()]


def test_event_instance_must_match_event_type() -> None:
    event = PeopleCountEvent.model_validate(crowd_event())
    with pytest.raises(ValidationError, match="needs a HumanTrackingEvent"):
        AnalyticsEventMessage.model_validate({**envelope("human_tracking", crowd_event()), "event": event})
    with pytest.raises(ValidationError, match="event_id differs"):
        AnalyticsEventMessage.model_validate({**envelope("crowd", crowd_event()), "event_id": str(uuid4())})


def test_track_id_pattern() -> None:
    with pytest.raises(ValidationError) as exc:
        PeopleCountEvent.model_validate(crowd_event(track_id="bad/track"))
    assert exc.value.errors()[0]["loc"] == ("track_id",)


def test_video_segment_order() -> None:
    with pytest.raises(ValidationError):
        VideoSegment(start_time_offset=5, end_time_offset=1)


def test_overview_is_base64_in_json() -> None:
    event = PeopleCountEvent.model_validate(crowd_event(overview="/9j/4A=="))
    assert event.overview == b"\xff\xd8\xff\xe0"
    assert json.loads(event.model_dump_json())["overview"] == "/9j/4A=="


def test_to_general_event() -> None:
    msg = AnalyticsEventMessage.model_validate(envelope("crowd", crowd_event()))
    general = msg.to_general_event(source="cam-1", location=Location(city="Riga"))
    assert isinstance(general, GeneralEventMessage)
    assert general.event_type == "crowd" and general.track_id == "c1"
    assert general.stream_id == UUID(STREAM) and general.event_id == msg.event_id
    assert "event_id" not in general.event and "track_id" not in general.event
    assert general.event["people_count"] == 2
    # the REST form accepts what the message form holds
    assert GeneralEvent.model_validate(general.model_dump()).event == general.event


def general(**change: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid4()),
        "event_type": "crowd",
        "account_id": ACCOUNT,
        "event_create_time": "2025-05-01T00:00:00Z",
        **change,
    }


def test_general_event_required_fields() -> None:
    for missing in ("event_id", "event_type", "account_id", "event_create_time"):
        body = general()
        del body[missing]
        with pytest.raises(ValidationError) as exc:
            GeneralEvent.model_validate(body)
        assert exc.value.errors()[0]["loc"] == (missing,)
    event = GeneralEvent.model_validate(general(event={"data": "value"}))
    assert event.event == {"data": "value"} and event.descriptors is None


@pytest.mark.parametrize(
    ("field", "value"),
    [("track_id", "x" * 37), ("track_id", "a b"), ("source", "s" * 129), ("stream_id", "not-a-uuid")],
)
def test_general_event_limits(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        GeneralEvent.model_validate(general(**{field: value}))
    assert exc.value.errors()[0]["loc"] == (field,)


def test_general_event_body_forbids_unknown_message_ignores() -> None:
    with pytest.raises(ValidationError) as exc:
        GeneralEvent.model_validate(general(colour="red"))
    assert exc.value.errors()[0]["type"] == "extra_forbidden"
    assert GeneralEventMessage.model_validate(general(colour="red")).event_type == "crowd"


def test_general_event_with_descriptors_and_location() -> None:
    descriptor = SdkDescriptor.from_vector([0.5] * 128, FACE_DLIB_RESNET_128, "face")
    event = GeneralEvent.model_validate(
        general(
            descriptors=[descriptor.model_dump()],
            location={"city": "Riga", "geo_position": {"latitude": 56.9, "longitude": 24.1}},
            track_id="abc-1",
        )
    )
    assert event.descriptors is not None and event.descriptors[0].vector()[0] == 0.5
    assert event.location is not None and event.location.geo_position is not None


def test_count_sample() -> None:
    sample = CountSample.model_validate(
        {
            "stream_id": STREAM,
            "account_id": ACCOUNT,
            "time_offset": 2.0,
            "timestamp": "2025-05-01T00:00:02Z",
            "people_count": 3,
            "zone_counts": {"hall": 2},
            "line_in": {"door": 5},
            "line_out": {"door": 4},
        }
    )
    assert CountSample.model_validate_json(sample.model_dump_json()) == sample
    with pytest.raises(ValidationError):
        CountSample.model_validate({**sample.model_dump(), "people_count": -1})
