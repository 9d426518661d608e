"""The tracker on synthetic detections: identities across frames, the weak-detection pass, lost and
ended tracks, static objects, stream versions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from infra.settings import InferenceSettings, TrackingSettings
from schemas.detections import BoundingBox, Detection, DetectionBatch
from streams.tracking import Trackers

STREAM = uuid.uuid4()


def det(x: float, y: float, score: float = 0.9, kind: str = "person") -> Detection:
    return Detection(kind=kind, bbox=BoundingBox(x=x, y=y, width=30, height=80), score=score)


def batch(n: int, detections: list[Detection], version: int = 1) -> DetectionBatch:
    return DetectionBatch(stream_id=STREAM, version=version, frame_number=n, time_offset=n / 10,
                          timestamp=datetime.now(UTC), width=640, height=480, detector="test",
                          detections=detections)


def trackers(**settings: object) -> Trackers:
    return Trackers(TrackingSettings(**settings), InferenceSettings())


def test_walkers_keep_their_ids_even_without_overlap() -> None:
    t = trackers()
    ids = []
    for n in range(6):
        # Two people 40 px apart per processed frame (more than a box width): no IoU between frames.
        update = t.update(batch(n, [det(10 + 40 * n, 100), det(500 - 40 * n, 300)]))
        ids.append(tuple(o.track_id for o in sorted(update.tracks, key=lambda o: o.bbox.y)))
    assert len(set(ids[1:])) == 1 and len(set(ids[0] + ids[1])) == 2
    assert all(o.state == "confirmed" and o.moving for o in update.tracks)


def test_weak_detection_extends_but_never_starts_a_track() -> None:
    t = trackers()
    t.update(batch(0, [det(100, 100)]))
    confirmed = t.update(batch(1, [det(105, 100)])).tracks[0]
    weak = t.update(batch(2, [det(110, 100, score=0.35), det(400, 100, score=0.4)])).tracks
    assert [(o.track_id, o.state) for o in weak] == [(confirmed.track_id, "confirmed")]
    assert weak[0].detection_id is not None


def test_lost_then_ended_after_lost_frames() -> None:
    t = trackers(lost_frames=2)
    t.update(batch(0, [det(100, 100)]))
    track_id = t.update(batch(1, [det(100, 100)])).tracks[0].track_id
    states = [[(o.track_id, o.state) for o in t.update(batch(n, [])).tracks] for n in range(2, 6)]
    assert states == [[(track_id, "lost")], [(track_id, "lost")], [(track_id, "ended")], []]


def test_tentative_track_that_misses_a_frame_is_dropped_silently() -> None:
    t = trackers()
    t.update(batch(0, [det(100, 100)]))
    assert t.update(batch(1, [])).tracks == []


def test_static_object_is_flagged_not_moving() -> None:
    t = trackers(static_frames=4)
    flags = [t.update(batch(n, [det(300, 50), det(10 + 20 * n, 300)])).tracks for n in range(6)]
    last = {round(o.bbox.y): o.moving for o in flags[-1]}
    assert last == {50: False, 300: True}
    assert all(o.moving for o in flags[2])  # not judged before static_frames


def test_faces_and_people_are_tracked_apart_and_new_version_restarts() -> None:
    t = trackers()
    update = t.update(batch(0, [det(100, 100), det(105, 100, kind="face")]))
    assert sorted(o.kind for o in update.tracks) == ["face", "person"]
    assert t.update(batch(1, [det(100, 100)], version=2)).tracks[0].state == "tentative"
    assert t.update(batch(2, [det(100, 100)], version=1)) is None


def test_end_of_stream_ends_confirmed_tracks_and_drops_tentative_ones() -> None:
    t = trackers()
    t.update(batch(0, [det(100, 100)]))
    confirmed = t.update(batch(1, [det(100, 100), det(400, 100)])).tracks
    end = t.update(batch(2, []).model_copy(update={"end_of_stream": True}))
    assert end.end_of_stream and [(o.track_id, o.state) for o in end.tracks] == [
        (o.track_id, "ended") for o in confirmed if o.state == "confirmed"]
    assert len(end.tracks) == 1 and t.update(batch(3, [])).tracks == []
