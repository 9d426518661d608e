from __future__ import annotations

from uuid import uuid4

import pytest
from pydantic import ValidationError

from schemas.agents import (
    AgentFeedback,
    AgentMessage,
    AgentRegistered,
    AgentRegistration,
    FeedbackResponse,
)
from schemas.status import StreamStatus

STREAM = "0b7a0c7e-8f43-4a5e-9d2c-6a1b2c3d4e5f"


def registration(**change: object) -> dict[str, object]:
    # the luna3 client's createAgent arguments
    return {
        "name": "agent-1",
        "max_stream_count": 2,
        "port": 5000,
        "api_version": 1,
        "analytic_names": ["people_count", "human_tracking"],
        "description": "doctest agent",
        **change,
    }


def test_registration() -> None:
    assert AgentRegistration.model_validate(registration()).max_stream_count == 2


@pytest.mark.parametrize(
    ("field", "value"),
    [("max_stream_count", 0), ("analytic_names", []), ("analytic_names", ["a", "a"]), ("port", 70000)],
)
def test_bad_registration(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as exc:
        AgentRegistration.model_validate(registration(**{field: value}))
    assert exc.value.errors()[0]["loc"] == (field,)


def test_registration_body_forbids_unknown_but_message_ignores() -> None:
    with pytest.raises(ValidationError):
        AgentRegistration.model_validate(registration(gpu=True))
    msg = AgentMessage.model_validate(
        {
            "agent_id": str(uuid4()),
            "kind": "register",
            "registration": registration(gpu=True),
            "sent_at": "2025-05-01T00:00:00Z",
        }
    )
    assert msg.registration is not None and msg.registration.name == "agent-1"


def test_register_needs_registration() -> None:
    with pytest.raises(ValidationError, match="registration"):
        AgentMessage.model_validate(
            {"agent_id": str(uuid4()), "kind": "register", "sent_at": "2025-05-01T00:00:00Z"}
        )


def test_registered_periods() -> None:
    assert AgentRegistered(agent_id=uuid4(), alive_period=30, refresh_period=5).refresh_period == 5
    with pytest.raises(ValidationError, match="shorter"):
        AgentRegistered(agent_id=uuid4(), alive_period=5, refresh_period=5)


def test_feedback_luna_shape() -> None:
    # luna3 client: StreamInfo(streamId, status=1, version, time, analyticIndexes)
    feedback = AgentFeedback.model_validate(
        {
            "streams": [
                {
                    "stream_id": STREAM,
                    "status": 1,
                    "version": 1,
                    "time": "2025-05-01T00:00:00Z",
                    "analytic_indexes": [0],
                },
                {
                    "stream_id": STREAM,
                    "status": "failure",
                    "version": 1,
                    "time": "2025-05-01T00:00:00Z",
                    "last_error": {"error_code": 43004, "desc": "d", "detail": "x", "link": "l"},
                    "decoder": "cuda",
                    "fps": 24.5,
                    "dropped_frames": 3,
                },
            ]
        }
    )
    assert [s.status for s in feedback.streams] == [StreamStatus.IN_PROGRESS, StreamStatus.FAILURE]
    response = FeedbackResponse.model_validate(
        {"streams": [{"action": "stop", "stream_id": STREAM, "version": 1}]}
    )
    assert response.streams[0].action == "stop"
    with pytest.raises(ValidationError):
        FeedbackResponse.model_validate(
            {"streams": [{"action": "explode", "stream_id": STREAM, "version": 1}]}
        )


def test_heartbeat_round_trip() -> None:
    msg = AgentMessage.model_validate(
        {
            "agent_id": str(uuid4()),
            "kind": "heartbeat",
            "streams": [{"stream_id": STREAM, "status": 1, "version": 2, "time": "2025-05-01T00:00:00Z"}],
            "sent_at": "2025-05-01T00:00:00Z",
        }
    )
    assert AgentMessage.model_validate_json(msg.model_dump_json()) == msg
