"""Temporary attributes and face attributes in LUNA's shapes (API v6 ``attributes`` and ``face
attributes`` tags): a descriptor, basic attributes and the sample ids they came from.

Selene extracts descriptors (dlib, version 1001); basic attributes (age, gender, ethnicity) are never
estimated (no licensed model: ``extract_basic_attributes=1`` answers 200005), but a client may give its
own in ``POST /6/attributes``, and they are kept as given.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import Field, model_validator

from schemas.base import Body
from schemas.faces import MAX_FACE_IDS, RawDescriptor

MAX_EXTRACTOR_SAMPLES = 8  # LUNA: 1..8 sample ids per /extractor request
ATTRIBUTE_TARGETS = ("create_time", "attribute_id", "account_id", "face_descriptor_samples",
                     "basic_attributes_samples", "face_descriptor", "basic_attributes")
FACE_ATTRIBUTE_TARGETS = ("create_time", "face_descriptor", "basic_attributes", "face_descriptor_samples",
                          "basic_attributes_samples")


class BasicAttributes(Body):
    """LUNA's basic attributes as a client gives them: ``gender`` 0 female, 1 male; ``ethnicity`` 1
    african_american, 2 indian, 3 asian, 4 caucasian."""

    age: int = Field(ge=0, le=200)
    gender: Literal[0, 1]
    ethnicity: int = Field(ge=1, le=4)


class DescriptorData(Body):
    """One descriptor: raw Base64 with its ``version``, or Selene's SDK-like Base64 (version inside)."""

    descriptor: str = Field(min_length=1)
    version: int | None = Field(default=None, ge=1, description="Needed for a raw descriptor; omit for SDK-like.")


class AttributeCreate(Body):
    """``POST /6/attributes``: descriptors and/or basic attributes from outside, with their samples.
    A bare string in ``face_descriptors`` is a raw Base64 descriptor of the default version."""

    face_descriptors: list[DescriptorData | str] | None = Field(default=None, min_length=1, max_length=8)
    face_descriptor_samples: list[UUID] = Field(default_factory=list, max_length=MAX_FACE_IDS)
    basic_attributes: BasicAttributes | None = None
    basic_attributes_samples: list[UUID] = Field(default_factory=list, max_length=MAX_FACE_IDS)

    @model_validator(mode="after")
    def _unique_samples(self) -> AttributeCreate:
        for name in ("face_descriptor_samples", "basic_attributes_samples"):
            values = getattr(self, name)
            if len(set(values)) != len(values):
                raise ValueError(f"{name} must be unique")
        return self


class TemporaryAttribute(Body):
    """A temporary attribute as Redis keeps it for its TTL. ``descriptors``: one per version, raw."""

    attribute_id: UUID
    account_id: UUID
    create_time: datetime
    descriptors: list[RawDescriptor] = Field(default_factory=list)
    basic_attributes: BasicAttributes | None = None
    face_descriptor_samples: list[UUID] = Field(default_factory=list)
    basic_attributes_samples: list[UUID] = Field(default_factory=list)
    score: float | None = Field(default=None, description="The descriptor's quality; null: the model gives none.")


class AttributeCreated(Body):
    """``POST /6/attributes``: 201."""

    attribute_id: UUID
    url: str


class ExtractedAttribute(Body):
    """One ``POST /6/extractor`` result: a temporary attribute made of ``samples``."""

    attribute_id: UUID
    basic_attributes: BasicAttributes | None = None
    samples: list[UUID]
    score: float | None = None
    url: str
    external_url: str


class AttributeOut(Body):
    """A temporary attribute, with the fields its ``targets`` name (all by default)."""

    create_time: datetime | None = None
    attribute_id: UUID | None = None
    account_id: UUID | None = None
    face_descriptor_samples: list[UUID] | None = None
    basic_attributes_samples: list[UUID] | None = None
    face_descriptor: str | None = Field(default=None, description="Raw Base64 of the descriptor_version asked for.")
    descriptor_version: int | None = Field(default=None, description="Selene: the version of face_descriptor.")
    basic_attributes: BasicAttributes | None = None


class AttributesPage(Body):
    """``GET /6/attributes``: the attributes found (an expired or unknown id is left out)."""

    attributes: list[AttributeOut]


class AttributeSamples(Body):
    """``GET .../samples``: the samples an attribute was made of."""

    face_descriptor_samples: list[UUID]
    basic_attributes_samples: list[UUID]


class FaceAttributeRecord(Body):
    """What a face keeps of the attribute it was made of (its descriptor lives with the face)."""

    face_id: UUID
    account_id: UUID
    create_time: datetime
    basic_attributes: BasicAttributes | None = None
    face_descriptor_samples: list[UUID] = Field(default_factory=list)
    basic_attributes_samples: list[UUID] = Field(default_factory=list)


class FaceAttributeOut(Body):
    """A face's attribute, with the fields its ``targets`` name (all by default)."""

    create_time: datetime | None = None
    face_descriptor: str | None = None
    descriptor_version: int | None = None
    basic_attributes: BasicAttributes | None = None
    face_descriptor_samples: list[UUID] | None = None
    basic_attributes_samples: list[UUID] | None = None


class FaceAttributeResponse(Body):
    """``GET /6/faces/{face_id}/attributes``: ``{"attributes": {...}}``."""

    attributes: FaceAttributeOut


class AttributeSet(Body):
    """``PUT /6/faces/{face_id}/attributes`` and ``POST /6/faces`` ``attribute``: a temporary attribute's
    id, or the data itself (as ``POST /6/attributes``)."""

    attribute_id: UUID | None = None
    face_descriptors: list[DescriptorData | str] | None = Field(default=None, min_length=1, max_length=8)
    face_descriptor_samples: list[UUID] = Field(default_factory=list, max_length=MAX_FACE_IDS)
    basic_attributes: BasicAttributes | None = None
    basic_attributes_samples: list[UUID] = Field(default_factory=list, max_length=MAX_FACE_IDS)

    @model_validator(mode="after")
    def _one_way(self) -> AttributeSet:
        given = self.face_descriptors is not None or self.basic_attributes is not None
        if (self.attribute_id is None) == (not given):
            raise ValueError("give either attribute_id or face_descriptors / basic_attributes")
        if self.attribute_id is not None and (self.face_descriptor_samples or self.basic_attributes_samples):
            raise ValueError("samples come with the attribute given by attribute_id")
        return self

    def data(self) -> AttributeCreate:
        return AttributeCreate(
            face_descriptors=self.face_descriptors, face_descriptor_samples=self.face_descriptor_samples,
            basic_attributes=self.basic_attributes, basic_attributes_samples=self.basic_attributes_samples,
        )


class FaceFromAttribute(Body):
    """``POST /6/faces`` with LUNA's ``attribute``: a face made of a temporary attribute (by id) or of
    descriptors given outright; the face's other fields as in ``FaceCreate``."""

    attribute: AttributeSet
    external_id: str | None = Field(default=None, max_length=36)
    user_data: str = Field("", max_length=128)
    avatar: str = Field("", max_length=256)
    event_id: UUID | None = None
    lists: list[UUID] = Field(default_factory=list, max_length=256)
