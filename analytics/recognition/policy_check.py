"""Whether a handler's policies can run here: the estimators they need exist, the lists they name are the
account's, and LUNA's limits hold."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from infra.redis_collection import Collection
from schemas.errors import (
    BAD_INPUT_DATA,
    CANDIDATES_LIMIT_EXCEEDED,
    ESTIMATOR_NOT_INITIALIZED,
    LISTS_NOT_FOUND,
    SeleneError,
)
from schemas.faces import FaceList
from schemas.handlers import MAX_MATCH_CANDIDATES, DetectPolicy, MatchCandidates, ObjectFilters, Policies
from streams.models.estimators.registry import BY_FLAG, require

# detect_policy flags that name one registry estimator (the registry knows LUNA's flag names).
_DETECT_FLAGS = (
    "detect_face", "detect_body", "detect_landmarks68", "estimate_head_pose", "estimate_gaze",
    "estimate_eyes_attributes", "estimate_mouth_attributes", "estimate_emotions", "estimate_mask",
    "estimate_glasses", "estimate_quality", "extract_exif",
)
_NESTED = {"estimate_liveness": "liveness", "estimate_deepfake": "deepfake", "estimate_face_occlusion": "face_occlusion",
           "estimate_people_count": "people_count"}
_STATES = {"mask_states": "mask", "liveness_states": "liveness", "deepfake_states": "deepfake",
           "face_occlusion_states": "face_occlusion"}
_NO_FACE_QUALITY = "the image checking tool (face_quality) is served by /6/iso, not inside handlers"
_NO_FD_SCORE = "fd_score_threshold needs a descriptor quality score, which Selene's face descriptor does not give"


def _filters(policies: Policies) -> list[ObjectFilters]:
    storage = policies.storage_policy
    found = [m.filters for m in policies.match_policy] + [t.filters for t in policies.conditional_tags_policy]
    found += [storage.face_sample_policy.filters, storage.body_sample_policy.filters,
              storage.image_origin_policy.filters, storage.attribute_policy.filters, storage.face_policy.filters,
              storage.event_policy.filters, storage.notification_policy.filters]
    return found + [link.filters for link in storage.face_policy.link_to_lists_policy]


def detect_estimators(detect: DetectPolicy) -> set[str]:
    """The registry estimators a detect policy asks for (the detectors included)."""
    names = {BY_FLAG[flag].name for flag in _DETECT_FLAGS if getattr(detect, flag)}
    names |= {name for field, name in _NESTED.items() if getattr(detect, field).estimate}
    names |= {name for field, name in _STATES.items() if getattr(detect, field) is not None}
    if any(getattr(detect.body_attributes, f) for f in type(detect.body_attributes).model_fields):
        names.add("body_attributes")
    if any(t is not None and t < 180 for t in (detect.pitch_threshold, detect.roll_threshold, detect.yaw_threshold)):
        names.add("head_pose")
    return names


def required_estimators(policies: Policies) -> set[str]:
    """Every registry estimator the policies need, including those their filters read."""
    names = detect_estimators(policies.detect_policy)
    extract = policies.extract_policy
    for flag in ("extract_basic_attributes", "extract_face_descriptor", "extract_body_descriptor"):
        if getattr(extract, flag):
            names.add(BY_FLAG[flag].name)
    if any(f.needs_basic_attributes() for f in _filters(policies)):
        names.add("basic_attributes")
    if any(f.liveness is not None for f in _filters(policies)):
        names.add("liveness")
    if any(m.descriptor.descriptor_type == "face" for m in policies.match_policy):
        names.add("face_descriptor")
    if any(m.descriptor.descriptor_type == "body" for m in policies.match_policy):
        names.add("body_descriptor")
    return names


@dataclass(frozen=True)
class PolicyChecker:
    """Checks policies against this deployment: its estimators and the account's lists."""

    lists: Collection[FaceList]

    async def check(self, policies: Policies, account_id: UUID) -> None:
        require(required_estimators(policies))
        if policies.detect_policy.face_quality.estimate:
            raise SeleneError(ESTIMATOR_NOT_INITIALIZED, "face_quality", _NO_FACE_QUALITY)
        if policies.extract_policy.fd_score_threshold > 0:
            raise SeleneError(BAD_INPUT_DATA, _NO_FD_SCORE)
        storage = policies.storage_policy
        for name, unsupported in (
            ("image_origin_policy.store_image", storage.image_origin_policy.store_image),
            ("face_sample_policy.ttl", storage.face_sample_policy.ttl is not None),
            ("body_sample_policy.ttl", storage.body_sample_policy.ttl is not None),
        ):
            if unsupported:
                raise SeleneError(BAD_INPUT_DATA, f"storage_policy.{name} is not supported by this deployment yet")
        for match in policies.match_policy:
            if match.limit > MAX_MATCH_CANDIDATES:
                raise SeleneError(CANDIDATES_LIMIT_EXCEEDED, match.limit, MAX_MATCH_CANDIDATES)
            if match.descriptor.descriptor_type == "body":
                raise SeleneError(BAD_INPUT_DATA, f"match policy {match.label!r}: faces and events are matched "
                                  "by their face descriptors")
        labels = {m.label for m in policies.match_policy}
        for filters in _filters(policies):
            unknown = {m.label for m in filters.match or []} - labels
            if unknown:
                raise SeleneError(BAD_INPUT_DATA, f"filters name match labels no match policy has: {sorted(unknown)}")
        named = [m.candidates.list_id for m in policies.match_policy
                 if isinstance(m.candidates, MatchCandidates) and m.candidates.list_id is not None]
        named += [link.list_id for link in policies.storage_policy.face_policy.link_to_lists_policy]
        for list_id in named:
            found = await self.lists.get(list_id)
            if found is None or found.account_id != account_id:
                raise SeleneError(LISTS_NOT_FOUND, list_id)
