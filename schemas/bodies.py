"""LUNA's ``POST /matcher/bodies``: people found by their body descriptor among the events.

As in LUNA, the candidates are events (``candidate_event``: LUNA's event filters with ``"origin":
"events"``), here those whose body descriptor is in Milvus: events saved with one (``POST /6/events/raw``,
handlers) and human tracking's ended tracks with the ``body_descriptor`` target.
"""

from __future__ import annotations

from typing import Annotated, Literal
from uuid import UUID

from pydantic import Field

from schemas.base import Body
from schemas.descriptors import DEFAULT_BODY_DESCRIPTOR_VERSION
from schemas.faces import (
    MAX_CANDIDATE_SETS,
    MAX_REFERENCES,
    EventCandidates,
    EventCandidateSetResult,
    ReferenceId,
    SdkDescriptorReference,
)


class BodyRawDescriptor(Body):
    """A body descriptor as raw Base64 (little-endian float32) with its version."""

    descriptor: str = Field(min_length=1, description="Base64 of the float32 vector.")
    descriptor_version: int = Field(DEFAULT_BODY_DESCRIPTOR_VERSION, ge=1)


class BodyEventReference(Body):
    """A stored event's body descriptor as the reference."""

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
    BodyEventReference | BodyRawDescriptorReference | SdkDescriptorReference | BodyImageReference,
    Field(discriminator="type"),
]


class BodyMatchRequest(Body):
    """``POST /matcher/bodies``: each reference against each candidate set of events."""

    references: list[BodyReference] = Field(min_length=1, max_length=MAX_REFERENCES)
    candidates: list[EventCandidates] = Field(min_length=1, max_length=MAX_CANDIDATE_SETS)


class BodyReferenceMatches(Body):
    """LUNA's matching result for one reference: one entry per candidate set, best events first."""

    reference: ReferenceId
    matches: list[EventCandidateSetResult]
