from __future__ import annotations

from uuid import uuid4

from schemas.frames import FrameHeader


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
