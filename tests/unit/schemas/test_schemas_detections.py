from __future__ import annotations

import base64
import json

import pytest
from pydantic import ValidationError

from schemas.detections import BoundingBox, Detection, DetectionBatch

JPEG = bytes([0xFF, 0xD8, 0xFF, 0xE0]) + bytes(range(256)) + bytes([0xFF, 0xD9])
STREAM = "0b7a0c7e-8f43-4a5e-9d2c-6a1b2c3d4e5f"


def batch() -> DetectionBatch:
    return DetectionBatch(
        stream_id=STREAM,
        version=1,
        frame_number=7,
        time_offset=0.7,
        timestamp="2025-05-01T00:00:00Z",
        width=640,
        height=480,
        detector="nanodet-m",
        detections=[
            Detection(kind="person", bbox=BoundingBox(x=1, y=2, width=30, height=60), score=0.9, crop=JPEG),
            Detection(kind="face", bbox=BoundingBox(x=5, y=5, width=10, height=10), score=0.5),
        ],
    )


def test_crop_bytes_survive_json_round_trip() -> None:
    original = batch()
    text = original.model_dump_json()
    payload = json.loads(text)
    assert payload["detections"][0]["crop"] == base64.b64encode(JPEG).decode()
    assert payload["detections"][1]["crop"] is None
    back = DetectionBatch.model_validate_json(text)
    assert back.detections[0].crop == JPEG
    assert back == original
    # Python mode keeps raw bytes
    assert original.model_dump()["detections"][0]["crop"] == JPEG


def test_raw_bytes_are_not_base64_decoded() -> None:
    # pydantic's Base64Bytes would decode these; B64Bytes keeps them
    assert (
        Detection(kind="face", bbox=BoundingBox(x=0, y=0, width=1, height=1), score=1, crop=b"QUJD").crop
        == b"QUJD"
    )


def test_bad_base64_crop_rejected() -> None:
    with pytest.raises(ValidationError) as exc:
        Detection.model_validate(
            {
                "kind": "face",
                "bbox": {"x": 0, "y": 0, "width": 1, "height": 1},
                "score": 1,
                "crop": "not base64!",
            }
        )
    assert exc.value.errors()[0]["loc"] == ("crop",)


@pytest.mark.parametrize(
    "change",
    [
        {"score": 1.5},
        {"kind": "car"},
        {"bbox": {"x": 0, "y": 0, "width": -1, "height": 1}},
        {"track_id": "a" * 37},
    ],
)
def test_bad_detection_rejected(change: dict[str, object]) -> None:
    good = {"kind": "person", "bbox": {"x": 0, "y": 0, "width": 1, "height": 1}, "score": 0.5}
    with pytest.raises(ValidationError) as exc:
        Detection.model_validate({**good, **change})
    assert exc.value.errors()[0]["loc"][0] == next(iter(change))


def test_unknown_fields_ignored_in_messages() -> None:
    payload = json.loads(batch().model_dump_json())
    payload["added_later"] = 1
    payload["detections"][0]["mask"] = [1, 2]
    assert DetectionBatch.model_validate(payload).detections[0].kind == "person"


def test_bounding_box_geometry() -> None:
    a = BoundingBox(x=0, y=0, width=10, height=10)
    b = BoundingBox.from_xyxy(5, 5, 15, 15)
    assert (b.width, b.height) == (10, 10)
    assert a.iou(b) == pytest.approx(25 / 175)
    assert a.iou(BoundingBox(x=20, y=20, width=1, height=1)) == 0
    assert a.center == (5, 5) and a.bottom_center == (5, 10) and (a.x2, a.y2) == (10, 10)
