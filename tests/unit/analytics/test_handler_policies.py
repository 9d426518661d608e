"""Handler policies without any store: LUNA's defaults, the estimators a policy needs, the filter rules,
the handler type rule, and the body formats of generate events."""

from __future__ import annotations

import base64
import uuid

import pytest
from pydantic import ValidationError

from analytics.recognition.event_inputs import parse_events_body
from analytics.recognition.pipeline import passes
from analytics.recognition.policy_check import required_estimators
from schemas.descriptor_formats import encode_sdk
from schemas.errors import SeleneError
from schemas.faces import Face
from schemas.generated_events import CandidateOut, MatchOut
from schemas.handlers import HandlerCreate, ObjectFilters, Policies


def test_defaults_are_lunas() -> None:
    storage = Policies().storage_policy
    assert (storage.face_sample_policy.store_sample, storage.event_policy.store_event, storage.event_policy.wait_saving) == (1, 1, 1)
    assert (storage.face_policy.store_face, storage.attribute_policy.ttl, storage.image_origin_policy.use_external_references) == (0, 300, 1)
    assert (storage.notification_policy.send_notification, storage.callbacks) == (1, [])
    detect = Policies().detect_policy
    assert (detect.detect_face, detect.detect_body, detect.multiface_policy) == (1, 0, 1)
    assert detect.estimate_face_occlusion.occlusion_threshold == 0.07 and detect.estimate_deepfake.mode == 2


def test_the_estimators_a_policy_needs_include_those_its_filters_read() -> None:
    assert required_estimators(Policies()) == {"face_detector"}
    policies = Policies.model_validate({
        "detect_policy": {"detect_body": 1, "yaw_threshold": 20, "mask_states": [1]},
        "extract_policy": {"extract_body_descriptor": 1},
        "match_policy": [{"label": "a"}],
        "storage_policy": {"face_policy": {"filters": {"gender": 1}}},
    })
    assert required_estimators(policies) == {"face_detector", "body_detector", "head_pose", "mask", "body_descriptor",
                                             "face_descriptor", "basic_attributes"}


def test_match_policy_candidates_are_faces_unless_the_origin_says_events() -> None:
    policies = Policies.model_validate({"match_policy": [
        {"label": "faces", "candidates": {"list_id": str(uuid.uuid4())}},
        {"label": "events", "candidates": {"origin": "events", "sources": ["door"]}},
    ]})
    assert [m.candidates.origin for m in policies.match_policy] == ["faces", "events"]
    with pytest.raises(ValidationError):
        Policies.model_validate({"match_policy": [{"label": "x"}, {"label": "x"}]})  # labels are unique


def test_handler_type_follows_luna_rule() -> None:
    assert HandlerCreate().resolved_type == 1  # no policies: dynamic
    assert HandlerCreate(policies=Policies()).resolved_type == 0
    assert HandlerCreate(handler_type=0).resolved_type == 0
    assert HandlerCreate(is_dynamic=True, policies=Policies()).resolved_type == 1
    assert HandlerCreate(handler_type=0, is_dynamic=True).resolved_type == 0  # handler_type wins


def _match(label: str, *similarities: float) -> MatchOut:
    face = Face(account_id=uuid.uuid4(), avatar="", create_time="2024-01-01T00:00:00Z", event_id=None, external_id=None,
                face_id=uuid.uuid4(), lists=[], user_data="", descriptor_version=1001)
    return MatchOut(label=label, candidates=[CandidateOut(face=face, similarity=s) for s in similarities])


def test_match_filters_read_the_best_candidate_of_their_label() -> None:
    near = ObjectFilters.model_validate({"match": [{"label": "vip", "similarity__gte": 0.7}]})
    band = ObjectFilters.model_validate({"match": [{"label": "vip", "similarity__gte": 0.5, "similarity__lt": 0.8}]})
    assert passes(ObjectFilters(), [])
    assert passes(near, [_match("vip", 0.75, 0.6)]) and not passes(near, [_match("vip", 0.65)])
    assert not passes(near, [_match("vip")]) and not passes(near, [_match("other", 0.99)])
    assert passes(band, [_match("vip", 0.79)]) and not passes(band, [_match("vip", 0.8)])


def test_body_formats() -> None:
    raw = parse_events_body("image/jpeg", b"\xff\xd8")
    assert [(i.filename, i.image) for i in raw.inputs] == [("raw_image", b"\xff\xd8")]
    descriptor = parse_events_body("application/x-sdk-descriptor-base64", encode_sdk([0.5] * 128, 1001).encode())
    [item] = descriptor.inputs
    assert item.descriptor is not None and item.descriptor[0] == 1001 and float(item.descriptor[1][0]) == 0.5
    body = b'{"images": [{"url": "http://h/a.jpg"}, {"image": "QUJD", "filename": "b.jpg"}], "meta": {"k": 1}}'
    parsed = parse_events_body("application/json", body)
    assert [(i.filename, i.url, i.image) for i in parsed.inputs] == [("http://h/a.jpg", "http://h/a.jpg", None), ("b.jpg", None, "QUJD")]
    assert parsed.meta == {"k": 1}
    boundary = "xyz"
    multipart = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="policies"\r\nContent-Type: application/json\r\n\r\n'
        '{"detect_policy": {"multiface_policy": 2}}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/x-jpeg-base64\r\n\r\n'
        f'{base64.b64encode(b"img").decode()}\r\n--{boundary}--\r\n'
    ).encode()
    parsed = parse_events_body(f"multipart/form-data; boundary={boundary}", multipart)
    assert parsed.policies is not None and parsed.policies.detect_policy.multiface_policy == 2
    assert [(i.filename, i.image) for i in parsed.inputs] == [("a.jpg", base64.b64encode(b"img").decode())]
    for content_type, content, code in (("text/plain", b"x", 12017), ("application/json", b'{"images": [{}]}', 12027),
                                        ("application/x-vl-xpk", b"x", 12017)):
        with pytest.raises(SeleneError) as caught:
            parse_events_body(content_type, content)
        assert caught.value.body.error_code == code
