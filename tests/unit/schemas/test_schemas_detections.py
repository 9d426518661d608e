from __future__ import annotations

import base64
import json
import uuid

import numpy as np
import pytest
from pydantic import ValidationError

from schemas.detections import BoundingBox, Detection, DetectionBatch, Detections

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
        detections=Detections(
            [[1, 2, 31, 62], [5, 5, 15, 15]], [0.875, 0.5], ["person", "face"],
            data={"crop": [JPEG, None], "detection_id": [uuid.uuid4(), uuid.uuid4()],
                  "landmarks": [None, np.arange(10, dtype=np.float32).reshape(5, 2)]},
        ),
    )


def test_crop_bytes_survive_json_round_trip() -> None:
    original = batch()
    text = original.model_dump_json()
    payload = json.loads(text)
    assert payload["detections"][0]["crop"] == base64.b64encode(JPEG).decode()
    assert payload["detections"][1]["crop"] is None
    assert payload["detections"][0]["bbox"] == {"x": 1, "y": 2, "width": 30, "height": 60}
    assert payload["detections"][0]["landmarks"] == [] and payload["detections"][1]["landmarks"][1] == {"x": 2, "y": 3}
    back = DetectionBatch.model_validate_json(text)
    assert back.detections.data["crop"][0] == JPEG
    assert back.detections[1] == original.detections[1]
    assert back.model_dump_json() == text
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
    assert list(DetectionBatch.model_validate(payload).detections.kinds) == ["person", "face"]


def test_bounding_box_geometry() -> None:
    a = BoundingBox(x=0, y=0, width=10, height=10)
    b = BoundingBox.from_xyxy(5, 5, 15, 15)
    assert (b.width, b.height) == (10, 10)
    assert a.iou(b) == pytest.approx(25 / 175)
    assert a.iou(BoundingBox(x=20, y=20, width=1, height=1)) == 0
    assert a.center == (5, 5) and a.bottom_center == (5, 10) and (a.x2, a.y2) == (10, 10)


def test_rows_are_selected_by_mask_and_merged_in_order() -> None:
    dets = batch().detections
    faces = dets[dets.kinds == "face"]
    assert len(faces) == 1 and faces.data["crop"][0] is None
    assert faces.box(0) == BoundingBox(x=5, y=5, width=10, height=10)
    assert len(dets[np.zeros(2, bool)]) == 0 and len(Detections.empty()) == 0
    people = Detections([[0, 0, 4, 8]], [0.5], "person", track_ids=["t1"])  # no data columns at all
    merged = Detections.merge([people, dets])
    assert list(merged.kinds) == ["person", "person", "face"] and list(merged.track_ids) == ["t1", None, None]
    assert list(merged.data["crop"]) == [None, JPEG, None]  # the column people lack is None in their rows
    assert merged.bottom_centers.tolist() == [[2, 8], [16, 62], [10, 15]]
    assert Detections.merge([]) == Detections.empty()
    with pytest.raises(ValueError, match="rows"):
        Detections([[0, 0, 1, 1]], [0.5], "face", data={"crop": [b"a", b"b"]})
