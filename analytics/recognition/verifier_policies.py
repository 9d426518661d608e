"""Verifiers: stored policies for 1:1 checks (``verification.py`` runs the checks).

A verifier lives in Redis beside the lists (one JSON value per verifier), visible to its own account.
Policies are checked when a verifier is created or replaced, so a verifier that exists can always run:
an estimator Selene has no model for is 200005, and an option Selene cannot honour is 12031.
"""

from __future__ import annotations

import uuid
from uuid import UUID

from analytics.images.ttl import KEEP, TTL_DAYS, now_utc
from analytics.recognition.service import Recognition
from infra.redis_collection import Collection
from schemas.errors import BAD_INPUT_DATA, OBJECT_NOT_FOUND, SeleneError
from schemas.verifiers import Verifier, VerifierCreate, VerifierPolicies
from streams.models.estimators.registry import BY_FLAG, require

# Detect-policy flags (0/1) and what they ask of the estimator registry.
_FLAGS = ("detect_landmarks68", "estimate_head_pose", "estimate_gaze", "estimate_eyes_attributes",
          "estimate_mouth_attributes", "estimate_emotions", "estimate_mask", "estimate_glasses", "estimate_quality",
          "extract_exif")
_TOGGLES = ("estimate_liveness", "estimate_deepfake", "estimate_face_occlusion")  # objects with `estimate`
# A `*_states` filter needs its estimator.
_STATES = {"mask_states": "mask", "liveness_states": "liveness", "deepfake_states": "deepfake",
           "face_occlusion_states": "face_occlusion"}
ANGLES = ("pitch", "roll", "yaw")  # the detect policy's `<angle>_threshold` filters


def open_verifiers(recognition: Recognition) -> Collection[Verifier]:
    """The verifiers, in the recognition service's Redis namespace (beside its lists)."""
    return Collection(recognition.lists.store, "verifier", Verifier, "verifier")


def estimators_of(policies: VerifierPolicies) -> frozenset[str]:
    """Registry names of the estimators the policies ask for (the face descriptor always)."""
    detect = policies.detect_policy
    flags = [f for f in _FLAGS if getattr(detect, f)] + [t for t in _TOGGLES if getattr(detect, t).estimate]
    if policies.extract_policy.extract_basic_attributes:
        flags.append("extract_basic_attributes")
    names = {BY_FLAG[f].name for f in flags}
    names |= {name for field, name in _STATES.items() if getattr(detect, field) is not None}
    if any(getattr(detect, f"{a}_threshold") is not None for a in ANGLES):
        names.add("head_pose")  # the pose thresholds filter on it
    if policies.storage_policy.face_sample_policy.store_sample:
        names.add("face_warp")  # the stored sample
    return frozenset(names | {"face_descriptor"})


def check_policies(policies: VerifierPolicies) -> None:
    """Refuse what a verification could not honour: 200005 for a missing estimator, 12031 otherwise."""
    require(estimators_of(policies))
    if policies.detect_policy.face_quality.estimate:
        raise SeleneError(BAD_INPUT_DATA, "detect_policy.face_quality is not supported by verifiers (use /6/iso)")
    if policies.extract_policy.fd_score_threshold > 0:
        raise SeleneError(BAD_INPUT_DATA, "extract_policy.fd_score_threshold: Selene's descriptors have no score")
    if policies.storage_policy.attribute_policy.store_attribute:
        raise SeleneError(BAD_INPUT_DATA, "storage_policy.attribute_policy.store_attribute: verifications do not "
                                          "store temporary attributes yet")
    ttl = policies.storage_policy.face_sample_policy.ttl
    if ttl is not None and ttl != KEEP and ttl not in TTL_DAYS:
        raise SeleneError(BAD_INPUT_DATA, f"storage_policy.face_sample_policy.ttl: {ttl} is not one of -1, "
                                          + ", ".join(map(str, TTL_DAYS)))


def new_verifier(account_id: UUID, body: VerifierCreate) -> Verifier:
    check_policies(body.policies)
    now = now_utc()
    return Verifier(verifier_id=uuid.uuid4(), account_id=account_id, description=body.description,
                    policies=body.policies, create_time=now, last_update_time=now, version=0)


def replace_verifier(verifier: Verifier, body: VerifierCreate) -> None:
    """PUT: every field replaced, the version counted up (a mutation inside the Redis transaction)."""
    check_policies(body.policies)
    verifier.description, verifier.policies = body.description, body.policies
    verifier.last_update_time = now_utc()
    verifier.version += 1


async def verifier_of(verifiers: Collection[Verifier], verifier_id: UUID, accounts: set[UUID]) -> Verifier:
    found = await verifiers.get(verifier_id)
    if found is None or found.account_id not in accounts:
        raise SeleneError(OBJECT_NOT_FOUND, f"verifier with id {verifier_id}")
    return found
