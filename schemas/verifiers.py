"""LUNA's ``verifiers`` tag: a verifier is a stored set of policies (detection, extraction, sample storage
and a ``verification_threshold``) for 1:1 checks of photos or descriptors against given faces.

Field names and defaults follow LUNA's verifier (API document 003 and the 004 ``get verifier`` example).
The document prints no default for ``verification_threshold`` (its examples use 0.5); Selene's is 0.5,
its matching default, where dlib's usual same-person distance 0.6 falls (``schemas.descriptors.similarity``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from schemas.base import Body
from schemas.detector import FilteredDetections
from schemas.errors import ErrorBody
from schemas.handlers import FaceDetectFlags, Flag
from schemas.recognition import DEFAULT_MATCH_THRESHOLD
from schemas.sdk import FaceDetection

DEFAULT_VERIFICATION_THRESHOLD = DEFAULT_MATCH_THRESHOLD


class VerifierDetectPolicy(FaceDetectFlags):
    """What is detected and estimated on each photo. A flag asking for an estimator Selene has no model
    for is refused when the verifier is created or replaced (200005)."""


class VerifierExtractPolicy(Body):
    """The face descriptor is always extracted; basic attributes need a model Selene lacks (200005)."""

    extract_basic_attributes: Flag = 0
    fd_score_threshold: float = Field(0.0, ge=0, le=1, description="Selene's descriptors have no score: only 0.")


class VerifierAttributePolicy(Body):
    """``storage_policy.attribute_policy``."""

    store_attribute: Flag = Field(0, description="Verifications store no temporary attributes yet: only 0.")


class FaceSamplePolicy(Body):
    """``storage_policy.face_sample_policy``: the detected faces' samples go to the image store."""

    store_sample: Flag = 1
    ttl: int | None = Field(None, description="Days to keep each sample (LUNA's TTL values: 1..7, 14, 30, 60, 90, "
                                              "180, 365, or -1: until deleted); null: the bucket's default.")


class VerifierStoragePolicy(Body):
    """What a verification stores: face samples (temporary attributes not yet)."""

    attribute_policy: VerifierAttributePolicy = Field(default_factory=VerifierAttributePolicy)
    face_sample_policy: FaceSamplePolicy = Field(default_factory=FaceSamplePolicy)


class VerifierPolicies(Body):
    """A verifier's policies, LUNA's subset of a handler's."""

    verification_threshold: float = Field(DEFAULT_VERIFICATION_THRESHOLD, ge=0, le=1,
                                          description="A pair verifies when its similarity is greater.")
    detect_policy: VerifierDetectPolicy = Field(default_factory=VerifierDetectPolicy)
    extract_policy: VerifierExtractPolicy = Field(default_factory=VerifierExtractPolicy)
    storage_policy: VerifierStoragePolicy = Field(default_factory=VerifierStoragePolicy)


class VerifierCreate(Body):
    """``POST /verifiers`` and ``PUT /verifiers/{verifier_id}`` (a replacement: every field)."""

    description: str = Field("", max_length=128)
    policies: VerifierPolicies = Field(default_factory=VerifierPolicies)


class VerifierCreated(Body):
    """LUNA ``createVerifier``: 201 ``{verifier_id, url}``."""

    verifier_id: UUID
    url: str


class Verifier(Body):
    """LUNA's verifier; ``version`` counts replacements from 0."""

    verifier_id: UUID
    account_id: UUID
    description: str
    policies: VerifierPolicies
    create_time: datetime
    last_update_time: datetime
    version: int = Field(ge=0)


class VerifierVersion(Body):
    """``PUT /verifiers/{verifier_id}``: the new version."""

    version: int = Field(ge=0)


class VerifiersCount(Body):
    """``GET /verifiers/count``."""

    verifiers_count: int = Field(ge=0)


# -- verification results ------------------------------------------------------------------------
class VerifiedFace(Body):
    """The candidate face of a verification."""

    face_id: UUID


class VerifiedEvent(Body):
    """The candidate event of a verification."""

    event_id: UUID


class VerifiedAttribute(Body):
    """The candidate temporary attribute of a verification."""

    attribute_id: UUID


class Verification(Body):
    """One candidate (``face``, ``event`` or ``attribute``): ``status`` is true when ``similarity`` is
    greater than the verifier's threshold."""

    face: VerifiedFace | None = None
    event: VerifiedEvent | None = None
    attribute: VerifiedAttribute | None = None
    similarity: float = Field(ge=0, le=1)
    status: bool


class SampleFace(Body):
    """The detected face: its stored sample (``face_sample_policy``) and its detection; a descriptor
    given as input has neither."""

    sample_id: UUID | None = None
    url: str | None = None
    detection: FaceDetection | None = None


class DetectionSample(Body):
    """LUNA's ``sample`` of a face detection."""

    face: SampleFace


class VerifiedDetection(Body):
    """One detected face (or input descriptor) and its verifications, in the candidates' order."""

    sample: DetectionSample
    verifications: list[Verification]


class VerifiedDetections(Body):
    """An input's face detections and those filtered out."""

    face_detections: list[VerifiedDetection] = Field(default_factory=list)
    filtered_detections: FilteredDetections = Field(default_factory=FilteredDetections)


class VerifiedImage(Body):
    """One input (photo or descriptor); a broken one has ``status`` 0 and its ``error``, the others go on."""

    filename: str
    status: Literal[0, 1]
    error: ErrorBody
    detections: VerifiedDetections = Field(default_factory=VerifiedDetections)


class VerificationResponse(Body):
    """``POST /verifiers/{verifier_id}/verifications``: one entry per input, in order."""

    images: list[VerifiedImage]


class RawVerification(Body):
    """One candidate descriptor of a raw verification."""

    candidate_id: str
    similarity: float = Field(ge=0, le=1)
    status: bool


class RawReferenceVerifications(Body):
    """One reference descriptor's verifications, in the candidates' order."""

    reference_id: str
    matches: list[RawVerification]


class RawVerificationResponse(Body):
    """``POST /verifiers/{verifier_id}/raw``: every reference against every candidate, in their order."""

    matches: list[RawReferenceVerifications]
