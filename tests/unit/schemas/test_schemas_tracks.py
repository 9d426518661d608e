from __future__ import annotations

import pytest
from pydantic import ValidationError

from schemas.tracks import TrackUpdate, detected

STREAM = "0b7a0c7e-8f43-4a5e-9d2c-6a1b2c3d4e5f"


def update(**track: object) -> dict[str, object]:
    base = {
        "track_id": "7",
        "kind": "person",
        "bbox": {"x": 1, "y": 2, "width": 3, "height": 4},
        "score": 0.8,
        "state": "confirmed",
        "age_frames": 12,
        "moving": True,
    }
    return {
        "stream_id": STREAM,
        "version": 1,
        "frame_number": 3,
        "time_offset": 0.3,
        "timestamp": "2025-05-01T00:00:00Z",
        "width": 640,
        "height": 480,
        "tracks": [{**base, **track}],
    }


def test_track_update_round_trip() -> None:
    msg = TrackUpdate.model_validate(update(crop="/9j/"))
    tracks = msg.tracks
    assert tracks.data["crop"][0] == b"\xff\xd8\xff" and list(tracks.track_ids) == ["7"]
    assert tracks.data["age_frames"].tolist() == [12] and tracks.data["moving"].tolist() == [True]
    assert not detected(tracks).any() and tracks.xyxy.tolist() == [[1, 2, 4, 6]]
    assert TrackUpdate.model_validate_json(msg.model_dump_json()) == msg
    assert len(TrackUpdate.model_validate({**update(), "tracks": []}).tracks) == 0


@pytest.mark.parametrize(
    ("field", "value"), [("state", "zombie"), ("age_frames", -1), ("track_id", "has space"), ("score", 2)]
)
def test_bad_track_rejected(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as exc:
        TrackUpdate.model_validate(update(**{field: value}))
    assert exc.value.errors()[0]["loc"] == ("tracks", 0, field)
