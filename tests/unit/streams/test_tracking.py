"""The tracker on synthetic detections: identities across frames, the weak-detection pass, lost and
ended tracks, static objects, stream versions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import numpy as np

from infra.settings import InferenceSettings, TrackingSettings
from schemas.detections import DetectionBatch, Detections
from schemas.tracks import TrackUpdate, detected
from streams.tracking import Trackers

STREAM = uuid.uuid4()


def det(x: float, y: float, score: float = 0.875, kind: str = "person") -> Detections:
    return Detections([[x, y, x + 30, y + 80]], [score], kind, data={"detection_id": [uuid.uuid4()]})


def batch(n: int, detections: list[Detections], version: int = 1) -> DetectionBatch:
    return DetectionBatch(stream_id=STREAM, version=version, frame_number=n, time_offset=n / 10,
                          timestamp=datetime.now(UTC), width=640, height=480, detector="test",
                          detections=Detections.merge(detections))


def rows(update: TrackUpdate) -> list[tuple[str, str]]:
    """(track id, state) per track."""
    return list(zip(update.tracks.track_ids, update.tracks.data["state"]))


def trackers(**settings: object) -> Trackers:
    return Trackers(TrackingSettings(**settings), InferenceSettings())


def test_walkers_keep_their_ids_even_without_overlap() -> None:
    t = trackers()
    ids = []
    for n in range(6):
        # Two people 40 px apart per processed frame (more than a box width): no IoU between frames.
        update = t.update(batch(n, [det(10 + 40 * n, 100), det(500 - 40 * n, 300)]))
        tracks = update.tracks
        ids.append(tuple(tracks.track_ids[np.argsort(tracks.xyxy[:, 1])]))
    assert len(set(ids[1:])) == 1 and len(set(ids[0] + ids[1])) == 2
    assert list(tracks.data["state"]) == ["confirmed"] * 2 and tracks.data["moving"].all()


def test_weak_detection_extends_but_never_starts_a_track() -> None:
    t = trackers()
    t.update(batch(0, [det(100, 100)]))
    [(track_id, _)] = rows(t.update(batch(1, [det(105, 100)])))
    weak = t.update(batch(2, [det(110, 100, score=0.35), det(400, 100, score=0.4)]))
    assert rows(weak) == [(track_id, "confirmed")]
    assert detected(weak.tracks).tolist() == [True]


def test_lost_then_ended_after_lost_frames() -> None:
    t = trackers(lost_frames=2)
    t.update(batch(0, [det(100, 100)]))
    [(track_id, _)] = rows(t.update(batch(1, [det(100, 100)])))
    states = [rows(t.update(batch(n, []))) for n in range(2, 6)]
    assert states == [[(track_id, "lost")], [(track_id, "lost")], [(track_id, "ended")], []]


def test_tentative_track_that_misses_a_frame_is_dropped_silently() -> None:
    t = trackers()
    t.update(batch(0, [det(100, 100)]))
    assert len(t.update(batch(1, [])).tracks) == 0


def test_static_object_is_flagged_not_moving() -> None:
    t = trackers(static_frames=4)
    flags = [t.update(batch(n, [det(300, 50), det(10 + 20 * n, 300)])).tracks for n in range(6)]
    last = dict(zip(flags[-1].xyxy[:, 1].round().tolist(), flags[-1].data["moving"].tolist()))
    assert last == {50: False, 300: True}
    assert flags[2].data["moving"].all()  # not judged before static_frames


def test_faces_and_people_are_tracked_apart_and_new_version_restarts() -> None:
    t = trackers()
    update = t.update(batch(0, [det(100, 100), det(105, 100, kind="face")]))
    assert sorted(update.tracks.kinds) == ["face", "person"]
    assert list(t.update(batch(1, [det(100, 100)], version=2)).tracks.data["state"]) == ["tentative"]
    assert t.update(batch(2, [det(100, 100)], version=1)) is None


def test_end_of_stream_ends_confirmed_tracks_and_drops_tentative_ones() -> None:
    t = trackers()
    t.update(batch(0, [det(100, 100)]))
    confirmed = rows(t.update(batch(1, [det(100, 100), det(400, 100)])))
    end = t.update(batch(2, []).model_copy(update={"end_of_stream": True}))
    assert end.end_of_stream and rows(end) == [(i, "ended") for i, state in confirmed if state == "confirmed"]
    assert len(end.tracks) == 1 and len(t.update(batch(3, [])).tracks) == 0


def test_tracks_carry_their_detection_columns_and_survive_the_wire() -> None:
    t = trackers()
    crop = b"jpeg\x00"
    first = det(100, 100).with_data(crop=[crop], landmarks=np.ones((1, 5, 2), np.float32))
    t.update(batch(0, [first]))
    update = t.update(batch(1, [det(102, 100).with_data(crop=[crop])]))
    tracks = update.tracks
    assert list(tracks.data["crop"]) == [crop] and tracks.data["landmarks"][0] is None
    assert tracks.data["age_frames"].tolist() == [1] and tracks.box(0).x == 102
    back = TrackUpdate.model_validate_json(update.model_dump_json())
    assert rows(back) == rows(update) and list(back.tracks.data["crop"]) == [crop]
    assert list(back.tracks.data["detection_id"]) == list(tracks.data["detection_id"])
