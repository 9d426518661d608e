"""Verifiers: stored policies for 1:1 checks, and the checks themselves.

A verifier lives in Redis beside the lists (one JSON value per verifier). A verification detects the
faces of each photo with the Remote SDK's engine (the verifier's detect policy), extracts their dlib
descriptors, stores their samples when the storage policy says so, and compares each face with each
candidate (a face, or an event by its face descriptor): ``status`` is true when the similarity is greater than ``verification_threshold``.

Policies are checked when a verifier is created or replaced, so a verifier that exists can always run:
an estimator Selene has no model for is 200005, and an option Selene cannot honour is 12031.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

import numpy as np

from analytics.images.samples import SampleStore
from analytics.images.ttl import KEEP, TTL_DAYS, expire_time_of, now_utc
from analytics.recognition.face_store import FaceFilters, StoredFace
from analytics.recognition.service import Recognition
from analytics.recognition.similarity import pairwise
from analytics.sdk.images import InputImage
from analytics.sdk.service import RemoteSdk, SdkRequest
from infra.redis_collection import Collection
from schemas.descriptor_formats import common_version, decode_sdk
from schemas.errors import (
    BAD_INPUT_DATA,
    MULTIPLE_FACES,
    NO_FACES_FOUND,
    OBJECT_NOT_FOUND,
    SERVICE_UNAVAILABLE,
    SUCCESS,
    SeleneError,
)
from schemas.faces import MAX_FACE_IDS
from schemas.sdk import FaceDetection, SdkImage
from schemas.verifiers import (
    DetectionSample,
    FilteredDetection,
    FilteredDetections,
    ImageDetections,
    SampleFace,
    VerifiedDetection,
    VerifiedEvent,
    VerifiedFace,
    VerifiedImage,
    Verification,
    Verifier,
    VerifierCreate,
    VerifierDetectPolicy,
    VerifierPolicies,
)
from streams.models.estimators.engine import Wanted
from streams.models.estimators.registry import BY_FLAG, require

# Detect-policy flags (0/1) and what they ask of the estimator registry.
_FLAGS = ("detect_landmarks68", "estimate_head_pose", "estimate_gaze", "estimate_eyes_attributes",
          "estimate_mouth_attributes", "estimate_emotions", "estimate_mask", "estimate_glasses", "estimate_quality",
          "extract_exif")
_TOGGLES = ("estimate_liveness", "estimate_deepfake", "estimate_face_occlusion")  # objects with `estimate`
# A `*_states` filter needs its estimator.
_STATES = {"mask_states": "mask", "liveness_states": "liveness", "deepfake_states": "deepfake",
           "face_occlusion_states": "face_occlusion"}
_ANGLES = ("pitch", "roll", "yaw")


def open_verifiers(recognition: Recognition) -> Collection[Verifier]:
    """The verifiers, in the recognition service's Redis namespace (beside its lists)."""
    return Collection(recognition.lists.store, "verifier", Verifier, "verifier")


def estimators_of(policies: VerifierPolicies) -> frozenset[str]:
    """Registry names of the estimators the policies ask for (the face descriptor always)."""
    detect = policies.detect_policy
    flags = [f for f in _FLAGS if getattr(detect, f)] + [t for t in _TOGGLES if getattr(detect, t).estimate]
    if policies.extract_policy.extract_basic_attributes:
        flags.append("extract_basic_attributes")
    names = {BY_FLAG[f].name for f in flags} | {name for field, name in _STATES.items() if getattr(detect, field) is not None}
    if any(_threshold(detect, a) is not None for a in _ANGLES):
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
        raise SeleneError(BAD_INPUT_DATA, "storage_policy.attribute_policy.store_attribute: temporary attributes "
                                          "are not served by this deployment")
    ttl = policies.storage_policy.face_sample_policy.ttl
    if ttl is not None and ttl != KEEP and ttl not in TTL_DAYS:
        raise SeleneError(BAD_INPUT_DATA, f"storage_policy.face_sample_policy.ttl: {ttl} is not one of -1, "
                                          + ", ".join(map(str, TTL_DAYS)))


def _threshold(detect: VerifierDetectPolicy, angle: str) -> float | None:
    value: float | None = getattr(detect, f"{angle}_threshold")
    return value


def _now() -> datetime:
    return datetime.now(UTC)


def new_verifier(account_id: UUID, body: VerifierCreate) -> Verifier:
    check_policies(body.policies)
    now = _now()
    return Verifier(verifier_id=uuid.uuid4(), account_id=account_id, description=body.description,
                    policies=body.policies, create_time=now, last_update_time=now, version=0)


def replace_verifier(verifier: Verifier, body: VerifierCreate) -> None:
    """PUT: every field replaced, the version counted up (a mutation inside the Redis transaction)."""
    check_policies(body.policies)
    verifier.description, verifier.policies = body.description, body.policies
    verifier.last_update_time = _now()
    verifier.version += 1


async def verifier_of(verifiers: Collection[Verifier], verifier_id: UUID, accounts: set[UUID]) -> Verifier:
    found = await verifiers.get(verifier_id)
    if found is None or found.account_id not in accounts:
        raise SeleneError(OBJECT_NOT_FOUND, f"verifier with id {verifier_id}")
    return found


# -- candidates ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """A face or an event to verify against, with its face descriptor."""

    face_id: UUID | None
    event_id: UUID | None
    version: int
    vector: list[float]

    @staticmethod
    def of_face(face: StoredFace) -> Candidate:
        assert face.vector is not None
        return Candidate(face.face_id, None, face.descriptor_version, face.vector)


def _missing(what: str, ids: set[str]) -> SeleneError:
    return SeleneError(OBJECT_NOT_FOUND, f"{what} " + ", ".join(sorted(ids)))


async def candidate_faces(recognition: Recognition, account_id: UUID, face_ids: Sequence[UUID] | None,
                          external_ids: Sequence[str] | None) -> list[Candidate]:
    """The account's faces to verify against, with their descriptors; 11020 for any not found."""
    if face_ids is not None:
        wanted = list(dict.fromkeys(face_ids))
        found = await recognition.store.get(account_id, wanted, with_vectors=True)
        missing = set(wanted) - {f.face_id for f in found}
        if missing:
            raise _missing("faces with ids", {str(m) for m in missing})
        return [Candidate.of_face(f) for f in found]
    assert external_ids is not None
    filters = FaceFilters(external_ids=list(dict.fromkeys(external_ids)))
    found = await recognition.store.query(account_id, filters, 0, MAX_FACE_IDS + 1, with_vectors=True)
    missing_external = set(filters.external_ids or ()) - {f.external_id for f in found}
    if missing_external:
        raise _missing("faces with external ids", {str(m) for m in missing_external})
    if len(found) > MAX_FACE_IDS:
        raise SeleneError(BAD_INPUT_DATA, f"the external ids name more than {MAX_FACE_IDS} faces")
    return [Candidate.of_face(f) for f in found]


async def candidate_events(recognition: Recognition, account_id: UUID, event_ids: Sequence[UUID]) -> list[Candidate]:
    """The account's events to verify against, by their face descriptors; 11020 for any not found or
    without a face descriptor."""
    archive = recognition.archive()
    found, missing = [], set()
    for event_id in dict.fromkeys(event_ids):
        stored = await archive.vector(account_id, event_id)
        if stored is None:
            missing.add(str(event_id))
        else:
            found.append(Candidate(None, event_id, stored[0], stored[1]))
    if missing:
        raise _missing("events with a face descriptor, ids", missing)
    return found


def verifications(vector: np.ndarray, version: int, candidates: list[Candidate], threshold: float) -> list[Verification]:
    """The vector against every candidate, in the candidates' order; 31005 across versions."""
    common_version([version, *(c.version for c in candidates)])
    stacked = np.asarray([c.vector for c in candidates], np.float32)
    scores = pairwise(vector[None, :].astype(np.float32), stacked, version)[0]
    return [Verification(
        face=None if c.face_id is None else VerifiedFace(face_id=c.face_id),
        event=None if c.event_id is None else VerifiedEvent(event_id=c.event_id),
        similarity=round(float(s), 6), status=bool(s > threshold),
    ) for c, s in zip(candidates, scores)]


# -- inputs --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class DescriptorInput:
    """A descriptor given instead of a photo (``application/x-sdk-descriptor``): one face, no detection."""

    filename: str
    sdk_descriptor: str  # Base64 of Selene's SDK-like descriptor


Input = InputImage | DescriptorInput


@dataclass
class VerificationRun:
    """One verification request: the verifier's policies, the caller's account and the candidates."""

    recognition: Recognition
    sdk: RemoteSdk
    samples: SampleStore | None
    verifier: Verifier
    account_id: UUID
    candidates: list[Candidate]

    async def run(self, inputs: list[Input], image_type: int, use_exif: bool) -> list[VerifiedImage]:
        photos = [i for i in inputs if isinstance(i, InputImage)]
        estimated = iter(await self._estimate(photos, image_type, use_exif) if photos else [])
        answers = []
        for item in inputs:
            try:
                if isinstance(item, DescriptorInput):
                    answers.append(self._descriptor(item))
                else:
                    answers.append(await self._photo(next(estimated)))
            except SeleneError as exc:
                answers.append(VerifiedImage(filename=item.filename, status=0, error=exc.body))
        return answers

    @property
    def _threshold(self) -> float:
        return self.verifier.policies.verification_threshold

    def _descriptor(self, item: DescriptorInput) -> VerifiedImage:
        version, vector = decode_sdk(item.sdk_descriptor)
        detection = VerifiedDetection(sample=DetectionSample(face=SampleFace()),
                                      verifications=verifications(vector, version, self.candidates, self._threshold))
        return VerifiedImage(filename=item.filename, status=1, error=SUCCESS.body(),
                             detections=ImageDetections(face_detections=[detection]))

    async def _estimate(self, photos: list[InputImage], image_type: int, use_exif: bool) -> list[SdkImage]:
        # The SDK keeps every face (multiface 1, no pose limit): the policy's filters and multiface
        # rule are applied here, so that filtered faces can be reported with their reasons.
        wanted = Wanted(estimators_of(self.verifier.policies), image_type=image_type)
        answer = await self.sdk.sdk(photos, SdkRequest(wanted=wanted, multiface_policy=1, use_exif=use_exif))
        return answer.images_estimations

    async def _photo(self, image: SdkImage) -> VerifiedImage:
        if image.status == 0:
            return VerifiedImage(filename=image.filename, status=0, error=image.error)
        detect = self.verifier.policies.detect_policy
        kept, filtered = [], []
        for estimation in image.estimations:
            if estimation.face is None:
                continue
            reasons = _filter_reasons(estimation.face.detection, detect)
            if reasons:
                filtered.append(FilteredDetection(detection=_shown(estimation.face.detection, detect), filter_reasons=reasons))
            else:
                kept.append(estimation.face.detection)
        if not kept and not filtered:
            raise SeleneError(NO_FACES_FOUND)
        if len(kept) > 1 and detect.multiface_policy == 0:
            raise SeleneError(MULTIPLE_FACES, image.filename, f"{len(kept)} faces")
        if len(kept) > 1 and detect.multiface_policy == 2:
            kept = [max(kept, key=lambda d: d.rect.width * d.rect.height)]
        detections = [await self._verified(d) for d in kept]
        return VerifiedImage(filename=image.filename, status=1, error=image.error,
                             detections=ImageDetections(face_detections=detections,
                                                        filtered_detections=FilteredDetections(face_detections=filtered)))

    async def _verified(self, detection: FaceDetection) -> VerifiedDetection:
        descriptor = detection.attributes.descriptor
        assert descriptor is not None and descriptor.sdk_descriptor is not None
        version, vector = decode_sdk(descriptor.sdk_descriptor)
        sample = SampleFace(detection=_shown(detection, self.verifier.policies.detect_policy))
        if self.verifier.policies.storage_policy.face_sample_policy.store_sample:
            if self.samples is None:
                raise SeleneError(SERVICE_UNAVAILABLE, "image store", "this API runs without a samples store")
            assert detection.warp is not None
            expire_time = expire_time_of(self.verifier.policies.storage_policy.face_sample_policy.ttl, now_utc())
            sample_id = await self.samples.put(self.account_id, "faces", base64.b64decode(detection.warp),
                                               expire_time=expire_time)
            sample = sample.model_copy(update={"sample_id": sample_id, "url": f"/6/samples/faces/{sample_id}"})
        return VerifiedDetection(sample=DetectionSample(face=sample),
                                 verifications=verifications(vector, version, self.candidates, self._threshold))


def _filter_reasons(detection: FaceDetection, detect: VerifierDetectPolicy) -> list[str]:
    pose = detection.attributes.head_pose
    reasons = []
    for angle in _ANGLES:
        limit = _threshold(detect, angle)
        if limit is not None and pose is not None and abs(getattr(pose, angle)) > limit:
            reasons.append(f"{angle}_threshold")
    return reasons


def _shown(detection: FaceDetection, detect: VerifierDetectPolicy) -> FaceDetection:
    """The detection as answered: no warp or descriptor, and the head pose only when it was asked for."""
    attributes = detection.attributes.model_copy(update={
        "descriptor": None, "head_pose": detection.attributes.head_pose if detect.estimate_head_pose else None,
    })
    return detection.model_copy(update={"warp": None, "attributes": attributes})
