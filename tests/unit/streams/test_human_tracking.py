"""LUNA's human-tracking lifecycle on synthetic tracks: probe_count, end, best shots, head pose."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import numpy as np
import pytest

from schemas.analytics import HumanTrackingParameters
from schemas.detections import Detections, objects
from schemas.recognition import BestShotsMessage
from schemas.tracks import TrackUpdate, no_tracks
from streams.human_tracking import HumanTracker, head_pose

STREAM = uuid.uuid4()
FRONTAL = np.array([(40, 40), (60, 40), (50, 50), (42, 60), (58, 60)], np.float32)


def obj(track_id: str, score: float = 0.8, *, seen: bool = True, state: str = "confirmed",
        kind: str = "person", landmarks: np.ndarray | None = None) -> Detections:
    return Detections([[10, 10, 40, 90]], [score], kind, [track_id], {
        "state": [state], "age_frames": [1], "moving": [True], "detection_id": [uuid.uuid4() if seen else None],
        "landmarks": objects([landmarks]), "crop": [b"jpeg"]})


def update(n: int, tracks: list[Detections]) -> TrackUpdate:
    return TrackUpdate(stream_id=STREAM, version=1, frame_number=n, time_offset=n / 10,
                       timestamp=datetime.now(UTC), width=640, height=480,
                       tracks=Detections.merge(tracks) if tracks else no_tracks())


def tracker(**params: object) -> HumanTracker:
    return HumanTracker(STREAM, uuid.uuid4(), 1, 0, HumanTrackingParameters.model_validate(params))


def test_two_detections_then_none_with_probe_3_starts_nothing() -> None:
    t = tracker(probe_count=3)
    out = [t.process(update(n, [obj("a", seen=n < 2, state="confirmed" if n < 2 else "lost")])) for n in range(4)]
    assert out == [[], [], [], []]


def test_track_starts_on_probe_frame_and_ends_with_best_shots() -> None:
    t = tracker(probe_count=3, body_samples={"count": 2}, targets=["best_shot_images"])
    scores = [0.6, 0.9, 0.7, 0.95, 0.5]
    messages = []
    for n, s in enumerate(scores):
        messages += [(n, m) for m in t.process(update(n, [obj("a", s)]))]
    messages += [(5, m) for m in t.process(update(5, [obj("a", seen=False, state="ended")]))]
    assert [(n, m.event.event_status) for n, m in messages] == [(2, "started"), (5, "ended")]
    ended = messages[-1][1].event
    assert ended.track_id == "a" and ended.track_count == 1
    assert [b.score for b in ended.best_shots] == pytest.approx([0.95, 0.9]) and ended.best_shots[0].image == b"jpeg"
    assert len(ended.frames_estimations) == 5
    assert (ended.video_segment.start_time_offset, ended.video_segment.end_time_offset) == (0.0, 0.4)


def test_detector_type_face_ignores_people_and_filters_head_pose() -> None:
    t = tracker(detector_type="face", probe_count=1, best_shot_filters={"head_yaw": 20})
    turned = FRONTAL.copy()
    turned[2] = (59, 50)
    t.process(update(0, [obj("p"), obj("f", 0.9, kind="face", landmarks=turned)]))
    t.process(update(1, [obj("f", 0.7, kind="face", landmarks=FRONTAL)]))
    [ended] = t.process(update(2, [obj("f", seen=False, state="ended", kind="face")]))
    assert [(b.kind, round(b.score, 6)) for b in ended.event.best_shots] == [("face", 0.7)]
    assert set(t.tracks) == set()


def test_head_pose_of_frontal_face_is_near_zero() -> None:
    pitch, roll, yaw = head_pose(FRONTAL)
    assert abs(roll) < 1 and abs(yaw) < 1 and abs(pitch) < 10


def test_a_match_policy_sends_best_shots_with_crops_and_keeps_them_out_of_the_event() -> None:
    policy = {"list_ids": [str(uuid.uuid4())], "threshold": 0.6}
    t = tracker(detector_type="face", probe_count=1, match_policy=policy)
    [started] = t.process(update(0, [obj("f", 0.9, kind="face", landmarks=FRONTAL)]))
    assert started.event.best_shots[0].image is None
    event, shots = t.process(update(1, [obj("f", seen=False, state="ended", kind="face")]))
    assert isinstance(shots, BestShotsMessage) and shots.stream_id == STREAM
    assert event.event.best_shots[0].image is None and shots.event.event.best_shots[0].image == b"jpeg"
    assert shots.face_descriptor and not shots.body_descriptor and not shots.keep_images
    assert shots.match_policy is not None and shots.match_policy.threshold == 0.6
    assert shots.event.event_id == event.event_id


def test_without_descriptor_targets_no_best_shots_are_sent() -> None:
    t = tracker(probe_count=1)
    t.process(update(0, [obj("a")]))
    assert [type(m).__name__ for m in t.process(update(1, [obj("a", seen=False, state="ended")]))] == ["AnalyticsEventMessage"]


def test_end_of_stream_ends_started_tracks_even_between_rate_frames() -> None:
    t = tracker(probe_count=1, rate={"period": 5, "unit": "frame"})
    [started] = t.process(update(0, [obj("a")]))
    [ended] = t.process(update(3, []).model_copy(update={"end_of_stream": True}))
    assert ended.event_id == started.event_id and ended.event.event_status == "ended"


def test_time_going_back_ends_started_tracks_and_starts_new_events() -> None:
    t = tracker(probe_count=2)
    offsets = [5.0, 5.1, 5.2, 0.0, 0.1]
    messages = []
    for n, offset in enumerate(offsets):
        moment = update(n, [obj("a")]).model_copy(update={"time_offset": offset})
        messages += [(n, m) for m in t.process(moment)]
    assert [(n, m.event.event_status) for n, m in messages] == [(1, "started"), (3, "ended"), (4, "started")]
    ended, again = messages[1][1].event, messages[2][1].event
    assert (ended.video_segment.start_time_offset, ended.video_segment.end_time_offset) == (5.0, 5.2)
    assert again.event_id != ended.event_id and again.track_id == "a"
    assert (again.video_segment.start_time_offset, again.video_segment.end_time_offset) == (0.0, 0.1)
