"""Stale live frames: skipped and counted per stream; files' frames and end markers never."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from schemas.agents import AgentMessage
from schemas.frames import FrameHeader
from streams.staleness import StaleFrames


def _header(stream_id: uuid.UUID, age: float, live: bool = True, encoding: str = "jpeg") -> FrameHeader:
    return FrameHeader(stream_id=stream_id, version=1, frame_number=0, time_offset=0.0,
                       timestamp=datetime.now(UTC) - timedelta(seconds=age), width=4, height=4, size=1,
                       live=live, encoding=encoding)


def test_only_live_frames_older_than_the_age_are_stale_and_counted_per_stream() -> None:
    frames = StaleFrames(max_age=5)
    a, b = uuid.uuid4(), uuid.uuid4()
    metric = lambda s: REGISTRY.get_sample_value("selene_frames_stale_total", {"stream_id": str(s)}) or 0.0  # noqa: E731
    assert frames.report() is None
    assert not frames.stale(_header(a, 1))
    assert not frames.stale(_header(a, 60, live=False))  # a file keeps every frame
    assert not frames.stale(_header(a, 60, encoding="end"))  # the end marker always goes through
    assert frames.stale(_header(a, 6)) and frames.stale(_header(a, 60)) and frames.stale(_header(b, 9))
    assert (metric(a), metric(b)) == (2, 1)
    report = frames.report()
    assert report is not None and report.kind == "processing" and report.agent_id == frames.worker_id
    again = AgentMessage.model_validate_json(report.model_dump_json())
    assert {r.stream_id: r.frames_stale for r in again.processing} == {a: 2, b: 1}


def test_live_flag_survives_the_kafka_headers() -> None:
    header = _header(uuid.uuid4(), 0)
    assert FrameHeader.from_kafka_headers(header.to_kafka_headers()).live is True
    file = header.model_copy(update={"live": False})
    assert FrameHeader.from_kafka_headers(file.to_kafka_headers()).live is False
