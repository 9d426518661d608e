"""A human-tracking track as a LUNA event with its body descriptor: the mean of the body shots'
descriptors, L2-normalised, with their boxes and times; face shots and tracks without bodies add none."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np

from analytics.recognition.bodies import track_event
from schemas.descriptors import Descriptor
from schemas.detections import BoundingBox
from schemas.events import AnalyticsEventMessage, BestShot, HumanTrackingEvent, VideoSegment
from schemas.recognition import TrackDescriptors

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def descriptor(kind: str, vector: list[float], event_id: uuid.UUID) -> Descriptor:
    return Descriptor(kind=kind, descriptor_version=2001 if kind == "body" else 1001, vector=vector,  # type: ignore[arg-type]
                      account_id=uuid.uuid4(), event_id=event_id, create_time=T0)


def track(shots: list[tuple[str, float, list[float] | None]]) -> TrackDescriptors:
    event_id = uuid.uuid4()
    described = [(kind, offset, descriptor(kind, v, event_id) if v else None) for kind, offset, v in shots]
    best = [BestShot(kind=kind, time_offset=offset, bbox=BoundingBox(x=10, y=20, width=30, height=60), score=0.9,  # type: ignore[arg-type]
                     descriptor_id=d.descriptor_id if d else None) for kind, offset, d in described]
    event = HumanTrackingEvent(event_id=event_id, track_id="t7", event_status="ended", best_shots=best,
                               video_segment=VideoSegment(start_time_offset=100, end_time_offset=104))
    envelope = AnalyticsEventMessage(
        event_id=event_id, stream_id=uuid.uuid4(), account_id=uuid.uuid4(), version=1, analytic_name="human_tracking",
        analytic_index=0, event_type="human_tracking", create_time=T0, end_time=T0 + timedelta(seconds=4), event=event,
    )
    return TrackDescriptors(stream_id=envelope.stream_id, event=envelope,
                            descriptors=[d for _, _, d in described if d is not None])


def test_the_body_shots_become_one_event_with_their_mean_descriptor() -> None:
    a, b = [1.0] + [0.0] * 1279, [0.0, 1.0] + [0.0] * 1278
    found = track([("body", 101.0, a), ("face", 102.0, [0.1] * 128), ("body", 103.5, b), ("body", 104.0, None)])
    event = track_event(found)
    assert event is not None and event.body_descriptor is not None and event.face_descriptor is None
    envelope = found.event
    assert (event.event_id, event.account_id, event.stream_id, event.track_id) == (
        envelope.event_id, envelope.account_id, envelope.stream_id, "t7")
    assert (event.create_time, event.end_time) == (T0, T0 + timedelta(seconds=4))
    vector = np.asarray(event.body_descriptor.vector)
    assert event.body_descriptor.descriptor_version == 2001
    assert np.allclose(vector[:2], [2**-0.5, 2**-0.5]) and np.isclose(np.linalg.norm(vector), 1.0)
    assert event.body_detections is not None
    assert [(d.detect_ts, d.detect_time) for d in event.body_detections] == [
        (101.0, T0 + timedelta(seconds=1)), (103.5, T0 + timedelta(seconds=3.5))]
    assert event.body_detections[0].detection is not None and event.body_detections[0].detection.rect.height == 60


def test_a_track_without_body_descriptors_is_no_event() -> None:
    assert track_event(track([("face", 101.0, [0.1] * 128), ("body", 102.0, None)])) is None
