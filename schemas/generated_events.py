"""LUNA's ``generate events`` response (``POST /6/handlers/{handler_id}/events``, digest §3.2): the events
made, each input's status, and the detections a policy filtered out."""

from __future__ import annotations

from typing import Any, Literal
from uuid import UUID

from pydantic import Field

from schemas.base import Body
from schemas.detector import FilteredDetections
from schemas.errors import ErrorBody
from schemas.faces import Face
from schemas.streams import Location


class SampleOut(Body):
    """``detections[].samples.face`` / ``.body``: the detection as /6/sdk shows it, and its stored sample
    (``sample_id`` and ``url`` null when the sample policy did not store it)."""

    detection: dict[str, Any]
    sample_id: UUID | None = None
    url: str | None = None


class SamplesOut(Body):
    """One person's face and body samples in one image."""

    face: SampleOut | None = None
    body: SampleOut | None = None


class DetectionOut(Body):
    """One image's face and/or body of the event's person."""

    filename: str
    detect_time: str = Field(description="RFC 3339.")
    detect_ts: float | None = None
    image_origin: str | None = None
    samples: SamplesOut


class FaceAttributesOut(Body):
    """``face_attributes``: the temporary attribute of the event's face (``attribute_id`` and ``url`` null
    unless the attribute policy stored it). No basic attributes: Selene has no model for them."""

    attribute_id: UUID | None = None
    basic_attributes: dict[str, Any] | None = None
    samples: list[UUID] = Field(default_factory=list)
    score: float | None = Field(None, description="Descriptor quality; null: dlib descriptors have none.")
    url: str | None = None


class CandidateOut(Body):
    """A candidate face, or a candidate event in LUNA's stored-event shape."""

    face: Face | None = None
    event: dict[str, Any] | None = None
    similarity: float = Field(ge=0, le=1)


class MatchOut(Body):
    """One match policy's best candidates, best first."""

    label: str
    candidates: list[CandidateOut]


class GeneratedEvent(Body):
    """One event: a person's face and/or body over the request's images, with its matches, tags and what was stored."""

    event_id: UUID
    url: str
    external_id: str
    user_data: str
    source: str | None
    stream_id: UUID | None
    track_id: str | None
    tags: list[str]
    location: Location
    meta: dict[str, Any] | None
    face: Face | None = Field(description="The face the face policy created, or null.")
    face_id: UUID | None
    face_attributes: FaceAttributesOut | None
    body_attributes: dict[str, Any] | None = None
    aggregate_estimations: dict[str, Any] | None = None
    detections: list[DetectionOut]
    matches: list[MatchOut]


class ImageResult(Body):
    """One input's result: ``status`` 1 and success, or 0 and why it could not be used."""

    filename: str
    status: Literal[0, 1]
    error: ErrorBody
    image_estimations: dict[str, Any] = Field(default_factory=dict)


class GeneratedEvents(Body):
    """The response: 201 ``{events, images, filtered_detections}``."""

    events: list[GeneratedEvent]
    images: list[ImageResult]
    filtered_detections: FilteredDetections = Field(default_factory=FilteredDetections, description=(
        "Faces a detect policy filter left out (head-pose thresholds), with their filter_reasons."))
