"""LUNA's handlers: the handler object and its policies (API v6 ``handlers`` tag), with LUNA's exact keys
and defaults (the 004 ``getHandlers`` example; digest §4.4).

Policies run in order for every detection: detect (all images) -> multiface -> extract -> match ->
conditional tags -> storage (samples, source image, attribute, face and its lists, event) -> notification.
A detection filtered out by a policy is stored nowhere and appears in ``filtered_detections``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Discriminator, Field, Tag, model_validator

from schemas.base import Body
from schemas.callbacks import MAX_CALLBACKS, EventCallback
from schemas.faces import EventCandidateFilters

Flag = Literal[0, 1]
HandlerType = Literal[0, 1, 2]  # 0 static, 1 dynamic (policies per request), 2 lambda
MAX_MATCH_CANDIDATES = 100  # LUNA_HANDLERS_LIMITS.result_candidate_limit: a larger `limit` is 34005
MAX_RECEIVED_IMAGES = 8  # LUNA_HANDLERS_LIMITS.received_images_limit (multipart / JSON images per request)
MAX_ATTRIBUTE_TTL = 86_400  # ATTRIBUTES_STORAGE_POLICY.max_ttl
DEFAULT_ATTRIBUTE_TTL = 300
Angle = int | None


# -- filters shared by the policies ---------------------------------------------------------------
class MatchFilter(Body):
    """A condition on a match result: the best candidate of the match policy ``label``."""

    label: str = Field(min_length=1, max_length=36)
    similarity__gte: float | None = Field(None, ge=0, le=1)
    similarity__lt: float | None = Field(None, ge=0, le=1)


class ObjectFilters(Body):
    """LUNA's filters on a detection's estimations and match results; all given conditions must hold.

    Age, gender and ethnicities need basic attributes, which Selene has no model for: a policy filtering
    on them is refused when the handler is created (200005), never evaluated against made-up values."""

    age__gte: int | None = Field(None, ge=0, le=200)
    age__lt: int | None = Field(None, ge=0, le=200)
    gender: Flag | None = None
    ethnicities: list[Literal[1, 2, 3, 4]] | None = Field(None, max_length=4)
    liveness: list[Literal[0, 1, 2]] | None = Field(None, max_length=3)
    match: list[MatchFilter] | None = Field(None, max_length=30)

    def needs_basic_attributes(self) -> bool:
        return any(v is not None for v in (self.age__gte, self.age__lt, self.gender, self.ethnicities))


# -- detect_policy ----------------------------------------------------------------------------
class EstimateLiveness(Body):
    """Liveness estimation and its thresholds (no model here: 200005 when asked)."""

    estimate: Flag = 0
    liveness_threshold: float = Field(0.5, ge=0, le=1)
    quality_threshold: float = Field(0.5, ge=0, le=1)


class EstimateDeepfake(Body):
    """Deepfake estimation (no model here: 200005 when asked)."""

    estimate: Flag = 0
    mode: Literal[1, 2] = 2
    real_threshold: float = Field(0.5, ge=0, le=1)


class EstimateFaceOcclusion(Body):
    """Face occlusion estimation and its thresholds (no model here: 200005 when asked)."""

    estimate: Flag = 0
    occlusion_threshold: float = Field(0.07, ge=0, le=1)
    forehead_threshold: float = Field(0.2, ge=0, le=1)
    eye_threshold: float = Field(0.15, ge=0, le=1)
    nose_threshold: float = Field(0.2, ge=0, le=1)
    mouth_threshold: float = Field(0.15, ge=0, le=1)
    lower_face_threshold: float = Field(0.2, ge=0, le=1)
    hair_occlusion_threshold: float = Field(0.15, ge=0, le=1)


class EstimatePeopleCount(Body):
    """Count the people in each image, with their boxes when ``people_coordinates`` is 1."""

    estimate: Flag = 0
    people_coordinates: Flag = 1


class BodyAttributesPolicy(Body):
    """Body attributes to estimate (no model here: 200005 when asked)."""

    estimate_basic_attributes: Flag = 0
    estimate_upper_body: Flag = 0
    estimate_lower_body: Flag = 0
    estimate_accessories: Flag = 0


class FaceQualityPolicy(Body):
    """The image checking tool (ISO-style checks); ``checks`` as LUNA's ``face_quality.checks``."""

    estimate: Flag = 0
    filter: Flag = 0
    checks: dict[str, Any] = Field(default_factory=dict)


class FaceDetectFlags(Body):
    """The face part of a detect policy, the same in handlers and verifiers: what to estimate of each face
    and which faces to drop."""

    multiface_policy: Literal[0, 1, 2] = Field(1, description="0: refuse an image with several faces; 1: all; 2: the best.")
    detect_landmarks68: Flag = 0
    estimate_head_pose: Flag = 0
    estimate_gaze: Flag = 0
    estimate_eyes_attributes: Flag = 0
    estimate_mouth_attributes: Flag = 0
    estimate_emotions: Flag = 0
    estimate_mask: Flag = 0
    estimate_glasses: Flag = 0
    estimate_quality: Flag = 0
    extract_exif: Flag = 0
    estimate_liveness: EstimateLiveness = Field(default_factory=EstimateLiveness)
    estimate_deepfake: EstimateDeepfake = Field(default_factory=EstimateDeepfake)
    estimate_face_occlusion: EstimateFaceOcclusion = Field(default_factory=EstimateFaceOcclusion)
    face_quality: FaceQualityPolicy = Field(default_factory=FaceQualityPolicy)
    pitch_threshold: Angle = Field(None, ge=0, le=180, description="Faces turned further (degrees) are filtered out.")
    roll_threshold: Angle = Field(None, ge=0, le=180)
    yaw_threshold: Angle = Field(None, ge=0, le=180)
    mask_states: list[Literal[1, 2, 3]] | None = Field(None, max_length=3)
    liveness_states: list[Literal[0, 1, 2]] | None = Field(None, max_length=3)
    deepfake_states: list[Literal[0, 1]] | None = Field(None, max_length=2)
    face_occlusion_states: list[Literal["face", "forehead", "eye", "nose", "mouth", "lower_face"]] | None = Field(
        None, max_length=6)


class DetectPolicy(FaceDetectFlags):
    """What to detect and estimate in every image, and which detections to drop."""

    detect_face: Flag = 1
    detect_body: Flag = 0
    estimate_people_count: EstimatePeopleCount = Field(default_factory=EstimatePeopleCount)
    body_attributes: BodyAttributesPolicy = Field(default_factory=BodyAttributesPolicy)


class ExtractPolicy(Body):
    """What to extract of each kept detection: descriptors, basic attributes."""

    extract_basic_attributes: Flag = 0
    extract_face_descriptor: Flag = 0
    extract_body_descriptor: Flag = 0
    fd_score_threshold: float = Field(0.0, ge=0, le=1)


# -- match_policy ---------------------------------------------------------------------------------
class MatchCandidates(Body):
    """Which faces are candidates: a list, given faces, or all the account's faces."""

    origin: Literal["faces"] = "faces"
    list_id: UUID | None = None
    face_ids: list[UUID] | None = Field(None, min_length=1, max_length=1000)


def _origin(value: object) -> str:
    origin = value.get("origin") if isinstance(value, dict) else getattr(value, "origin", None)
    return "events" if origin == "events" else "faces"


Candidates = Annotated[
    Annotated[MatchCandidates, Tag("faces")] | Annotated[EventCandidateFilters, Tag("events")],
    Discriminator(_origin),
]


class MatchDescriptor(Body):
    """Which descriptor of the detection is matched."""

    descriptor_type: Literal["face", "body"] = "face"


class HandlerMatchPolicy(Body):
    """Match each detection against a candidate set; ``label`` names the result."""

    label: str = Field(min_length=1, max_length=36)
    candidates: Candidates = Field(default_factory=MatchCandidates, description=(
        'Faces (`"origin": "faces"`: a list, face ids) or events (`"origin": "events"`: LUNA\'s event filters).'))
    descriptor: MatchDescriptor = Field(default_factory=MatchDescriptor)
    filters: ObjectFilters = Field(default_factory=ObjectFilters, description="Which detections are matched.")
    limit: int = Field(3, ge=1, description=f"At most {MAX_MATCH_CANDIDATES} (34005 above).")
    threshold: float = Field(0.0, ge=0, le=1)


class ConditionalTagPolicy(Body):
    """Add ``tag`` to the events that meet ``filters``."""

    tag: str = Field(min_length=1, max_length=36)
    filters: ObjectFilters = Field(default_factory=ObjectFilters)


# -- storage_policy -------------------------------------------------------------------------------
class SamplePolicy(Body):
    """Store the detection's sample (warp) in the samples bucket."""

    store_sample: Flag = 1
    filters: ObjectFilters = Field(default_factory=ObjectFilters)
    ttl: int | None = Field(None, ge=1, le=365, description="Days; null: kept until deleted.")


class ImageOriginPolicy(Body):
    """Store the source image (or keep its URL with ``use_external_references``)."""

    store_image: Flag = 0
    use_external_references: Flag = 1
    filters: ObjectFilters = Field(default_factory=ObjectFilters)
    ttl: int | None = Field(None, ge=1, le=365, description="Days; null: kept until deleted.")


class AttributePolicy(Body):
    """Keep the event's descriptor as a temporary attribute for ``ttl`` seconds."""

    store_attribute: Flag = 0
    ttl: int = Field(DEFAULT_ATTRIBUTE_TTL, ge=1, le=MAX_ATTRIBUTE_TTL, description="Seconds.")
    filters: ObjectFilters = Field(default_factory=ObjectFilters)


class LinkToListPolicy(Body):
    """Attach the face the face policy made to ``list_id`` when ``filters`` hold."""

    list_id: UUID
    filters: ObjectFilters = Field(default_factory=ObjectFilters)


class FacePolicy(Body):
    """Make a face of the event (its descriptor, the request's external_id and user_data), linked to lists."""

    store_face: Flag = 0
    filters: ObjectFilters = Field(default_factory=ObjectFilters)
    set_sample_as_avatar: Flag = 1
    link_to_lists_policy: list[LinkToListPolicy] = Field(default_factory=list, max_length=256)


class EventPolicy(Body):
    """Store the event; ``wait_saving`` 0 answers before it is saved."""

    store_event: Flag = 1
    wait_saving: Flag = 1
    filters: ObjectFilters = Field(default_factory=ObjectFilters)


class HandlerNotificationPolicy(Body):
    """Deprecated by LUNA in favour of a ``luna-ws-notification`` callback (both: sent twice)."""

    send_notification: Flag = 1
    filters: ObjectFilters = Field(default_factory=ObjectFilters)


class StoragePolicy(Body):
    """What a handler stores of each event, and whom it notifies."""

    face_sample_policy: SamplePolicy = Field(default_factory=SamplePolicy)
    body_sample_policy: SamplePolicy = Field(default_factory=SamplePolicy)
    image_origin_policy: ImageOriginPolicy = Field(default_factory=ImageOriginPolicy)
    attribute_policy: AttributePolicy = Field(default_factory=AttributePolicy)
    face_policy: FacePolicy = Field(default_factory=FacePolicy)
    event_policy: EventPolicy = Field(default_factory=EventPolicy)
    notification_policy: HandlerNotificationPolicy = Field(default_factory=HandlerNotificationPolicy)
    callbacks: list[EventCallback] = Field(default_factory=list, max_length=MAX_CALLBACKS, description=(
        "Where the sender delivers each event (http webhooks, luna-ws-notification), each with its filters."))


class Policies(Body):
    """A handler's policies, run in order for every detection."""

    detect_policy: DetectPolicy = Field(default_factory=DetectPolicy)
    extract_policy: ExtractPolicy = Field(default_factory=ExtractPolicy)
    match_policy: list[HandlerMatchPolicy] = Field(default_factory=list, max_length=30)
    conditional_tags_policy: list[ConditionalTagPolicy] = Field(default_factory=list, max_length=30)
    storage_policy: StoragePolicy = Field(default_factory=StoragePolicy)

    @model_validator(mode="after")
    def _unique_labels(self) -> Policies:
        labels = [m.label for m in self.match_policy]
        if len(labels) != len(set(labels)):
            raise ValueError("match_policy labels must be unique")
        return self


# -- the handler ----------------------------------------------------------------------------------
class HandlerCreate(Body):
    """``POST /handlers`` and ``PUT /handlers/{id}``: a static handler has policies, a dynamic one none."""

    description: str = Field("", max_length=128)
    policies: Policies | None = None
    handler_type: HandlerType | None = None
    is_dynamic: bool | None = Field(None, description="Deprecated: handler_type 1.")
    lambda_id: UUID | None = None

    @property
    def resolved_type(self) -> int:
        """LUNA's rule: ``handler_type`` if given, else the deprecated ``is_dynamic``, else dynamic when
        there are no policies."""
        if self.handler_type is not None:
            return self.handler_type
        if self.is_dynamic is not None:
            return int(self.is_dynamic)
        return 1 if self.policies is None else 0


class HandlerCreated(Body):
    """LUNA ``createHandler``: 201 ``{handler_id, url}``."""

    handler_id: UUID
    url: str


class Handler(Body):
    """LUNA's handler: its type, its policies (none for a dynamic handler) and times."""

    handler_id: UUID
    account_id: UUID
    description: str
    handler_type: HandlerType
    is_dynamic: bool
    policies: Policies | None
    create_time: datetime
    last_update_time: datetime


class HandlersCount(Body):
    """``GET /handlers/count``: ``{"handlers_count": N}``."""

    handlers_count: int = Field(ge=0)


class PoliciesValidation(Body):
    """``POST /handlers/validator``: the policies to check."""

    policies: Policies


class ValidationResult(Body):
    """The validator's answer for valid policies (an invalid one is refused with its error)."""

    status: Literal["ok"] = "ok"
