"""The preview's overlay: a track's box and id, a line with its crossings, a zone with its count."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import numpy as np

from agents.video_manager.preview import partition_of
from agents.video_manager.preview_overlay import Geometry, Overlay, draw
from schemas.analytics import LineCrossing, Point, Zone
from schemas.detections import AsRows, BoundingBox
from schemas.events import CountSample
from schemas.tracks import TrackedObject, TrackUpdate

STREAM = uuid.uuid4()
NOW = datetime.now(UTC)


def _tracks(*objects: TrackedObject) -> TrackUpdate:
    return TrackUpdate(stream_id=STREAM, version=1, frame_number=3, time_offset=0.3, timestamp=NOW, width=200,
                       height=100, tracks=AsRows(TrackedObject).from_rows(list(objects)))


def _person(track_id: str, x: float, state: str = "confirmed") -> TrackedObject:
    return TrackedObject(track_id=track_id, kind="person", bbox=BoundingBox(x=x, y=20, width=30, height=60), score=0.9,
                         state=state, age_frames=4, moving=True)


def _colored(image: np.ndarray, bgr: tuple[int, int, int]) -> int:
    return int((np.abs(image.reshape(-1, 3).astype(int) - bgr).max(axis=1) < 10).sum())


def test_tracks_regions_and_counts_are_drawn_and_ended_tracks_are_not() -> None:
    geometry = Geometry(
        lines=(LineCrossing(line_id="gate", start=Point(x=0, y=90), end=Point(x=100, y=90), mode="percent"),),
        zones=(Zone(zone_id="desk", polygon=[Point(x=150, y=10), Point(x=190, y=10), Point(x=190, y=50)]),),
    )
    counts = CountSample(stream_id=STREAM, account_id=uuid.uuid4(), time_offset=0.3, timestamp=NOW, people_count=1,
                         zone_counts={"desk": 0}, line_in={"gate": 2})
    image = draw(np.zeros((100, 200, 3), np.uint8), Overlay(geometry, _tracks(_person("7", 10), _person("8", 100, "ended")), counts))
    assert _colored(image[:, :60], (80, 220, 80)) > 100  # the confirmed track's box and label
    assert _colored(image[:, 95:135], (80, 220, 80)) == 0  # the ended one is gone
    assert _colored(image[88:92], (255, 160, 0)) > 150  # the line at 90% of the height
    assert _colored(image[:, 145:], (255, 0, 200)) > 50  # the zone
    bare = draw(np.zeros((100, 200, 3), np.uint8), Overlay())
    assert not bare.any()


def test_geometry_comes_from_every_analytic_and_skips_a_whole_frame_roi() -> None:
    analytic = type("A", (), {"parameters": {"roi": {"x": 0, "y": 0, "width": 0, "height": 0}, "zones": [
        {"zone_id": "z", "polygon": [{"x": 1, "y": 1}, {"x": 5, "y": 1}, {"x": 5, "y": 5}]}]}})()
    other = type("A", (), {"parameters": {"roi": {"x": 1, "y": 1, "width": 10, "height": 10}, "lines": "not a list"}})()
    geometry = Geometry.of(type("S", (), {"analytics": [analytic, other]})())  # type: ignore[arg-type]
    assert [z.zone_id for z in geometry.zones] == ["z"] and len(geometry.rois) == 1 and geometry.lines == ()


def test_partition_is_kafkas_default_partitioner() -> None:
    from aiokafka.partitioner import DefaultPartitioner

    key = str(STREAM).encode()
    assert partition_of(key, 8) == DefaultPartitioner()(key, list(range(8)), list(range(8)))
