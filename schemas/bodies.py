"""LUNA's ``POST /matcher/bodies``: people found by their body descriptor among the events' bodies.

LUNA's candidates are events (``candidate_event``); Selene's are the bodies stored in its body store,
one per event: a human-tracking track's body descriptors (averaged) under the track event's id. A
candidate set is chosen by event filters (``event_ids``, ``stream_ids``, ``track_ids``, ``create_time``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from schemas.base import Body
from schemas.descriptors import DEFAULT_BODY_DESCRIPTOR_VERSION
from schemas.detections import TrackId
from schemas.faces import MAX_CANDIDATE_SETS, MAX_FACE_IDS, MAX_REFERENCES, MAX_RESULT_CANDIDATES, ReferenceId, SdkDescriptorReference


class BodyRawDescriptor(Body):
    """A body descriptor as raw Base64 (little-endian float32) with its version."""

    descriptor: str = Field(min_length=1, description="Base64 of the float32 vector.")
    descriptor_version: int = Field(DEFAULT_BODY_DESCRIPTOR_VERSION, ge=1)


class EventReference(Body):
    """An event's body (a human-tracking track event: the track's averaged body descriptor)."""

    type: Literal["event"]
    id: UUID


class BodyRawDescriptorReference(Body):
    """A raw Base64 body descriptor as the reference."""

    type: Literal["raw_descriptor"]
    id: str = Field(min_length=1, max_length=64, description="Your name for this reference.")
    data: BodyRawDescriptor


class BodyImageReference(Body):
    """Selene extension: a photo (Base64 JPEG/PNG); its largest person is the reference."""

    type: Literal["image"]
    id: str = Field(min_length=1, max_length=64)
    data: str = Field(min_length=1, description="Base64 JPEG/PNG.")


BodyReference = Annotated[
    EventReference | BodyRawDescriptorReference | SdkDescriptorReference | BodyImageReference,
    Field(discriminator="type"),
]


class BodyCandidateFilters(Body):
    """Which events' bodies are candidates; none given: all the account's."""

    event_ids: list[UUID] | None = Field(default=None, max_length=MAX_FACE_IDS)
    stream_ids: list[UUID] | None = Field(default=None, max_length=MAX_FACE_IDS)
    track_ids: list[TrackId] | None = Field(default=None, max_length=MAX_FACE_IDS)
    create_time__gte: datetime | None = None
    create_time__lt: datetime | None = None


class BodyCandidates(Body):
    """One candidate set: events chosen by ``filters``; the best ``limit`` at ``threshold`` or above."""

    filters: BodyCandidateFilters = Field(default_factory=BodyCandidateFilters)
    target: Literal["events"] = "events"
    limit: int = Field(3, ge=1, description=f"At most {MAX_RESULT_CANDIDATES} (31007 above).")
    threshold: float = Field(0.0, ge=0, le=1)


class BodyMatchRequest(Body):
    """``POST /matcher/bodies``."""

    references: list[BodyReference] = Field(min_length=1, max_length=MAX_REFERENCES)
    candidates: list[BodyCandidates] = Field(min_length=1, max_length=MAX_CANDIDATE_SETS)


class MatchedEvent(Body):
    """The event a matching body belongs to: where and when that person was seen."""

    event_id: UUID
    account_id: UUID
    create_time: datetime
    stream_id: UUID | None
    track_id: str | None


class BodyMatch(Body):
    """One candidate event and its body's similarity to the reference."""

    event: MatchedEvent
    similarity: float = Field(ge=0, le=1)


class BodyCandidateSetResult(Body):
    """One candidate set's results, best first."""

    filters: BodyCandidateFilters
    result: list[BodyMatch]


class BodyReferenceMatches(Body):
    """LUNA's matching result for one reference: one entry per candidate set."""

    reference: ReferenceId
    matches: list[BodyCandidateSetResult]
