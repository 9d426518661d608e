from __future__ import annotations

from uuid import uuid4

from schemas.detections import DetectionBatch
from schemas.frames import FrameEnvelope, FrameHeader, FrameStat
from schemas.tracks import TrackUpdate


def test_header_round_trips_through_kafka_headers() -> None:
    header = FrameHeader.model_validate(
        {
            "stream_id": str(uuid4()),
            "version": 2,
            "frame_number": 10,
            "time_offset": 0.4,
            "timestamp": "2025-05-01T00:00:00Z",
            "width": 640,
            "height": 480,
            "size": 1234,
        }
    )
    kafka = header.to_kafka_headers()
    assert all(isinstance(v, bytes) for _, v in kafka)
    assert "claim_key" not in dict(kafka)
    assert FrameHeader.from_kafka_headers(kafka) == header
    assert FrameHeader.from_kafka_headers(dict(kafka)) == header


def test_every_per_frame_message_shares_the_one_envelope() -> None:
    envelope = list(FrameEnvelope.model_fields)
    for message in (FrameHeader, FrameStat, DetectionBatch, TrackUpdate):
        assert issubclass(message, FrameEnvelope) and list(message.model_fields)[:len(envelope)] == envelope
    header = FrameHeader(stream_id=uuid4(), version=3, frame_number=9, time_offset=0.36,
                         timestamp="2025-05-01T00:00:00Z", width=640, height=480, size=10)
    batch = DetectionBatch.for_frame(header, detector="nanodet-m")
    update = TrackUpdate.for_frame(batch, end_of_stream=True)
    assert {k: getattr(update, k) for k in envelope} == {k: getattr(header, k) for k in envelope}
    assert update.end_of_stream and len(batch.detections) == 0
