from __future__ import annotations

import copy
import json
from typing import Any
from uuid import UUID

import pytest
from pydantic import ValidationError

from schemas.analytics import HttpCallback, PeopleCountParameters
from schemas.status import AutorestartStatus, StreamStatus
from schemas.streams import (
    Autorestart,
    GroupStreamsPatch,
    NotificationPolicy,
    Restart,
    Stream,
    StreamAnalyticRequest,
    StreamConfig,
    StreamCreate,
    StreamData,
    StreamLog,
    StreamPatch,
    TelegramCallback,
)

ACCOUNT = "4f8e1c5a-2b3d-4e5f-8a9b-0c1d2e3f4a5b"
STREAM = "0b7a0c7e-8f43-4a5e-9d2c-6a1b2c3d4e5f"

# The luna3 client's getStream sample, with its elided values filled in.
LUNA_STREAM: dict[str, Any] = {
    "account_id": ACCOUNT,
    "analytics": [
        {
            "analytic_name": "doctests_analytic",
            "autorestart": {
                "attempt_count": 10,
                "current_attempt": 0,
                "delay": 60,
                "last_attempt_time": None,
                "restart": 0,
                "status": "disabled",
            },
            "parameters": {},
            "status": 0,
        }
    ],
    "create_time": "2025-05-01T01:16:00Z",
    "data": {
        "behavior_parameters": None,
        "downloadable": False,
        "ffmpeg_kwargs": None,
        "fps": None,
        "orientation_strategy": "static",
        "pts": {"start_time": 0.0},
        "reference": "http://reference",
        "rotation": 0,
        "timeout": None,
        "timestamp_source": "auto",
        "type": "videofile",
    },
    "description": "test stream description",
    "groups": [],
    "last_error": None,
    "location": {
        "area": None,
        "city": None,
        "district": None,
        "geo_position": None,
        "house_number": None,
        "street": None,
    },
    "name": "test_stream",
    "notification_policy": {"enable": 0, "stream_callbacks": []},
    "source": None,
    "splittable": 0,
    "status": 0,
    "stream_id": STREAM,
    "version": 1,
}


def keys_tree(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: keys_tree(v) for k, v in value.items()}
    if isinstance(value, list):
        return [keys_tree(v) for v in value]
    return None


def test_luna_stream_object_round_trips() -> None:
    stream = Stream.model_validate(LUNA_STREAM)
    assert stream.status is StreamStatus.PENDING
    assert stream.analytics[0].autorestart.status is AutorestartStatus.DISABLED
    dumped = json.loads(stream.model_dump_json())
    assert keys_tree(dumped) == keys_tree(LUNA_STREAM)
    assert dumped == LUNA_STREAM
    assert Stream.model_validate_json(stream.model_dump_json()) == stream


def test_stream_object_with_values() -> None:
    sample = copy.deepcopy(LUNA_STREAM)
    sample["location"]["geo_position"] = {"latitude": 55.7, "longitude": 37.6}
    sample["last_error"] = {"error_code": 43004, "desc": "d", "detail": "x", "link": "l"}
    sample["groups"] = ["6d1f7c9e-0000-4000-8000-000000000001"]
    sample["status"] = "in_progress"  # LUNA's word is accepted on input
    stream = Stream.model_validate(sample)
    assert stream.status is StreamStatus.IN_PROGRESS
    assert json.loads(stream.model_dump_json())["status"] == 1


def test_unknown_field_in_stream_rejected() -> None:
    sample = copy.deepcopy(LUNA_STREAM)
    sample["data"]["refrence"] = "x"
    with pytest.raises(ValidationError) as exc:
        Stream.model_validate(sample)
    assert exc.value.errors()[0]["loc"] == ("data", "refrence")


def test_stream_data_defaults_match_luna() -> None:
    data = StreamData(type="stream", reference="rtsp://dev02:5554/tenvision_1")
    assert data.timestamp_source == "auto"
    assert data.orientation_strategy == "static"
    assert data.rotation == 0
    assert data.downloadable is False
    assert data.pts.start_time == 0.0


def test_rotation_45_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        StreamData.model_validate({"type": "stream", "reference": "rtsp://x", "rotation": 45})
    assert exc.value.errors()[0]["loc"] == ("rotation",)


@pytest.mark.parametrize(
    ("field", "value"),
    [("type", "webcam"), ("timestamp_source", "gps"), ("timeout", 0), ("fps", -1), ("reference", "")],
)
def test_bad_stream_data(field: str, value: Any) -> None:
    with pytest.raises(ValidationError) as exc:
        StreamData.model_validate({"type": "stream", "reference": "rtsp://x", field: value})
    assert exc.value.errors()[0]["loc"][0] == field


def test_create_nested_shape() -> None:
    body = StreamCreate.model_validate(
        {
            "data": {"type": "stream", "reference": "rtsp://cam/1", "rotation": 90},
            "analytics": [{"name": "people_count", "parameters": {"probe_count": 2}}],
            "name": "entrance",
            "restart": {"restart": 1},
            "notification_policy": {
                "enable": 1,
                "stream_callbacks": [
                    {"type": "http", "url": "http://hooks/status"},
                    {"type": "telegram", "chat_id": "42", "token": "secret"},
                ],
            },
        }
    )
    assert body.data.rotation == 90
    assert body.analytics[0].parameters == {"probe_count": 2}
    assert body.notification_policy is not None
    assert [type(c) for c in body.notification_policy.stream_callbacks] == [HttpCallback, TelegramCallback]


def test_create_flat_shape_moves_data() -> None:
    body = StreamCreate.model_validate(
        {
            "type": "videofile",
            "reference": "http://reference",
            "timestamp_source": "frame_rate",
            "analytics": [{"name": "human_tracking"}],
            "description": "d",
        }
    )
    assert body.data.type == "videofile" and body.data.timestamp_source == "frame_rate"
    assert body.description == "d"


def test_create_needs_an_analytic_and_no_unknown_fields() -> None:
    with pytest.raises(ValidationError) as exc:
        StreamCreate.model_validate({"data": {"type": "stream", "reference": "rtsp://x"}, "analytics": []})
    assert exc.value.errors()[0]["loc"] == ("analytics",)
    with pytest.raises(ValidationError) as exc:
        StreamCreate.model_validate(
            {"data": {"type": "stream", "reference": "rtsp://x"}, "analytics": [{"name": "a"}], "colour": 1}
        )
    assert exc.value.errors()[0]["loc"] == ("colour",)
    with pytest.raises(ValidationError):  # both shapes at once
        StreamCreate.model_validate(
            {
                "data": {"type": "stream", "reference": "rtsp://x"},
                "type": "stream",
                "analytics": [{"name": "a"}],
            }
        )


def test_telegram_needs_chat_id_and_token() -> None:
    with pytest.raises(ValidationError):
        NotificationPolicy.model_validate(
            {"enable": 1, "stream_callbacks": [{"type": "telegram", "token": "t"}]}
        )


def test_restart_and_autorestart_defaults() -> None:
    assert Restart() == Restart(restart=0, attempt_count=10, delay=60)
    auto = Autorestart()
    assert (auto.attempt_count, auto.delay, auto.current_attempt, auto.restart) == (10, 60, 0, 0)
    assert auto.status is AutorestartStatus.DISABLED and auto.last_attempt_time is None
    enabled = Autorestart.from_restart(Restart(restart=1, attempt_count=3, delay=5))
    assert enabled.status is AutorestartStatus.ENABLED and enabled.attempt_count == 3
    assert Autorestart.from_restart(None) == Autorestart()


@pytest.mark.parametrize(
    ("action", "luna"), [("pause", "pause"), ("stop", "pause"), ("resume", "resume"), ("start", "resume")]
)
def test_patch_action_aliases(action: str, luna: str) -> None:
    assert StreamPatch.model_validate({"action": action}).luna_action == luna
    assert GroupStreamsPatch.model_validate({"action": action}).luna_action == luna


def test_patch_unknown_action_rejected() -> None:
    with pytest.raises(ValidationError):
        StreamPatch.model_validate({"action": "restart"})


def test_schedules() -> None:
    request = StreamAnalyticRequest.model_validate(
        {
            "name": "people_count",
            "schedules": [
                {"intervals": [{"start_time": "2025-05-01T01:16:00Z", "end_time": "2026-05-01T01:16:00Z"}]}
            ],
        }
    )
    assert len(request.schedules[0].intervals or []) == 1
    with pytest.raises(ValidationError):
        StreamAnalyticRequest.model_validate(
            {
                "name": "a",
                "schedules": [
                    {
                        "intervals": [
                            {"start_time": "2025-05-02T00:00:00Z", "end_time": "2025-05-01T00:00:00Z"}
                        ]
                    }
                ],
            }
        )
    with pytest.raises(ValidationError):
        StreamAnalyticRequest.model_validate({"name": "a", "schedules": [{}]})


def test_stream_log_status() -> None:
    log = StreamLog.model_validate(
        {"stream_id": STREAM, "version": 1, "status": 4, "log_time": "2025-05-01T00:00:00Z"}
    )
    assert log.status is StreamStatus.FAILURE and log.last_processed_frame_time is None
    with pytest.raises(ValidationError):
        StreamLog.model_validate(
            {"stream_id": STREAM, "version": 1, "status": "exploded", "log_time": "2025-05-01T00:00:00Z"}
        )


def test_stream_config_message() -> None:
    config = StreamConfig.model_validate(
        {
            "stream_id": STREAM,
            "account_id": ACCOUNT,
            "version": 2,
            "data": {"type": "stream", "reference": "rtsp://cam/1"},
            "analytics": [
                {
                    "index": 0,
                    "analytic_name": "people_count",
                    "parameters": PeopleCountParameters().model_dump(mode="json"),
                },
                {"index": 1, "analytic_name": "custom", "parameters": {"anything": 1}},
            ],
            "status": 1,
            "from_a_newer_manager": True,
        }
    )
    assert config.deleted is False
    assert config.stream_id == UUID(STREAM)
    assert isinstance(config.analytics_named("people_count")[0].parsed(), PeopleCountParameters)
    with pytest.raises(KeyError):
        config.analytics[1].parsed()
    assert StreamConfig.model_validate_json(config.model_dump_json()) == config
