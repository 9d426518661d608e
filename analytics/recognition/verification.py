"""Verification, 1:1: each face of each photo (or each descriptor given) against each candidate, a face,
an event or a temporary attribute by its face descriptor; ``status`` is true when the similarity is greater than the
verifier's ``verification_threshold``.

Photos go through the Remote SDK's engine with the verifier's detect policy (SCRFD faces, dlib
descriptors, the estimations asked for); the pose filters and the multiface rule are applied here, so
that filtered faces are reported with their reasons; samples are stored when the storage policy says so.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import numpy as np

from analytics.images.samples import SampleStore
from analytics.images.ttl import expire_time_of, now_utc
from analytics.recognition.attributes import AttributeStore, pick_descriptor
from analytics.recognition.face_store import FaceFilters, StoredFace
from analytics.recognition.service import Recognition
from analytics.recognition.similarity import pairwise
from analytics.recognition.verifier_policies import ANGLES, estimators_of
from analytics.sdk.images import InputImage
from analytics.sdk.service import RemoteSdk, SdkRequest
from schemas.descriptor_formats import common_version, decode_raw, decode_sdk
from schemas.detector import FilteredDetections, FilteredFace
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
    SampleFace,
    VerifiedAttribute,
    VerifiedDetection,
    VerifiedDetections,
    VerifiedEvent,
    VerifiedFace,
    VerifiedImage,
    Verification,
    Verifier,
    VerifierDetectPolicy,
)
from streams.models.estimators.engine import Wanted


# -- candidates ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Candidate:
    """A face, an event or a temporary attribute to verify against, with its face descriptor."""

    version: int
    vector: list[float]
    face_id: UUID | None = None
    event_id: UUID | None = None
    attribute_id: UUID | None = None

    @staticmethod
    def of_face(face: StoredFace) -> Candidate:
        assert face.vector is not None
        return Candidate(face.descriptor_version, face.vector, face_id=face.face_id)


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
            found.append(Candidate(stored[0], stored[1], event_id=event_id))
    if missing:
        raise _missing("events with a face descriptor, ids", missing)
    return found


async def candidate_attributes(store: AttributeStore, account_id: UUID, attribute_ids: Sequence[UUID]) -> list[Candidate]:
    """The account's temporary attributes to verify against, by their face descriptor (the default
    version's, else their first); 11020 for any expired, unknown or without a descriptor."""
    wanted = list(dict.fromkeys(attribute_ids))
    found = {a.attribute_id: a for a in await store.get_many(wanted, {account_id})}
    candidates, missing = [], set()
    for attribute_id in wanted:
        descriptor = pick_descriptor(found[attribute_id]) if attribute_id in found else None
        if descriptor is None:
            missing.add(str(attribute_id))
        else:
            vector = decode_raw(descriptor.descriptor, descriptor.descriptor_version)
            candidates.append(Candidate(descriptor.descriptor_version, vector.tolist(), attribute_id=attribute_id))
    if missing:
        raise _missing("attributes with a face descriptor, ids", missing)
    return candidates


def verifications(vector: np.ndarray, version: int, candidates: list[Candidate], threshold: float) -> list[Verification]:
    """The vector against every candidate, in the candidates' order; 31005 across versions."""
    common_version([version, *(c.version for c in candidates)])
    stacked = np.asarray([c.vector for c in candidates], np.float32)
    scores = pairwise(vector[None, :].astype(np.float32), stacked, version)[0]
    return [Verification(
        face=None if c.face_id is None else VerifiedFace(face_id=c.face_id),
        event=None if c.event_id is None else VerifiedEvent(event_id=c.event_id),
        attribute=None if c.attribute_id is None else VerifiedAttribute(attribute_id=c.attribute_id),
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
                             detections=VerifiedDetections(face_detections=[detection]))

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
                shown = _shown(estimation.face.detection, detect)
                filtered.append(FilteredFace(detection=shown, filter_reasons=reasons))
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
                             detections=VerifiedDetections(face_detections=detections,
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
    for angle in ANGLES:
        limit = getattr(detect, f"{angle}_threshold")
        if limit is not None and pose is not None and abs(getattr(pose, angle)) > limit:
            reasons.append(f"{angle}_threshold")
    return reasons


def _shown(detection: FaceDetection, detect: VerifierDetectPolicy) -> FaceDetection:
    """The detection as answered: no warp or descriptor, and the head pose only when it was asked for."""
    attributes = detection.attributes.model_copy(update={
        "descriptor": None, "head_pose": detection.attributes.head_pose if detect.estimate_head_pose else None,
    })
    return detection.model_copy(update={"warp": None, "attributes": attributes})
