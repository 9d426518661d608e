"""The extraction processor's logic without Kafka: best-shot crops in, descriptors out, ids stable."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from pathlib import Path

from schemas.detections import BoundingBox
from schemas.events import AnalyticsEventMessage, BestShot, HumanTrackingEvent, VideoSegment
from schemas.recognition import BestShotsMessage
from streams.extraction import Extraction

FACES = Path(__file__).resolve().parents[2] / "data" / "faces"
BOX = BoundingBox(x=0, y=0, width=100, height=100)


def message(shots: list[BestShot], **policy: object) -> BestShotsMessage:
    event = HumanTrackingEvent(event_id=uuid.uuid4(), track_id="t1", event_status="ended", best_shots=shots,
                               video_segment=VideoSegment(start_time_offset=0, end_time_offset=1))
    envelope = AnalyticsEventMessage(
        event_id=event.event_id, stream_id=uuid.uuid4(), account_id=uuid.uuid4(), version=1,
        analytic_name="human_tracking", analytic_index=0, event_type="human_tracking",
        create_time=datetime.now(UTC), end_time=datetime.now(UTC), event=event,
    )
    return BestShotsMessage(stream_id=envelope.stream_id, event=envelope, **policy)


def test_face_and_body_shots_become_descriptors_with_stable_ids() -> None:
    face = BestShot(kind="face", time_offset=0.5, bbox=BOX, score=0.9, image=(FACES / "megamind_later.jpg").read_bytes())
    body = BestShot(kind="body", time_offset=0.5, bbox=BOX, score=0.8, image=(FACES / "messi.jpg").read_bytes())
    blank = BestShot(kind="face", time_offset=0.6, bbox=BOX, score=0.7, image=(FACES / "no_face_fruits.jpg").read_bytes())
    broken = BestShot(kind="face", time_offset=0.7, bbox=BOX, score=0.6, image=b"not a jpeg")
    shots = message([face, body, blank, broken], face_descriptor=True, body_descriptor=True)
    extraction = Extraction()
    out = extraction.run(shots)
    kinds = [(d.kind, d.descriptor_version, len(d.vector), d.trained_for_reid) for d in out.descriptors]
    assert kinds == [("face", 1001, 128, True), ("body", 2001, 1280, False)]
    published = out.event.event.best_shots  # type: ignore[union-attr]
    assert [s.descriptor_id for s in published] == [d.descriptor_id for d in out.descriptors] + [None, None]
    assert all(s.image is None for s in published)  # no best_shot_images target
    again = extraction.run(shots)
    assert [d.descriptor_id for d in again.descriptors] == [d.descriptor_id for d in out.descriptors]
    assert all(d.event_id == shots.event.event_id and d.track_id == "t1" for d in out.descriptors)


def test_only_the_asked_descriptors_and_images_kept_on_request() -> None:
    face = BestShot(kind="face", time_offset=0.5, bbox=BOX, score=0.9, image=(FACES / "astronaut.jpg").read_bytes())
    out = Extraction().run(message([face], body_descriptor=True, keep_images=True))
    assert out.descriptors == [] and out.event.event.best_shots[0].image == face.image  # type: ignore[union-attr]
