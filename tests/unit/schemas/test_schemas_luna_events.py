"""LUNA's save-event body -> the stored event: estimations by name become LUNA's codes, the best match
over every candidate set is top_match, detections split into face and body, descriptors are checked."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from schemas.descriptor_formats import encode_raw
from schemas.errors import SeleneError
from schemas.luna_events import LunaEvent, RawEvent, event_of_raw

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
ACCOUNT, EVENT = uuid.uuid4(), uuid.uuid4()


def convert(**raw: object) -> LunaEvent:
    return event_of_raw(RawEvent.model_validate(raw), ACCOUNT, EVENT, None, NOW)


def test_estimations_become_lunas_codes() -> None:
    event = convert(
        face_attributes={"basic_attributes": {"age": 40, "gender": 0, "ethnicities": {"predominant_ethnicity": "indian"}}},
        aggregate_estimations={"face": {"attributes": {
            "emotions": {"predominant_emotion": "surprise"}, "mask": {"predominant_mask": "occluded"},
            "liveness": {"prediction": "spoof"}, "deepfake": {"prediction": "real"}}}},
    )
    assert (event.age, event.gender, event.ethnic_group) == (40, 0, 2)
    assert (event.emotion, event.mask, event.liveness, event.deepfake) == (7, 3, 0, 1)
    assert event.create_time == NOW and event.end_time == NOW and event.account_id == ACCOUNT


def test_top_match_is_the_best_candidate_of_every_set() -> None:
    face, other = uuid.uuid4(), uuid.uuid4()
    event = convert(matches=[
        {"label": "staff", "candidates": [{"similarity": 0.61, "face": {"face_id": str(face), "external_id": "e-1"}}]},
        {"label": "seen", "candidates": [{"similarity": 0.83, "event": {"event_id": str(other)}}]},
    ], face={"face_id": str(face), "lists": [str(uuid.uuid4())]})
    assert event.top_match is not None
    assert (event.top_match.label, event.top_match.event_id, event.top_match.face_id) == ("seen", other, None)
    assert event.face_id == face and len(event.attach_result) == 1 and len(event.match_result or []) == 2
    assert convert().top_match is None


def test_detections_split_into_face_and_body() -> None:
    box = {"rect": {"x": 1, "y": 2, "width": 3, "height": 4}}
    event = convert(detections=[
        {"detect_ts": 1.5, "samples": {"face": {"sample_id": "f1", "detection": box}, "body": {"sample_id": "b1"}}},
        {"samples": {"body": {"sample_id": "b2"}}},
    ])
    assert [d.sample_id for d in event.face_detections or []] == ["f1"]
    assert [d.sample_id for d in event.body_detections or []] == ["b1", "b2"]
    assert (event.face_detections or [])[0].detect_ts == 1.5 and (event.body_detections or [])[1].detect_time == NOW


def test_descriptors_are_decoded_and_checked() -> None:
    vector = [0.5] * 128
    event = convert(face_attributes={"descriptor": {"descriptor": encode_raw(vector), "descriptor_version": 1001}})
    assert event.face_descriptor is not None and event.face_descriptor.vector == vector
    assert "face_descriptor" not in event.shown()
    with pytest.raises(ValidationError):  # a face version given as the body's descriptor
        convert(body_attributes={"descriptor": {"descriptor": encode_raw(vector), "descriptor_version": 1001}})
    with pytest.raises(SeleneError):
        convert(face_attributes={"descriptor": {"descriptor": encode_raw([0.5] * 3), "descriptor_version": 1001}})
