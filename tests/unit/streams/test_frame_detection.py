"""The detection processor's logic without Kafka: a micro-batch of frames in, per frame its detections,
nothing (not due), the end-of-video batch, or the reason it went to dead letter."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from infra.settings import InferenceSettings
from schemas.detections import DetectionBatch
from schemas.frames import FrameHeader
from schemas.topics import DETECTIONS, FRAME_STATS
from streams.configs import DEFAULT_SETUP
from streams.detection import Detector, FrameDetection
from streams.frame_stats import frame_stats
from streams.processor import Failed, Received

JPEG = (Path(__file__).resolve().parents[2] / "data" / "vtest_0040.jpg").read_bytes()
STREAM = uuid.uuid4()


def frame(n: int, value: bytes = JPEG, **header: object) -> Received[FrameHeader]:
    fields = {"stream_id": STREAM, "version": 1, "frame_number": n, "time_offset": n / 25,
              "timestamp": datetime.now(UTC), "width": 768, "height": 576, "size": len(value), **header}
    return Received(FrameHeader.model_validate(fields), value)


async def test_a_batch_of_frames_yields_one_outcome_per_frame_in_order() -> None:
    logic = FrameDetection(Detector(InferenceSettings(threads=1)), lambda _: DEFAULT_SETUP)  # every 10th frame
    outcomes = await logic([frame(0), frame(5), frame(10, b"not a jpeg"), frame(20, encoding="end", size=0)])
    detected, skipped, broken, end = outcomes
    [sent] = detected
    assert sent.topic == DETECTIONS and sent.key == STREAM and isinstance(sent.value, DetectionBatch)
    batch = sent.value
    assert (batch.frame_number, batch.width, batch.detector) == (0, 768, "nanodet-m")
    assert len(batch.detections) >= 3 and set(batch.detections.kinds) == {"person"}  # vtest frame 40: 6 people
    assert all(d is not None for d in batch.detections.data["detection_id"])
    assert skipped == []
    assert isinstance(broken, Failed) and broken.error.code == 45002 and "JPEG" in broken.detail
    assert end[0].value.end_of_stream and len(end[0].value.detections) == 0
    back = DetectionBatch.model_validate_json(batch.model_dump_json())
    assert back.detections.xyxy.tolist() == batch.detections.xyxy.tolist()


def test_frame_stats_carry_the_envelope_forward() -> None:
    header = frame(3).message
    [stat] = frame_stats(header)
    assert stat.topic == FRAME_STATS and stat.value.frame_number == 3 and stat.value.size == len(JPEG)
    assert (stat.value.stream_id, stat.value.timestamp, stat.value.height) == (STREAM, header.timestamp, 576)
    assert frame_stats(frame(4, b"", encoding="end", size=0).message) == []
