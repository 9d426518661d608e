from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest
from pydantic import ValidationError

from schemas.commands import StreamCommand

STREAM = "0b7a0c7e-8f43-4a5e-9d2c-6a1b2c3d4e5f"
CONFIG = {
    "stream_id": STREAM,
    "account_id": str(uuid4()),
    "version": 3,
    "data": {"type": "stream", "reference": "rtsp://cam/1"},
    "analytics": [{"index": 0, "analytic_name": "people_count", "parameters": {}}],
}


def command(**change: Any) -> dict[str, Any]:
    return {"agent_id": str(uuid4()), "issued_at": "2025-05-01T00:00:00Z", **change}


def test_start_round_trip() -> None:
    cmd = StreamCommand.model_validate(command(action="start", stream_id=STREAM, version=3, config=CONFIG))
    assert cmd.config is not None and cmd.config.version == 3
    assert StreamCommand.model_validate_json(cmd.model_dump_json()) == cmd


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"action": "start", "stream_id": STREAM, "version": 3}, "needs config"),
        (
            {"action": "start", "stream_id": STREAM, "version": 4, "config": CONFIG},
            "another stream or version",
        ),
        ({"action": "stop", "stream_id": STREAM}, "stream_id and version"),
        ({"action": "registered", "alive_period": 30}, "refresh_period"),
    ],
)
def test_command_needs_its_fields(change: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        StreamCommand.model_validate(command(**change))


def test_stop_and_registered() -> None:
    assert StreamCommand.model_validate(command(action="stop", stream_id=STREAM, version=1)).config is None
    registered = StreamCommand.model_validate(command(action="registered", alive_period=30, refresh_period=5))
    assert registered.stream_id is None
