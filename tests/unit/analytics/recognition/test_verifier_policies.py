"""Verifier policies against the estimator registry: what a policy asks of the engine, and what is refused."""

from __future__ import annotations

import pytest

from analytics.recognition.verifier_policies import check_policies, estimators_of
from schemas.errors import SeleneError
from schemas.verifiers import VerifierPolicies


def policies(**fields: object) -> VerifierPolicies:
    return VerifierPolicies.model_validate(fields)


def test_the_defaults_ask_for_the_descriptor_and_the_sample_warp() -> None:
    assert estimators_of(VerifierPolicies()) == {"face_descriptor", "face_warp"}
    check_policies(VerifierPolicies())


def test_flags_and_pose_thresholds_ask_for_their_estimators() -> None:
    asked = policies(detect_policy={"detect_landmarks68": 1, "estimate_quality": 1, "yaw_threshold": 30},
                     storage_policy={"face_sample_policy": {"store_sample": 0}})
    assert estimators_of(asked) == {"face_descriptor", "landmarks68", "quality", "head_pose"}
    check_policies(asked)


@pytest.mark.parametrize(("fields", "code"), [
    ({"detect_policy": {"estimate_glasses": 1}}, 200005),
    ({"detect_policy": {"estimate_deepfake": {"estimate": 1}}}, 200005),
    ({"detect_policy": {"liveness_states": [1]}}, 200005),
    ({"detect_policy": {"face_quality": {"estimate": 1}}}, 12031),
    ({"extract_policy": {"fd_score_threshold": 0.3}}, 12031),
    ({"storage_policy": {"face_sample_policy": {"ttl": 0}}}, 12031),
])
def test_what_cannot_be_honoured_is_refused(fields: dict[str, object], code: int) -> None:
    with pytest.raises(SeleneError) as refused:
        check_policies(policies(**fields))
    assert refused.value.body.error_code == code


@pytest.mark.parametrize("ttl", [-1, 1, 14, 365])
def test_lunas_sample_ttls_are_accepted(ttl: int) -> None:
    check_policies(policies(storage_policy={"face_sample_policy": {"ttl": ttl}}))
