"""Descriptors (face and body feature vectors) and Selene's descriptor version numbers.

LUNA numbers its neural networks' descriptor versions (face 54..65, body 102..116) and refuses to
compare descriptors of different versions. Selene's networks are not LUNA's, so Selene numbers them in
its own ranges, which never collide with LUNA's: 1000s for face models, 2000s for body models. A new
model (or a retrained one) gets a new number; descriptors of different versions are never compared.
"""

from __future__ import annotations

import base64
import binascii
import struct
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID, uuid4

from pydantic import Field, field_validator, model_validator

from schemas.base import Body, Message
from schemas.detections import TrackId

DescriptorKind = Literal["face", "body"]


@dataclass(frozen=True)
class DescriptorVersion:
    """What a descriptor version number stands for."""

    version: int
    kind: DescriptorKind
    dimensions: int
    metric: Literal["euclidean", "cosine"]
    model: str
    trained_for_reid: bool


FACE_DLIB_RESNET_128 = 1001  # dlib ResNet, 128-D, Euclidean (usual match distance 0.6); CC0
FACE_HSE_FACERES_1024 = 1002  # HSE FaceRes, 1024-D
BODY_MOBILENETV2_1280 = 2001  # ImageNet MobileNetV2 bottleneck, 1280-D, L2-normalised; not a ReID model

DESCRIPTOR_VERSIONS: dict[int, DescriptorVersion] = {
    v.version: v
    for v in (
        DescriptorVersion(FACE_DLIB_RESNET_128, "face", 128, "euclidean", "dlib_resnet_v1", True),
        DescriptorVersion(FACE_HSE_FACERES_1024, "face", 1024, "cosine", "hse_faceres", True),
        DescriptorVersion(BODY_MOBILENETV2_1280, "body", 1280, "cosine", "mobilenetv2_bottle", False),
    )
}
DEFAULT_FACE_DESCRIPTOR_VERSION = FACE_DLIB_RESNET_128
DEFAULT_BODY_DESCRIPTOR_VERSION = BODY_MOBILENETV2_1280
EUCLIDEAN_SCALE = 1.2  # twice dlib's same-person distance 0.6


def similarity(distance: float, version: int) -> float:
    """LUNA-style similarity in [0, 1] (1: identical) from the distance between two descriptors of ``version``.

    - Euclidean versions (dlib 1001): ``distance`` is the plain (not squared) Euclidean distance and
      ``similarity = max(0, 1 - distance / 1.2)``: dlib's usual same-person distance 0.6 maps to 0.5,
      identical descriptors to 1, anything 1.2 or further apart to 0.
    - Cosine versions: ``distance`` is the cosine distance ``1 - cos`` and ``similarity = (1 + cos) / 2``
      (that is ``1 - distance / 2``): opposite vectors 0, orthogonal 0.5, same direction 1.
    """
    known = DESCRIPTOR_VERSIONS.get(version)
    if known is None:
        raise ValueError(f"unknown descriptor_version {version}")
    if known.metric == "euclidean":
        return max(0.0, 1.0 - distance / EUCLIDEAN_SCALE)
    return min(1.0, max(0.0, 1.0 - distance / 2.0))


def _check_version(kind: str, version: int, dimensions: int | None) -> None:
    known = DESCRIPTOR_VERSIONS.get(version)
    if known is None:
        return
    if known.kind != kind:
        raise ValueError(f"descriptor_version {version} is a {known.kind} version, not {kind}")
    if dimensions is not None and dimensions != known.dimensions:
        raise ValueError(f"descriptor_version {version} has {known.dimensions} dimensions, got {dimensions}")


class Descriptor(Message):
    """A descriptor on topic ``selene.descriptors``, bound for the vector store (Milvus)."""

    descriptor_id: UUID = Field(default_factory=uuid4)
    kind: DescriptorKind
    descriptor_version: int = Field(ge=1, description="See DESCRIPTOR_VERSIONS.")
    vector: list[float] = Field(min_length=1)
    account_id: UUID
    stream_id: UUID | None = None
    track_id: TrackId | None = None
    event_id: UUID | None = None
    create_time: datetime
    trained_for_reid: bool = Field(
        default=False, description="False for generic image features: similarity there is weak evidence."
    )

    @model_validator(mode="after")
    def _version(self) -> Descriptor:
        _check_version(self.kind, self.descriptor_version, len(self.vector))
        return self

    def to_sdk(self) -> SdkDescriptor:
        return SdkDescriptor.from_vector(self.vector, self.descriptor_version, self.kind)


class SdkDescriptor(Body):
    """A descriptor in REST bodies and general events (LUNA's "SDK format" slot).

    LUNA's SDK format is its own binary layout; for Selene's versions ``descriptor`` is the vector as
    little-endian float32, base64-encoded. Descriptors of other versions are kept as given.
    """

    descriptor: str = Field(min_length=1, description="Base64 of the descriptor bytes.")
    descriptor_version: int = Field(ge=1)
    descriptor_type: DescriptorKind

    @field_validator("descriptor")
    @classmethod
    def _base64(cls, value: str) -> str:
        try:
            base64.b64decode(value, validate=True)
        except binascii.Error as e:
            raise ValueError(f"descriptor is not valid base64: {e}") from None
        return value

    @model_validator(mode="after")
    def _version(self) -> SdkDescriptor:
        if self.descriptor_version in DESCRIPTOR_VERSIONS:
            size = len(base64.b64decode(self.descriptor))
            if size % 4:
                raise ValueError(f"descriptor of {size} bytes is not a float32 vector")
            _check_version(self.descriptor_type, self.descriptor_version, size // 4)
        return self

    @classmethod
    def from_vector(cls, vector: list[float], version: int, kind: DescriptorKind) -> SdkDescriptor:
        raw = struct.pack(f"<{len(vector)}f", *vector)
        encoded = base64.b64encode(raw).decode("ascii")
        return cls(descriptor=encoded, descriptor_version=version, descriptor_type=kind)

    def vector(self) -> list[float]:
        """The float32 vector (Selene versions only)."""
        if self.descriptor_version not in DESCRIPTOR_VERSIONS:
            raise ValueError(f"descriptor_version {self.descriptor_version} is not a Selene version")
        raw = base64.b64decode(self.descriptor)
        return list(struct.unpack(f"<{len(raw) // 4}f", raw))
