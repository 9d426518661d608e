"""LUNA's face/body events (API v6 ``events`` tag): the stored event handlers make, and the body of
"save event" that builds one by hand.

``LunaEvent`` is the contract between whoever makes events (handlers, ``POST /6/events/raw``) and the
event store (``analytics.events.luna_event_store``): every field of LUNA's stored event (``GET
/6/events/{event_id}``, digest §3.3) with LUNA's names, enums and nullability, plus the event's
descriptors, which LUNA keeps beside the event and never returns in it.

Enums, as LUNA stores them: gender 0 female, 1 male; emotion 1 anger, 2 disgust, 3 fear, 4 happiness,
5 neutral, 6 sadness, 7 surprise; mask 1 missing, 2 medical_mask, 3 occluded; ethnic_group 1 African
american, 2 Indian, 3 Asian, 4 Caucasian; liveness 0 spoof, 1 real, 2 unknown; deepfake 0 fake, 1 real;
apparent_gender 0 female, 1 male, 2 unknown.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import Field, model_validator

from schemas.base import Body, Message
from schemas.descriptor_formats import decode_descriptor
from schemas.descriptors import DESCRIPTOR_VERSIONS, DescriptorKind
from schemas.detections import TrackId
from schemas.faces import RawDescriptor
from schemas.sdk import Rect
from schemas.streams import Location

MAX_RAW_EVENT_DETECTIONS = 100  # LUNA's raw_event_detections_limit
MAX_RAW_EVENT_ARRAYS = 30  # raw_event_arrays_limit (matches)
MAX_TAGS = 1000
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)  # the warehouse's time range (DateTime64)
LATEST = datetime(2299, 12, 31, 23, 59, 59, tzinfo=UTC)

Gender = Literal[0, 1]
Emotion = Literal[1, 2, 3, 4, 5, 6, 7]
Mask = Literal[1, 2, 3]
EthnicGroup = Literal[1, 2, 3, 4]
Liveness = Literal[0, 1, 2]
Deepfake = Literal[0, 1]

# LUNA's estimation names -> the event's stored codes (the inverse of the enums above).
EMOTIONS: dict[str, int] = {
    name: code for code, name in enumerate(
        ("anger", "disgust", "fear", "happiness", "neutral", "sadness", "surprise"), start=1)
}
MASKS: dict[str, int] = {"missing": 1, "medical_mask": 2, "occluded": 3}
ETHNIC_GROUPS: dict[str, int] = {"african_american": 1, "indian": 2, "asian": 3, "caucasian": 4}
LIVENESS: dict[str, int] = {"spoof": 0, "real": 1, "unknown": 2}
DEEPFAKE: dict[str, int] = {"fake": 0, "real": 1}

# LUNA's ``target`` enum of GET /events: the fields an event may be cut down to.
EVENT_TARGETS = (
    "event_id", "account_id", "create_time", "end_time", "external_id", "handler_id", "stream_id", "source",
    "top_match", "match_result", "face_detections", "body_detections", "face_id", "attach_result", "gender",
    "age", "emotion", "ethnic_group", "tags", "user_data", "location", "mask", "liveness", "deepfake",
    "track_id", "body_basic_attributes", "upper_body", "lower_body", "accessories", "meta",
)


def _tags(tags: list[str] | None) -> list[str] | None:
    if tags is not None and any(len(t) > 36 for t in tags):
        raise ValueError("a tag is at most 36 characters")
    return tags


class DetectionBox(Body):
    """``detection`` of a stored detection: where the object was."""

    rect: Rect


class EventDetection(Body):
    """One item of ``face_detections`` / ``body_detections``: one image's detection of the event's object."""

    detect_time: datetime = Field(description="When the image was taken (the request's, or `Luna-Event-Time`).")
    detect_ts: float | None = Field(default=None, ge=0, description="Seconds from the start of a video or stream.")
    image_origin: str | None = Field(default=None, max_length=256, description="The source image (URL or image id).")
    sample_id: str | None = Field(default=None, max_length=36, description="The stored sample (warp).")
    detection: DetectionBox | None = None


class TopMatch(Body):
    """``top_match``: the most similar candidate over all of the event's matches."""

    label: str = Field(max_length=36, description="The match policy's label of the candidate set.")
    similarity: float = Field(ge=0, le=1)
    face_id: UUID | None = None
    event_id: UUID | None = None
    external_id: str | None = Field(default=None, max_length=36)

    @model_validator(mode="after")
    def _one_object(self) -> TopMatch:
        if (self.face_id is None) == (self.event_id is None):
            raise ValueError("top_match names exactly one of face_id and event_id")
        return self


class MatchCandidate(Body):
    """One candidate of a match: a face or an event (LUNA's candidate objects, as the matcher gave them)."""

    similarity: float = Field(ge=0, le=1)
    face: dict[str, Any] | None = None
    event: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _one_object(self) -> MatchCandidate:
        if (self.face is None) == (self.event is None):
            raise ValueError("a candidate is exactly one of face and event")
        return self


class MatchResult(Body):
    """One item of ``match_result`` (and of save event's ``matches``): one candidate set's best candidates."""

    label: str = Field(max_length=36)
    candidates: list[MatchCandidate] = Field(default_factory=list, max_length=100)


class AttachResult(Body):
    """One item of ``attach_result``: a list the event's face was attached to."""

    list_id: UUID


class BodyBasicAttributes(Body):
    """``body_basic_attributes``: apparent age and gender from the body."""

    apparent_age: int | None = Field(default=None, ge=0, le=100)
    apparent_gender: Literal[0, 1, 2] | None = None


class EventDescriptor(Body):
    """A face or body descriptor of the event, as a vector with its version (kept for matching, never shown)."""

    vector: list[float] = Field(min_length=1)
    descriptor_version: int = Field(ge=1)

    def check(self, kind: DescriptorKind) -> EventDescriptor:
        known = DESCRIPTOR_VERSIONS.get(self.descriptor_version)
        if known is None:
            raise ValueError(f"unknown descriptor_version {self.descriptor_version}")
        if known.kind != kind:
            raise ValueError(f"descriptor_version {self.descriptor_version} is a {known.kind} version, not {kind}")
        if len(self.vector) != known.dimensions:
            raise ValueError(f"descriptor_version {self.descriptor_version} has {known.dimensions} dimensions, "
                             f"got {len(self.vector)}")
        return self


class LunaEvent(Body):
    """A stored LUNA event: immutable, one per detected face and/or body of a person (face and body of one
    person share an event). ``end_time`` is ``create_time`` when not given; ``insert_time`` is set by the store.
    Saving an ``event_id`` again replaces the event (a retried handler does not duplicate it)."""

    event_id: UUID
    account_id: UUID
    create_time: datetime
    end_time: datetime | None = None
    insert_time: datetime | None = Field(default=None, description="Set by the store when saved.")
    external_id: str = Field("", max_length=36)
    handler_id: UUID | None = None
    stream_id: UUID | None = None
    source: str | None = Field(default=None, max_length=128)
    tags: list[str] | None = Field(default=None, max_length=MAX_TAGS)
    user_data: str = Field("", max_length=128)
    location: Location | None = None
    meta: dict[str, Any] | None = Field(default=None, description="User's JSON, at most 2 MB.")
    track_id: TrackId | None = None
    face_id: UUID | None = None
    attach_result: list[AttachResult] = Field(default_factory=list)
    top_match: TopMatch | None = None
    match_result: list[MatchResult] | None = None
    face_detections: list[EventDetection] | None = None
    body_detections: list[EventDetection] | None = None
    gender: Gender | None = None
    age: int | None = Field(default=None, ge=0, le=255)
    emotion: Emotion | None = None
    ethnic_group: EthnicGroup | None = None
    mask: Mask | None = None
    liveness: Liveness | None = None
    deepfake: Deepfake | None = None
    body_basic_attributes: BodyBasicAttributes | None = None
    upper_body: dict[str, Any] | None = None
    lower_body: dict[str, Any] | None = None
    accessories: dict[str, Any] | None = None
    face_descriptor: EventDescriptor | None = None
    body_descriptor: EventDescriptor | None = None

    @model_validator(mode="after")
    def _consistent(self) -> LunaEvent:
        _tags(self.tags)
        if self.end_time is None:
            self.end_time = self.create_time
        for moment in (self.create_time, self.end_time):
            if not EARLIEST <= moment.replace(tzinfo=moment.tzinfo or UTC) <= LATEST:
                raise ValueError(f"event times are {EARLIEST.year}..{LATEST.year}, not {moment.isoformat()}")
        if self.face_descriptor is not None:
            self.face_descriptor.check("face")
        if self.body_descriptor is not None:
            self.body_descriptor.check("body")
        return self

    def shown(self) -> dict[str, Any]:
        """The event as GET /events shows it: every LUNA field, no descriptors, times in RFC 3339."""
        return self.model_dump(mode="json", exclude={"face_descriptor", "body_descriptor", "insert_time"})


# -- save event (LUNA's "save event" body, the shape of a handler's output event) ---------------------
class RawSample(Message):
    """``detections[].samples.face`` / ``.body``: the detection and its stored sample."""

    sample_id: str | None = Field(default=None, max_length=36)
    detection: DetectionBox | None = None
    url: str | None = None


class RawSamples(Message):
    """``detections[].samples``: the face and the body of one image."""

    face: RawSample | None = None
    body: RawSample | None = None


class RawDetection(Message):
    """One item of ``detections``: one image's face and/or body of the person."""

    detect_time: datetime | None = None
    detect_ts: float | None = Field(default=None, ge=0)
    image_origin: str | None = Field(default=None, max_length=256)
    filename: str | None = None
    samples: RawSamples = Field(default_factory=RawSamples)


class RawFace(Message):
    """``face``: the face made of the event (LUNA's face object; ``lists`` become ``attach_result``)."""

    face_id: UUID
    external_id: str | None = None
    lists: list[UUID] = Field(default_factory=list, max_length=256)


class Ethnicities(Message):
    """``basic_attributes.ethnicities``: the predominant one becomes ``ethnic_group``."""

    predominant_ethnicity: Literal["african_american", "indian", "asian", "caucasian"] | None = None
    estimations: dict[str, float] | None = None


class RawBasicAttributes(Message):
    """``face_attributes.basic_attributes``: age, gender (0 female, 1 male), ethnicities."""

    age: int | None = Field(default=None, ge=0, le=255)
    gender: Gender | None = None
    ethnicities: Ethnicities | None = None


class RawFaceAttributes(Message):
    """``face_attributes``: basic attributes and, as Selene accepts them, the face descriptor
    (``descriptor``: raw Base64 with its version, or ``sdk_descriptor``: SDK-like Base64)."""

    basic_attributes: RawBasicAttributes | None = None
    descriptor: RawDescriptor | None = None
    sdk_descriptor: str | None = Field(default=None, min_length=1)


class RawBodyAttributes(Message):
    """``body_attributes``: body basic attributes, clothing and the body descriptor."""

    basic_attributes: BodyBasicAttributes | None = None
    upper_body: dict[str, Any] | None = None
    lower_body: dict[str, Any] | None = None
    accessories: dict[str, Any] | None = None
    descriptor: RawDescriptor | None = None
    sdk_descriptor: str | None = Field(default=None, min_length=1)


class RawEvent(Body):
    """LUNA's "save event" body: an event built outside Selene, shaped as a handler's output event.

    Estimations by name (``aggregate_estimations.face.attributes`` with ``emotions.predominant_emotion``,
    ``mask.predominant_mask``, ``liveness.prediction``, ``deepfake.prediction``) become the event's codes.
    """

    detections: list[RawDetection] = Field(default_factory=list, max_length=MAX_RAW_EVENT_DETECTIONS)
    source: str | None = Field(default=None, max_length=128)
    stream_id: UUID | None = None
    location: Location | None = None
    external_id: str = Field("", max_length=36)
    user_data: str = Field("", max_length=128)
    track_id: TrackId | None = None
    face: RawFace | None = None
    matches: list[MatchResult] | None = Field(default=None, max_length=MAX_RAW_EVENT_ARRAYS)
    face_attributes: RawFaceAttributes | None = None
    body_attributes: RawBodyAttributes | None = None
    aggregate_estimations: dict[str, Any] | None = None
    tags: list[str] | None = Field(default=None, max_length=MAX_TAGS)
    create_time: datetime | None = None
    end_time: datetime | None = None
    meta: dict[str, Any] | None = None

    @model_validator(mode="after")
    def _tags_ok(self) -> RawEvent:
        _tags(self.tags)
        return self

    def estimation(self, kind: str, name: str, key: str) -> str | None:
        """``aggregate_estimations.<kind>.attributes.<name>.<key>``, if given as text."""
        found: Any = (self.aggregate_estimations or {}).get(kind, {})
        for part in ("attributes", name, key):
            found = found.get(part) if isinstance(found, dict) else None
        return found if isinstance(found, str) else None


def _descriptor(attributes: RawFaceAttributes | RawBodyAttributes | None) -> EventDescriptor | None:
    if attributes is None or (attributes.descriptor is None and attributes.sdk_descriptor is None):
        return None
    version, vector = decode_descriptor(attributes.descriptor or attributes.sdk_descriptor or "")
    return EventDescriptor(vector=vector.tolist(), descriptor_version=version)


def _top_match(matches: list[MatchResult] | None) -> TopMatch | None:
    best: tuple[MatchResult, MatchCandidate] | None = None
    for result in matches or []:
        for candidate in result.candidates:
            if best is None or candidate.similarity > best[1].similarity:
                best = (result, candidate)
    if best is None:
        return None
    result, candidate = best
    found = candidate.face or candidate.event or {}
    key = "face_id" if candidate.face is not None else "event_id"
    external = found.get("external_id")
    return TopMatch(label=result.label, similarity=candidate.similarity, **{key: found.get(key)},
                    external_id=external if isinstance(external, str) else None)


def _detections(raw: RawEvent, kind: Literal["face", "body"], now: datetime) -> list[EventDetection] | None:
    found = []
    for detection in raw.detections:
        sample = getattr(detection.samples, kind)
        if sample is not None:
            found.append(EventDetection(
                detect_time=detection.detect_time or raw.create_time or now, detect_ts=detection.detect_ts,
                image_origin=detection.image_origin, sample_id=sample.sample_id, detection=sample.detection,
            ))
    return found or None


def _code(table: dict[str, int], name: str | None) -> Any:
    return table.get(name) if name is not None else None


def event_of_raw(raw: RawEvent, account_id: UUID, event_id: UUID, handler_id: UUID | None, now: datetime) -> LunaEvent:
    """The stored event a "save event" body makes; descriptors decoded (LUNA's errors: 12034, 12036, 18001)."""
    basic = raw.face_attributes.basic_attributes if raw.face_attributes else None
    ethnicity = basic.ethnicities.predominant_ethnicity if basic and basic.ethnicities else None
    body = raw.body_attributes
    return LunaEvent(
        event_id=event_id, account_id=account_id, handler_id=handler_id,
        create_time=raw.create_time or now, end_time=raw.end_time,
        external_id=raw.external_id, stream_id=raw.stream_id, source=raw.source, tags=raw.tags,
        user_data=raw.user_data, location=raw.location, meta=raw.meta, track_id=raw.track_id,
        face_id=raw.face.face_id if raw.face else None,
        attach_result=[AttachResult(list_id=i) for i in raw.face.lists] if raw.face else [],
        top_match=_top_match(raw.matches), match_result=raw.matches,
        face_detections=_detections(raw, "face", now), body_detections=_detections(raw, "body", now),
        gender=basic.gender if basic else None, age=basic.age if basic else None,
        ethnic_group=_code(ETHNIC_GROUPS, ethnicity),
        emotion=_code(EMOTIONS, raw.estimation("face", "emotions", "predominant_emotion")),
        mask=_code(MASKS, raw.estimation("face", "mask", "predominant_mask")),
        liveness=_code(LIVENESS, raw.estimation("face", "liveness", "prediction")),
        deepfake=_code(DEEPFAKE, raw.estimation("face", "deepfake", "prediction")),
        body_basic_attributes=body.basic_attributes if body else None,
        upper_body=body.upper_body if body else None, lower_body=body.lower_body if body else None,
        accessories=body.accessories if body else None,
        face_descriptor=_descriptor(raw.face_attributes), body_descriptor=_descriptor(raw.body_attributes),
    )
