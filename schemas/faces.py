"""Faces, lists and matching in LUNA's REST shapes (API v6 ``faces``, ``lists`` and ``matcher`` tags).

Similarity is in [0, 1]; how a descriptor distance maps to it is ``schemas.descriptors.similarity``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import Discriminator, Field, Tag, model_validator

from schemas.base import Body
from schemas.descriptors import DEFAULT_FACE_DESCRIPTOR_VERSION

MAX_REFERENCES = 30  # LUNA's match.reference_limit
MAX_CANDIDATE_SETS = 30  # match.candidate_limit
MAX_RESULT_CANDIDATES = 100  # match.result_candidate_limit: a larger `limit` is error 31007
MAX_FACE_IDS = 1000  # match.array_filter_limit


class RawDescriptor(Body):
    """A descriptor as raw Base64 (little-endian float32) with its version."""

    descriptor: str = Field(min_length=1, description="Base64 of the float32 vector.")
    descriptor_version: int = Field(DEFAULT_FACE_DESCRIPTOR_VERSION, ge=1)


class FaceCreate(Body):
    """Create a face from a descriptor (raw or SDK-like) or from an image (detect, extract, create).

    Exactly one of ``descriptor``, ``sdk_descriptor`` and ``image`` is given. An image must show exactly
    one face (or the largest one is taken with ``multiface_policy`` 2)."""

    descriptor: RawDescriptor | None = None
    sdk_descriptor: str | None = Field(default=None, min_length=1, description="SDK-like Base64 descriptor.")
    image: str | None = Field(default=None, min_length=1, description="Base64 JPEG/PNG (Selene extension).")
    multiface_policy: Literal[0, 2] = Field(0, description="0: several faces are an error (11038); 2: take the largest.")
    external_id: str | None = Field(default=None, max_length=36)
    user_data: str = Field("", max_length=128)
    avatar: str = Field("", max_length=256)
    event_id: UUID | None = None
    lists: list[UUID] = Field(default_factory=list, max_length=256)

    @model_validator(mode="after")
    def _one_source(self) -> FaceCreate:
        given = [x for x in (self.descriptor, self.sdk_descriptor, self.image) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of descriptor, sdk_descriptor and image")
        return self


class FaceCreated(Body):
    """LUNA ``createFace``: 201 ``{face_id, url}``."""

    face_id: UUID
    url: str


class Face(Body):
    """LUNA's face: ``account_id, avatar, create_time, event_id, external_id, face_id, lists, user_data``."""

    account_id: UUID
    avatar: str
    create_time: datetime
    event_id: UUID | None
    external_id: str | None
    face_id: UUID
    lists: list[UUID]
    user_data: str
    descriptor_version: int
    descriptor: str | None = Field(default=None, description="Raw Base64, with targets=face_descriptor.")


class FacePatch(Body):
    """``PATCH /faces/{face_id}``: the fields to change."""

    user_data: str | None = Field(default=None, max_length=128)
    external_id: str | None = Field(default=None, max_length=36)
    event_id: UUID | None = None
    avatar: str | None = Field(default=None, max_length=256)


class FacesPage(Body):
    """``GET /faces``: ``{"faces": [...]}``."""

    faces: list[Face]


class FacesCount(Body):
    """``GET /faces/count``: ``{"faces_count": N}``."""

    faces_count: int = Field(ge=0)


class FacesDelete(Body):
    """``DELETE /faces``: the faces to delete."""

    face_ids: list[UUID] = Field(min_length=1, max_length=MAX_FACE_IDS)


class ListCreate(Body):
    """``POST /lists``."""

    user_data: str = Field("", max_length=128)


class ListCreated(Body):
    """LUNA ``createList``: 201 ``{list_id, url}``."""

    list_id: UUID
    url: str


class FaceList(Body):
    """LUNA's list, with the number of faces attached."""

    account_id: UUID
    list_id: UUID
    user_data: str
    create_time: datetime
    last_update_time: datetime
    faces_count: int = Field(0, ge=0)


class ListPatch(Body):
    """``PATCH /lists/{list_id}``: a new ``user_data``."""

    user_data: str = Field(max_length=128)


class ListsPage(Body):
    """``GET /lists``: ``{"lists": [...]}``."""

    lists: list[FaceList]


class ListsCount(Body):
    """``GET /lists/count``: ``{"lists_count": N}``."""

    lists_count: int = Field(ge=0)


class ListsDelete(Body):
    """``DELETE /lists``: the lists to delete."""

    list_ids: list[UUID] = Field(min_length=1, max_length=MAX_FACE_IDS)


class ListFacesPatch(Body):
    """``PATCH /lists/{list_id}/faces``: attach or detach faces."""

    action: Literal["attach", "detach"]
    face_ids: list[UUID] = Field(min_length=1, max_length=MAX_FACE_IDS)


# -- matching ------------------------------------------------------------------------------------
class FaceReference(Body):
    """A stored face as the reference."""

    type: Literal["face"]
    id: UUID


class EventReference(Body):
    """A stored event's face descriptor as the reference."""

    type: Literal["event"]
    id: UUID


class RawDescriptorReference(Body):
    """A raw Base64 descriptor as the reference."""

    type: Literal["raw_descriptor"]
    id: str = Field(min_length=1, max_length=64, description="Your name for this reference.")
    data: RawDescriptor


class SdkDescriptorReference(Body):
    """An SDK-like Base64 descriptor as the reference."""

    type: Literal["sdk_descriptor"]
    id: str = Field(min_length=1, max_length=64)
    data: str = Field(min_length=1, description="SDK-like Base64 descriptor.")


class ImageReference(Body):
    """Selene extension: a photo; its largest face is the reference."""

    type: Literal["image"]
    id: str = Field(min_length=1, max_length=64)
    data: str = Field(min_length=1, description="Base64 JPEG/PNG.")


Reference = Annotated[
    FaceReference | EventReference | RawDescriptorReference | SdkDescriptorReference | ImageReference,
    Field(discriminator="type"),
]


class CandidateFilters(Body):
    """Which faces are candidates: a list, given face ids, or all the account's faces."""

    origin: Literal["faces"] = "faces"
    list_id: UUID | None = None
    face_ids: list[UUID] | None = Field(default=None, max_length=MAX_FACE_IDS)
    account_id: UUID | None = None


class FaceCandidates(Body):
    """One candidate set: faces chosen by ``filters``; the best ``limit`` at ``threshold`` or above."""

    filters: CandidateFilters = Field(default_factory=CandidateFilters)
    target: Literal["faces"] = "faces"
    limit: int = Field(3, ge=1, description=f"At most {MAX_RESULT_CANDIDATES} (31007 above).")
    threshold: float = Field(0.0, ge=0, le=1)


class EventCandidateFilters(Body):
    """Which events are candidates (``"origin": "events"``): LUNA's event filters that event descriptors carry."""

    origin: Literal["events"]
    account_id: UUID | None = None
    event_ids: list[UUID] | None = Field(default=None, max_length=MAX_FACE_IDS)
    handler_ids: list[UUID] | None = Field(default=None, max_length=MAX_FACE_IDS)
    sources: list[str] | None = Field(default=None, max_length=MAX_FACE_IDS)
    stream_ids: list[UUID] | None = Field(default=None, max_length=MAX_FACE_IDS)
    track_ids: list[str] | None = Field(default=None, max_length=MAX_FACE_IDS)
    external_ids: list[str] | None = Field(default=None, max_length=MAX_FACE_IDS)
    user_data: str | None = Field(default=None, max_length=128, description="A substring of the user data.")
    tags: list[str] | None = Field(default=None, max_length=MAX_FACE_IDS, description="The event holds all of them.")
    create_time__gte: datetime | None = None
    create_time__lt: datetime | None = None
    end_time__gte: datetime | None = None
    end_time__lt: datetime | None = None


class EventCandidates(Body):
    """One candidate set of events: their face descriptors, chosen by ``filters``; the best ``limit``."""

    filters: EventCandidateFilters
    limit: int = Field(3, ge=1, description=f"At most {MAX_RESULT_CANDIDATES} (31007 above).")
    threshold: float = Field(0.0, ge=0, le=1)


def _candidates_origin(value: object) -> str:
    if isinstance(value, dict):
        filters = value.get("filters")
        return "events" if isinstance(filters, dict) and filters.get("origin") == "events" else "faces"
    return "events" if isinstance(value, EventCandidates) else "faces"


Candidates = Annotated[
    Annotated[FaceCandidates, Tag("faces")] | Annotated[EventCandidates, Tag("events")],
    Discriminator(_candidates_origin),
]


class FaceMatchRequest(Body):
    """``POST /matcher/faces``."""

    references: list[Reference] = Field(min_length=1, max_length=MAX_REFERENCES)
    candidates: list[Candidates] = Field(min_length=1, max_length=MAX_CANDIDATE_SETS)


class ReferenceId(Body):
    """Which reference a result is for."""

    id: str
    type: str


class FaceMatch(Body):
    """One candidate face and its similarity to the reference."""

    face: Face
    similarity: float = Field(ge=0, le=1)


class CandidateSetResult(Body):
    """One candidate set's results, best first."""

    filters: CandidateFilters
    result: list[FaceMatch]


class EventMatch(Body):
    """One candidate event (LUNA's stored-event shape) and its similarity to the reference."""

    event: dict[str, Any]
    similarity: float = Field(ge=0, le=1)


class EventCandidateSetResult(Body):
    """One candidate set of events' results, best first."""

    filters: EventCandidateFilters
    result: list[EventMatch]


class ReferenceMatches(Body):
    """LUNA's matching result for one reference: one entry per candidate set."""

    reference: ReferenceId
    matches: list[CandidateSetResult | EventCandidateSetResult]


class RawEntity(Body):
    """A descriptor in ``/matcher/raw``: raw (with version) or SDK-like."""

    type: Literal["raw_descriptor", "sdk_descriptor"]
    id: str = Field(min_length=1, max_length=64)
    data: RawDescriptor | str


class RawMatchRequest(Body):
    """``POST /matcher/raw``: every reference against every candidate."""

    references: list[RawEntity] = Field(min_length=1, max_length=MAX_REFERENCES)
    candidates: list[RawEntity] = Field(min_length=1, max_length=MAX_FACE_IDS)


class RawCandidateMatch(Body):
    """One candidate's similarity."""

    candidate_id: str
    similarity: float = Field(ge=0, le=1)


class RawReferenceMatches(Body):
    """One reference's candidates, best first."""

    reference_id: str
    matches: list[RawCandidateMatch]


class RawMatchResponse(Body):
    """LUNA's raw matching response: ``{"matches": [{reference_id, matches}]}``."""

    matches: list[RawReferenceMatches]
